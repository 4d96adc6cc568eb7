/**
 * The reminder runner of a host: for each actor type it serves, a bounded pull loop over the
 * type's reminder consumer. Per message:
 *
 * - not due yet: Nak with delay `min(due - now, maxNakDelayMs)` (the message waits in JetStream,
 *   held by no process; re-checked at least every `maxNakDelayMs`);
 * - its definition was deleted (`unremind`) or replaced (another generation): acked and dropped;
 * - due: calls `receiveReminder(name, info)` through the mesh, so the turn runs on whichever host
 *   owns the actor (in-progress acks while it runs; if this process dies the message is
 *   redelivered after `ackWaitMs`: at-least-once). Then a periodic reminder publishes its next
 *   occurrence (see `nextDueAtMs`: after downtime ONE firing, no backlog) and a one-shot
 *   reminder deletes its definition; then the message is acked. A failed handler is retried
 *   (a new message, full-jitter backoff) up to `maxAttempts`, then that occurrence is given up.
 *
 * @example
 * ```ts
 * const runner = await startReminderRunner(mesh, [Invoice]);
 * host.beforeDrain(() => runner.stop());
 * ```
 */
import type { ActorClass } from "../actor/index.js";
import { actorTypeOf } from "../actor/index.js";
import type { TurnDelivery } from "../durable/index.js";
import { PullLoop } from "../durable/index.js";
import { chainIdle, type InboundInterceptor, interceptTurn } from "../interceptors/index.js";
import { failureKind, type Logger, repeatsOf } from "../log.js";
import type { ReminderNames } from "../messaging/index.js";
import { fullJitterDelayMs } from "../resilience/index.js";
import {
  assertWellFormedHeaders,
  jetStreamQueues,
  type KeyValueBucket,
  type KvRecord,
  type QueueMessage,
  RevisionMismatchError,
} from "../transport/index.js";
import { missedOccurrences, nextDueAtMs, RECEIVE_REMINDER, type ReminderInfo } from "./schedule.js";
import {
  decodeJson,
  ensureReminderStream,
  namesOfReminders,
  publishReminder,
  type ReminderDefinition,
  type ReminderMessage,
  reminderBucket,
  reminderMsgId,
} from "./store.js";
import { Sweeper } from "./sweep.js";

export interface ReminderRunnerOptions {
  /** Reminders of a type this process fires at once. Default 16. */
  capacity?: number;
  /** Redelivery delay after a runner stops acking (its process died). Consumer-wide: last start wins. Default 30 s. */
  ackWaitMs?: number;
  /** Longest Nak delay of a reminder that is not due yet (it is re-checked then). Default 1 h. */
  maxNakDelayMs?: number;
  /** Attempts of one occurrence whose handler fails (first included). Default 5. */
  maxAttempts?: number;
  /** Upper bound of the first retry's delay (full jitter, doubling). Default 1 s. */
  initialDelayMs?: number;
  /** Cap of a retry's delay. Default 30 s. */
  maxDelayMs?: number;
  /** Deadline of one `receiveReminder` turn. Default: the type's `defaultTimeoutMs`, else the mesh's. */
  timeoutMs?: number;
  /** How long one pull waits (min 1 s). Default 5 s. */
  pullExpiresMs?: number;
  /** How long `stop()` waits for running firings before handing them back. Default 30 s. */
  drainTimeoutMs?: number;
  /**
   * How often one of the hosts of a type checks that each of its reminders still has a pending
   * occurrence, and restores one that was lost (see sweep.ts). Default 5 min; 0: this host never
   * sweeps.
   */
  sweepEveryMs?: number;
  /** A reminder set or restored less than this long ago is left to its setter by a sweep. Default 2 min. */
  sweepGraceMs?: number;
}

interface Settings {
  ackWaitMs: number;
  maxNakDelayMs: number;
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number | undefined;
  /** The host's inbound interceptors, around every firing. */
  inbound: readonly InboundInterceptor[];
}

export class ReminderRunner {
  /** @internal Use {@link startReminderRunner}. */
  constructor(
    private readonly loops: TypeLoop[],
    private readonly sweeper: Sweeper | undefined,
    private readonly drainTimeoutMs: number,
  ) {}

  /**
   * Stops pulling and sweeping, waits up to `drainTimeoutMs` for running firings, then hands the
   * rest back. Idempotent.
   */
  async stop(): Promise<void> {
    await Promise.all([...this.loops.map((l) => l.stop(this.drainTimeoutMs)), this.sweeper?.stop()]);
  }
}

/** Starts firing the reminders of `types` in this process. */
export async function startReminderRunner(
  mesh: TurnDelivery,
  types: ActorClass[],
  options: ReminderRunnerOptions = {},
  /** The host's inbound interceptors (kind "reminder"). */
  inbound: readonly InboundInterceptor[] = [],
): Promise<ReminderRunner> {
  const s: Settings = {
    ackWaitMs: options.ackWaitMs ?? 30_000,
    maxNakDelayMs: Math.max(1000, options.maxNakDelayMs ?? 3600_000),
    maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? 5)),
    initialDelayMs: options.initialDelayMs ?? 1000,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    timeoutMs: options.timeoutMs,
    inbound,
  };
  const names = namesOfReminders(mesh);
  const q = jetStreamQueues(mesh.transport);
  const [kv] = await Promise.all([reminderBucket(mesh), ensureReminderStream(mesh)]);
  const loops: TypeLoop[] = [];
  for (const cls of types) {
    const t = actorTypeOf(cls);
    await q.ensurePullConsumer({
      stream: names.stream(),
      durable: names.consumer(t.name),
      filterSubject: names.typeFilter(t.name),
      ackWaitMs: s.ackWaitMs,
      // Reminders that are not due yet wait Nak'ed, and a Nak'ed message counts as awaiting its
      // ack: any finite limit would cap how many reminders a type can have.
      maxAckPending: -1,
    });
    const loop = new TypeLoop(mesh, cls, t.name, t.handlers.has(RECEIVE_REMINDER), s, names, kv);
    loop.pull = new PullLoop(q, mesh.logger, {
      stream: names.stream(),
      durable: names.consumer(t.name),
      capacity: Math.max(1, Math.floor(options.capacity ?? 16)),
      pullExpiresMs: Math.max(1000, options.pullExpiresMs ?? 5000),
      ackWaitMs: s.ackWaitMs,
      handle: (m) => loop.handle(m),
      logFields: { actorType: t.name, queue: names.queueName(t.name) },
    });
    loops.push(loop);
  }
  for (const l of loops) l.pull.start();
  const sweepEveryMs = options.sweepEveryMs ?? 300_000;
  const sweeper =
    sweepEveryMs > 0
      ? new Sweeper(
          mesh,
          kv,
          names,
          loops.map((l) => l.type),
          { everyMs: sweepEveryMs, graceMs: options.sweepGraceMs ?? 120_000 },
        )
      : undefined;
  sweeper?.start();
  return new ReminderRunner(loops, sweeper, options.drainTimeoutMs ?? 30_000);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class TypeLoop {
  pull!: PullLoop;
  private readonly logger: Logger;

  constructor(
    private readonly mesh: TurnDelivery,
    private readonly cls: ActorClass,
    readonly type: string,
    private readonly hasHandler: boolean,
    private readonly s: Settings,
    private readonly names: ReminderNames,
    private readonly kv: KeyValueBucket,
  ) {
    this.logger = mesh.logger;
  }

  stop(drainTimeoutMs: number): Promise<void> {
    return this.pull.stop(drainTimeoutMs);
  }

  /** Settles one delivery. Never throws. */
  async handle(m: QueueMessage): Promise<void> {
    try {
      await this.handleOrThrow(m);
    } catch (err) {
      if (this.pull.abandoned) return;
      repeatsOf(this.logger).warn(
        `reminder failed:${this.type}:${failureKind(err)}`,
        "reminder handling failed; it will be retried",
        { actorType: this.type, err },
      );
      m.nak(fullJitterDelayMs(Math.min(m.deliveryCount, 8), this.s));
    }
  }

  private async handleOrThrow(m: QueueMessage): Promise<void> {
    let r: ReminderMessage;
    try {
      assertWellFormedHeaders(m);
      r = decodeJson<ReminderMessage>(m.data);
      if (typeof r.id !== "string" || typeof r.name !== "string" || typeof r.dueAtMs !== "number") {
        throw new TypeError("not a reminder message");
      }
    } catch (err) {
      repeatsOf(this.logger).error(`malformed reminder:${this.type}`, "malformed reminder message dropped", {
        actorType: this.type,
        err,
      });
      m.term();
      return;
    }
    const key = this.names.key(this.type, r.id, r.name);
    const rec = await this.kv.get(key);
    const def = rec ? decodeJson<ReminderDefinition>(rec.value) : undefined;
    if (!rec || !def || def.generation !== r.generation) {
      m.ack(); // unremind()ed or replaced
      return;
    }
    const waitMs = Math.max(r.dueAtMs, r.notBeforeMs ?? 0) - Date.now();
    if (waitMs > 0) {
      m.nak(Math.min(waitMs, this.s.maxNakDelayMs));
      return;
    }
    if (!this.hasHandler) {
      repeatsOf(this.logger).error(
        `reminder without handler:${this.type}`,
        `reminder dropped: ${this.type} has no ${RECEIVE_REMINDER}(name, info) handler`,
        {
          actorType: this.type,
          actorId: r.id,
          reminder: r.name,
        },
      );
      await this.deleteDefinition(key, rec);
      m.ack();
      return;
    }
    const firedAtMs = Date.now();
    const info: ReminderInfo = {
      dueAtMs: r.dueAtMs,
      firedAtMs,
      missed: missedOccurrences(r.dueAtMs, def.everyMs, firedAtMs),
      attempt: r.attempt,
    };
    const ok = await this.fire(m, r, key, info);
    if (this.pull.abandoned) return;
    if (!ok && r.attempt < this.s.maxAttempts) {
      const delayMs = fullJitterDelayMs(r.attempt, this.s);
      await this.publishWithRetry(
        { ...r, attempt: r.attempt + 1, notBeforeMs: Date.now() + delayMs },
        m.headers ? headersOf(m) : undefined,
      );
    } else if (def.everyMs) {
      const next = nextDueAtMs(r.dueAtMs, def.everyMs, Date.now());
      const { notBeforeMs: _, ...rest } = r;
      await this.publishWithRetry({ ...rest, n: r.n + 1, attempt: 1, dueAtMs: next }, undefined);
    } else {
      await this.deleteDefinition(key, rec);
    }
    if (this.pull.abandoned) return;
    m.ack();
  }

  /** Runs `receiveReminder` as a turn of the actor; false if it failed. */
  private async fire(m: QueueMessage, r: ReminderMessage, key: string, info: ReminderInfo): Promise<boolean> {
    const options = this.s.timeoutMs ? { timeoutMs: this.s.timeoutMs } : {};
    const deliver = () => this.mesh.callActor(this.cls, r.id, RECEIVE_REMINDER, [r.name, info], options);
    const inbound = this.s.inbound;
    const call = chainIdle(inbound)
      ? deliver
      : () =>
          interceptTurn(
            inbound,
            {
              kind: "reminder",
              actorType: this.type,
              actorId: r.id,
              method: RECEIVE_REMINDER,
              headers: m.headers,
              timeoutMs:
                this.s.timeoutMs ?? actorTypeOf(this.cls).defaultTimeoutMs ?? this.mesh.defaultTimeoutMs,
              delivery: {
                subject: m.subject,
                // Later occurrences of a recurring reminder start traces of their own.
                traceHeaders: r.n === 0 || r.attempt > 1 ? m.headers : undefined,
                destination: this.names.queueName(this.type),
                consumer: this.names.consumer(this.type),
                attempt: r.attempt,
                messageId: reminderMsgId(key, r),
              },
            },
            deliver,
          );
    try {
      await call();
      return true;
    } catch (err) {
      const last = r.attempt >= this.s.maxAttempts;
      this.logger[last ? "error" : "warn"](
        last
          ? "reminder handler failed on its last attempt; occurrence given up"
          : "reminder handler failed; retrying",
        { actorType: this.type, actorId: r.id, reminder: r.name, attempt: r.attempt, err },
      );
      return false;
    }
  }

  /** The next message must be stored before the current one is acked; a few quick tries, then throw (Nak). */
  private async publishWithRetry(next: ReminderMessage, headers: Record<string, string> | undefined) {
    for (let i = 1; ; i++) {
      try {
        await publishReminder(this.mesh, next, headers);
        return;
      } catch (err) {
        if (i >= 3 || this.pull.abandoned) throw err;
        await sleep(fullJitterDelayMs(i, { initialDelayMs: 200, maxDelayMs: 2000 }));
      }
    }
  }

  /** Deletes a definition unless it was replaced meanwhile. */
  private async deleteDefinition(key: string, rec: KvRecord): Promise<void> {
    try {
      await this.kv.delete(key, rec.revision);
    } catch (err) {
      if (!(err instanceof RevisionMismatchError)) throw err;
    }
  }
}

function headersOf(m: QueueMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const h = m.headers;
  if (!h) return out;
  for (const k of h.keys()) if (!k.toLowerCase().startsWith("nats-")) out[k] = h.get(k);
  return out;
}
