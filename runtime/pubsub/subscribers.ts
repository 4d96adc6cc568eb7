/**
 * Running the subscriptions of a host's actor types (`@subscribe` methods).
 *
 * Durable subscription (default): a JetStream durable pull consumer `<Type>_<method>` on the
 * events stream, filtered on the server by the pattern's subject. Every subscribing type (method)
 * has its own consumer, so each gets every matching event; the hosts of a type pull from the same
 * consumer, so one of them handles each event. Per event: decode, content filter (rejected events
 * are acked and skipped), `key` → actor id, then the handler runs as a turn of that actor through
 * the mesh's request-reply path (on the host that owns the actor), with in-progress acks while it
 * runs. Failures follow the retry and dead-letter rules of durable jobs (durable/redelivery.ts), per
 * subscriber: a poison event is dead-lettered (to `<prefix>.dlq.<Type>`, recording the
 * subscription) for the subscriber it fails for, the others are unaffected.
 *
 * At an edge site with the hub's events (hub-events.ts), each durable subscription also consumes
 * `<prefix>_hub_events` with a consumer of the same name, skipping its own site's events there.
 *
 * Ephemeral subscription (`durable: false`): a core NATS queue group per type and method;
 * at-most-once: an event published while no host of the type is connected, or whose handler
 * fails, is gone.
 *
 * @example
 * ```ts
 * const subs = await startSubscribers(mesh, [Cart, Mailer], { hostName: "host-1" });
 * await subs.stop();   // before draining the host: stop pulling, let handlers finish
 * ```
 */
import os from "node:os";
import type { ActorClass, AnyActor } from "../actor/index.js";
import { type ActorType, actorTypeOf } from "../actor/index.js";
import {
  deadLetterOf,
  ensureDlqStream,
  HeldBack,
  PullLoop,
  publishDeadLetter,
  type RedeliveryPolicy,
  redeliveryAfterFailedDeadLetter,
  type TurnDelivery,
  throughInbound,
  verdictAfterFailure,
  verdictBeforeAttempt,
} from "../durable/index.js";
import { ConfigurationError, TerminalError, type ThrottledError } from "../errors.js";
import type { InboundInterceptor } from "../interceptors/index.js";
import { failureKind, type Logger, repeatsOf } from "../log.js";
import {
  callerToForward,
  DEFAULT_JOB_TIMEOUT_MS,
  type EventNames,
  encodeJob,
  JobNames,
  jobIdForKey,
  MAX_ACTOR_ID_LENGTH,
} from "../messaging/index.js";
import {
  CircuitOpenError,
  DEFAULT_MAX_DELAY_MS,
  type Resilience,
  resilienceOf,
} from "../resilience/index.js";
import type { InboundMessage, MessageHeaders, SubscriptionHandle } from "../transport/index.js";
import {
  assertWellFormedHeaders,
  ensureDurableConsumer,
  jetStreamQueues,
  type QueueMessage,
} from "../transport/index.js";
import { DeviceNames, decodeDeviceMessage, ensureDeviceStream } from "./devices.js";
import { decodeEvent, type EventInfo } from "./event.js";
import { compileFilter } from "./filter.js";
import { fromSite, hubEventsOf } from "./hub-events.js";
import { type EventStreamOptions, ensureEventsStream, eventNamesOf } from "./streams.js";
import { type SubscriptionSpec, subscriptionsOf } from "./subscribe.js";

export const DEFAULT_SUBSCRIPTION_CAPACITY = 16;
export const DEFAULT_EVENT_MAX_ATTEMPTS = 5;

export interface SubscribersOptions {
  /** Name recorded in dead letters. Default `<hostname>-<pid>`. */
  hostName?: string;
  /** Attempts of an event per subscriber (first included), unless the subscription sets its own. Default 5. */
  maxAttempts?: number;
  /** An event is dead-lettered instead of retried once this long has passed since it was stored. Default 24 h. */
  maxElapsedMs?: number;
  /** Upper bound of the first retry's delay (full jitter, doubling per attempt). Default 1 s. */
  initialDelayMs?: number;
  /** Cap of a retry's delay. Default 30 s. */
  maxDelayMs?: number;
  /** Redelivery delay after a host stops acking (it died). Default 30 s. */
  ackWaitMs?: number;
  /** Events of one subscription a host handles at once, unless the subscription sets its own. Default 16. */
  capacity?: number;
  /** Events of one subscription awaiting their ack, over all hosts of the type. Default 1000. */
  maxAckPending?: number;
  /** How long one pull waits for events (min 1 s). Default 5 s. */
  pullExpiresMs?: number;
  /** How long `stop()` waits for running handlers before handing their events back. Default 30 s. */
  drainTimeoutMs?: number;
  /** Ephemeral subscriptions: events handled at once per subscription; beyond it they are dropped. Default 1000. */
  ephemeralMaxInFlight?: number;
  /**
   * Filter expressions from configuration, by subscription (`"<Type>.<method>"`): replaces the
   * subscription's own filter. E.g. `{ "Mailer.onOrder": "total > 100" }`.
   */
  filters?: Record<string, string>;
  /** Stream settings used if this host creates the events stream. */
  stream?: EventStreamOptions;
  /** Observes every delivery outcome (tests, metrics). Must not throw. */
  onEvent?: (event: SubscriberEvent) => void;
}

export type SubscriberEvent =
  | {
      kind: "handled" | "filtered";
      subscription: string;
      topic: string;
      attempt: number;
      seq: number | undefined;
    }
  | {
      kind: "retry";
      subscription: string;
      topic: string;
      attempt: number;
      seq: number;
      delayMs: number;
      error: unknown;
    }
  | {
      kind: "dead-lettered" | "failed" | "dropped";
      subscription: string;
      topic: string;
      attempt: number;
      seq: number | undefined;
      error: unknown;
    };

export interface SubscriptionStats {
  readonly durable: boolean;
  readonly pattern: string;
  readonly handled: number;
  readonly filtered: number;
  readonly retried: number;
  readonly deadLettered: number;
  /** Ephemeral: handler failures (not retried). */
  readonly failed: number;
  /** Ephemeral: events dropped because `ephemeralMaxInFlight` were running. */
  readonly dropped: number;
  /** Durable: deliveries the inbound chain refused with ThrottledError, handed back to run later. */
  readonly throttled: number;
  readonly held: number;
  readonly maxHeld: number;
}

interface Settings extends RedeliveryPolicy {
  maxAttempts: number;
  ackWaitMs: number;
  capacity: number;
  maxAckPending: number;
  pullExpiresMs: number;
  hostName: string;
  ephemeralMaxInFlight: number;
  onEvent: ((event: SubscriberEvent) => void) | undefined;
  /** The host's inbound interceptors, around every delivery. */
  inbound: readonly InboundInterceptor[];
}

/** The running subscriptions of one host. */
export class Subscribers {
  /** @internal Use {@link startSubscribers}. */
  constructor(
    private readonly subs: Subscription[],
    private readonly drainTimeoutMs: number,
  ) {}

  /** Subscription names (`<Type>_<method>`). */
  get names(): string[] {
    return [...new Set(this.subs.map((s) => s.name))];
  }

  /** A subscription's counts, summed over its streams (at an edge site, also the hub's events). */
  stats(name: string): SubscriptionStats | undefined {
    const all = this.subs.filter((s) => s.name === name).map((s) => s.stats());
    return all.reduce<SubscriptionStats | undefined>(
      (sum, one) => (sum ? addStats(sum, one) : one),
      undefined,
    );
  }

  /** Stops taking events, waits up to `drainTimeoutMs` for running handlers. Idempotent. */
  async stop(): Promise<void> {
    await Promise.all(this.subs.map((s) => s.stop(this.drainTimeoutMs)));
  }
}

/** Starts the `@subscribe` subscriptions of `classes` (types without any are skipped). */
export async function startSubscribers(
  mesh: TurnDelivery,
  classes: ActorClass[],
  options: SubscribersOptions = {},
  /** The host's inbound interceptors (kind "event"). */
  inbound: readonly InboundInterceptor[] = [],
): Promise<Subscribers> {
  const s: Settings = {
    maxAttempts: options.maxAttempts ?? DEFAULT_EVENT_MAX_ATTEMPTS,
    maxElapsedMs: options.maxElapsedMs ?? 24 * 3600_000,
    initialDelayMs: options.initialDelayMs ?? 1000,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
    ackWaitMs: options.ackWaitMs ?? 30_000,
    capacity: options.capacity ?? DEFAULT_SUBSCRIPTION_CAPACITY,
    maxAckPending: options.maxAckPending ?? 1000,
    pullExpiresMs: Math.max(1000, options.pullExpiresMs ?? 5000),
    hostName: options.hostName ?? `${os.hostname()}-${process.pid}`,
    ephemeralMaxInFlight: options.ephemeralMaxInFlight ?? 1000,
    onEvent: options.onEvent,
    inbound,
  };
  const names = eventNamesOf(mesh);
  const planned: { cls: ActorClass; type: ActorType; spec: SubscriptionSpec }[] = [];
  for (const cls of classes) {
    const type = actorTypeOf(cls);
    for (let spec of subscriptionsOf(cls)) {
      if (!type.handlers.has(spec.method)) {
        throw new ConfigurationError(`${type.name}.${spec.method} is subscribed but is not a handler`);
      }
      const configured = options.filters?.[`${type.name}.${spec.method}`];
      if (configured !== undefined) {
        const f = compileFilter(configured);
        spec = { ...spec, filter: f, filterSource: f.source };
      }
      planned.push({ cls, type, spec });
    }
  }
  if (planned.some((p) => p.spec.durable)) {
    await Promise.all([ensureEventsStream(mesh, options.stream), ensureDlqStream(mesh)]);
  }
  // MQTT subscriptions (devices.ts): raw device subjects, stored in the devices stream.
  const mqttFilters = planned.filter((p) => p.spec.mqtt && p.spec.durable).map((p) => p.spec.pattern);
  if (mqttFilters.length) await ensureDeviceStream(mesh, mqttFilters);
  const deviceNames = new DeviceNames(mesh.subjects.prefix);
  const hub = planned.some((p) => p.spec.durable && !p.spec.mqtt) ? await hubEventsOf(mesh) : undefined;
  const subs: Subscription[] = [];
  for (const { cls, type, spec } of planned) {
    const sub = new Subscription(mesh, cls, type, spec, s, spec.mqtt ? deviceNames : names);
    if (spec.durable) await sub.ensureConsumer();
    subs.push(sub);
    if (hub && spec.durable && !spec.mqtt) {
      const fromHub = new Subscription(mesh, cls, type, spec, s, hub.names, hub.domain);
      await fromHub.ensureConsumer();
      subs.push(fromHub);
    }
  }
  for (const sub of subs) sub.start();
  return new Subscribers(subs, options.drainTimeoutMs ?? 30_000);
}

function addStats(a: SubscriptionStats, b: SubscriptionStats): SubscriptionStats {
  return {
    durable: a.durable,
    pattern: a.pattern,
    handled: a.handled + b.handled,
    filtered: a.filtered + b.filtered,
    retried: a.retried + b.retried,
    deadLettered: a.deadLettered + b.deadLettered,
    failed: a.failed + b.failed,
    dropped: a.dropped + b.dropped,
    throttled: a.throttled + b.throttled,
    held: a.held + b.held,
    maxHeld: Math.max(a.maxHeld, b.maxHeld),
  };
}

/** Stream sequences remembered as held back (beyond it the memory starts over). */
const MAX_HELD_BACK = 10_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Description stored on a durable consumer, read back by `troupe subs ls`. */
export const DESCRIPTION_PREFIX = "troupe subscription ";

/** One subscribing method of one type on this host. */
class Subscription {
  readonly name: string;
  private readonly logger: Logger;
  private readonly resilience: Resilience;
  private readonly capacity: number;
  private readonly maxAttempts: number;
  private pull: PullLoop | undefined;
  private ephemeral: SubscriptionHandle | undefined;
  private readonly ephemeralRunning = new Set<Promise<void>>();
  private stopped = false;
  private spread = 0;
  private n = { handled: 0, filtered: 0, retried: 0, deadLettered: 0, failed: 0, dropped: 0, throttled: 0 };
  /** Deliveries held back for throttling, by stream sequence (not attempts). */
  private readonly heldBack = new Map<number, number>();

  constructor(
    private readonly mesh: TurnDelivery,
    private readonly cls: ActorClass,
    private readonly type: ActorType,
    private readonly spec: SubscriptionSpec,
    private readonly s: Settings,
    private readonly names: EventNames,
    /** On the hub's events at an edge site: this site's domain, whose own events are skipped. */
    private readonly ownDomain?: string,
  ) {
    this.name = names.consumer(type.name, spec.method);
    this.logger = mesh.logger;
    this.resilience = resilienceOf(mesh);
    this.capacity = spec.ordered ? 1 : (spec.capacity ?? s.capacity);
    this.maxAttempts = spec.maxAttempts ?? s.maxAttempts;
  }

  /** A Troupe event, or for MQTT subscriptions a device's raw payload (devices.ts). */
  private decode(subject: string, data: Uint8Array, headers: MessageHeaders | undefined): unknown {
    return this.spec.mqtt
      ? decodeDeviceMessage(subject, data, headers, this.spec.mqtt.payload)
      : decodeEvent(data, headers);
  }

  stats(): SubscriptionStats {
    return {
      durable: this.spec.durable,
      pattern: this.spec.pattern,
      ...this.n,
      held: this.pull?.held ?? this.ephemeralRunning.size,
      maxHeld: this.pull?.maxHeld ?? 0,
    };
  }

  async ensureConsumer(): Promise<void> {
    const description = `${DESCRIPTION_PREFIX}${JSON.stringify({
      type: this.type.name,
      method: this.spec.method,
      pattern: this.spec.pattern,
      filter: this.spec.filterSource ?? (this.spec.filter ? "(predicate)" : null),
      keyed: this.spec.key !== undefined,
      ordered: this.spec.ordered,
      startAt: this.spec.startAt,
    })}`;
    await ensureDurableConsumer(this.mesh.transport, {
      stream: this.names.stream(),
      durable: this.name,
      filterSubject: this.names.subject(this.spec.pattern),
      startAt: this.spec.startAt,
      ackWaitMs: this.s.ackWaitMs,
      maxAckPending: this.spec.ordered ? 1 : this.s.maxAckPending,
      description,
    });
  }

  start(): void {
    if (this.spec.durable) {
      this.pull = new PullLoop(jetStreamQueues(this.mesh.transport), this.logger, {
        stream: this.names.stream(),
        durable: this.name,
        capacity: this.capacity,
        pullExpiresMs: this.s.pullExpiresMs,
        paused: () => this.resilience.isOpen(this.type.name),
        ackWaitMs: this.s.ackWaitMs,
        handle: (m) => this.handleDurable(m),
        logFields: { subscription: this.name },
      });
      this.pull.start();
      return;
    }
    this.ephemeral = this.mesh.transport.subscribe(
      this.names.subject(this.spec.pattern),
      { queue: this.names.queueGroup(this.type.name, this.spec.method) },
      (msg) => this.onEphemeral(msg),
    );
  }

  async stop(drainTimeoutMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.pull) await this.pull.stop(drainTimeoutMs);
    if (this.ephemeral) {
      await this.ephemeral.drain().catch(() => undefined);
      await Promise.all(this.ephemeralRunning);
    }
  }

  private emit(e: SubscriberEvent): void {
    try {
      this.s.onEvent?.(e);
    } catch (err) {
      this.logger.warn("subscriber event observer threw", { err });
    }
  }

  /** The actor id that handles `event` (see `SubscribeOptions.key`). Throws TerminalError on a bad key. */
  private actorIdFor(event: unknown, seq: number): string {
    if (this.spec.key) {
      const id = this.spec.key(event);
      if (typeof id !== "string" || id.length === 0 || id.length > MAX_ACTOR_ID_LENGTH) {
        throw new TerminalError(`key of ${this.name} returned ${JSON.stringify(id)}: not an actor id`);
      }
      return id;
    }
    return this.type.stateless ? `${this.spec.method}-${seq % this.capacity}` : this.spec.method;
  }

  /** Runs the handler as a turn of actor `id` (request-reply through the mesh). */
  private async invoke(id: string, event: unknown, info: EventInfo, headers: InboundMessage["headers"]) {
    const caller = callerToForward(headers);
    const opts = {
      ...(this.spec.timeoutMs ? { timeoutMs: this.spec.timeoutMs } : {}),
      ...(caller === undefined ? {} : { caller }),
    };
    const args = [event, info];
    const deliver = () =>
      this.mesh.callActor(this.cls as ActorClass<AnyActor>, id, this.spec.method, args, opts);
    // A throttle's refusal before the turn ran resolves as HeldBack: a durable event is held back.
    const call = throughInbound(
      this.s.inbound,
      () => ({
        kind: "event",
        actorType: this.type.name,
        actorId: id,
        method: this.spec.method,
        headers,
        timeoutMs: this.spec.timeoutMs ?? this.type.defaultTimeoutMs ?? this.mesh.defaultTimeoutMs,
        delivery: {
          subject: this.names.subject(info.topic),
          traceHeaders: headers,
          destination: this.spec.pattern,
          consumer: this.name,
          ...(info.msgId ? { messageId: info.msgId } : {}),
        },
      }),
      deliver,
    );
    for (;;) {
      try {
        const value = await this.resilience.execute(this.type.name, call);
        if (value instanceof HeldBack) throw info.durable ? value : value.throttled;
        return;
      } catch (err) {
        if (!(err instanceof CircuitOpenError) || !info.durable || this.stopped) throw err;
      }
      await sleep(250 + Math.random() * 250);
    }
  }

  private async handleDurable(m: QueueMessage): Promise<void> {
    // Deliveries held back for throttling are not attempts (see holdBack).
    const attempt = Math.max(1, m.deliveryCount - (this.heldBack.get(m.streamSeq) ?? 0));
    const topic = this.names.topicOf(m.subject);
    const base = { subscription: this.name, topic, attempt, seq: m.streamSeq };
    if (this.ownDomain !== undefined && fromSite(m.headers, this.ownDomain)) {
      m.ack(); // this site's own event, back from the hub: handled from the site's events stream
      this.n.filtered++;
      this.emit({ kind: "filtered", ...base });
      return;
    }
    let event: unknown;
    try {
      assertWellFormedHeaders(m);
      event = this.decode(m.subject, m.data, m.headers);
    } catch (err) {
      await this.deadLetter(m, topic, attempt, "malformed", err, undefined);
      return;
    }
    const msgId = m.headers?.has("Nats-Msg-Id") ? m.headers.get("Nats-Msg-Id") : undefined;
    const info: EventInfo = {
      topic,
      subscription: this.name,
      attempt,
      seq: m.streamSeq,
      publishedAtMs: m.storedAtMs,
      ...(msgId ? { msgId } : {}),
      durable: true,
    };
    let id: string;
    try {
      if (this.spec.filter && !this.spec.filter(event)) {
        m.ack();
        this.n.filtered++;
        this.emit({ kind: "filtered", ...base });
        return;
      }
      id = this.actorIdFor(event, m.streamSeq);
    } catch (err) {
      const terminal =
        err instanceof TerminalError
          ? err
          : new TerminalError(`filter or key of ${this.name} threw`, { cause: err });
      await this.deadLetter(m, topic, attempt, "terminal", terminal, undefined);
      return;
    }
    const replay = { id, event, info };
    const early = verdictBeforeAttempt(attempt, this.maxAttempts, m.storedAtMs, this.s);
    if (early?.action === "dead-letter") {
      await this.deadLetter(m, topic, early.attempts, early.reason, early.error, replay);
      return;
    }
    if (attempt === 1 && !this.heldBack.has(m.streamSeq))
      this.resilience.budget(this.type.name).recordAttempt();
    try {
      await this.invoke(id, event, info, m.headers);
    } catch (err) {
      if (this.pull?.abandoned) return;
      if (err instanceof HeldBack) {
        this.holdBack(m, err.throttled, base);
        return;
      }
      const v = verdictAfterFailure(
        err,
        attempt,
        this.maxAttempts,
        m.storedAtMs,
        this.s,
        this.resilience.budget(this.type.name),
      );
      if (v.action === "dead-letter") {
        await this.deadLetter(m, topic, v.attempts, v.reason, err, replay);
        return;
      }
      m.nak(v.delayMs);
      this.n.retried++;
      this.logger.debug("event handler failed; retrying", { ...base, delayMs: v.delayMs, err });
      this.emit({ kind: "retry", ...base, delayMs: v.delayMs, error: err });
      return;
    }
    this.heldBack.delete(m.streamSeq);
    if (this.pull?.abandoned) return;
    m.ack();
    this.n.handled++;
    this.emit({ kind: "handled", ...base });
  }

  /**
   * The inbound chain refused the event with ThrottledError before its turn ran: it waits in the
   * stream (Nak with retryAfterMs plus up to as much again of jitter) instead of failing an attempt.
   * The deliveries held back are remembered in memory by stream sequence: redelivered to another
   * host, they count as attempts there (more attempts, never fewer).
   */
  private holdBack(m: QueueMessage, err: ThrottledError, base: Record<string, unknown>): void {
    if (this.heldBack.size >= MAX_HELD_BACK && !this.heldBack.has(m.streamSeq)) this.heldBack.clear();
    this.heldBack.set(m.streamSeq, (this.heldBack.get(m.streamSeq) ?? 0) + 1);
    const hint = err.retryAfterMs > 0 ? err.retryAfterMs : this.s.initialDelayMs;
    const delayMs = Math.ceil(hint + Math.random() * hint);
    this.n.throttled++;
    this.logger.debug("event throttled; holding it back", { ...base, delayMs });
    m.nak(delayMs);
  }

  /**
   * Dead-letters the event for this subscriber only, then acks it (for this subscriber's consumer:
   * other subscribers have their own). When the actor id is known, the record carries a job that
   * replays the event to this subscriber (`troupe dlq replay`).
   */
  private async deadLetter(
    m: QueueMessage,
    topic: string,
    attempts: number,
    reason: "attempts-exhausted" | "terminal" | "expired" | "malformed",
    err: unknown,
    replay: { id: string; event: unknown; info: EventInfo } | undefined,
  ): Promise<void> {
    const jobs = new JobNames(this.mesh.subjects.prefix);
    let replayJob: { subject: string; data: Uint8Array } | undefined;
    if (replay) {
      const jobId = jobIdForKey(this.type.name, `event:${this.name}:${this.names.stream()}:${m.streamSeq}`);
      replayJob = {
        subject: jobs.jobSubject(this.type.name, jobId),
        data: encodeJob({
          jobId,
          actorId: replay.id,
          method: this.spec.method,
          args: [replay.event, replay.info],
          timeoutMs: this.spec.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS,
          maxAttempts: 0,
          keepResult: false,
        }),
      };
    }
    const record = deadLetterOf(m, {
      source: "event",
      reason,
      type: this.type.name,
      attempts,
      host: this.s.hostName,
      error: err,
      actorId: replay?.id,
      method: this.spec.method,
      subscription: { name: this.name, pattern: this.spec.pattern, topic },
      replay: replayJob,
    });
    try {
      await publishDeadLetter(
        jetStreamQueues(this.mesh.transport),
        jobs,
        record,
        `dlq-${this.names.stream()}-${m.streamSeq}-${this.name}`,
      );
    } catch (publishErr) {
      const again = redeliveryAfterFailedDeadLetter(publishErr, this.s);
      repeatsOf(this.logger).error(
        `dead-lettering failed:${this.name}:${again.tooLarge}`,
        again.tooLarge
          ? "an event too large to dead-letter stays pending for this subscriber; raise the server's max_payload"
          : "dead-lettering an event failed; it will be retried",
        { subscription: this.name, seq: m.streamSeq, err: publishErr },
      );
      m.nak(again.delayMs);
      return;
    }
    m.ack();
    this.n.deadLettered++;
    repeatsOf(this.logger).warn(
      `event dead-lettered:${this.name}:${reason}:${record.error.code}`,
      "event dead-lettered for one subscriber",
      {
        subscription: this.name,
        topic,
        seq: m.streamSeq,
        reason,
        attempts,
        code: record.error.code,
        error: record.error.message,
      },
    );
    this.emit({
      kind: "dead-lettered",
      subscription: this.name,
      topic,
      attempt: attempts,
      seq: m.streamSeq,
      error: err,
    });
  }

  private onEphemeral(msg: InboundMessage): void {
    const topic = this.names.topicOf(msg.subject);
    const base = { subscription: this.name, topic, attempt: 1, seq: undefined };
    if (this.stopped) return;
    if (this.ephemeralRunning.size >= this.s.ephemeralMaxInFlight) {
      this.n.dropped++;
      this.emit({ kind: "dropped", ...base, error: new Error("too many events in flight") });
      return;
    }
    const run = (async () => {
      try {
        assertWellFormedHeaders(msg);
        const event = this.decode(msg.subject, msg.data, msg.headers);
        if (this.spec.filter && !this.spec.filter(event)) {
          this.n.filtered++;
          this.emit({ kind: "filtered", ...base });
          return;
        }
        const msgId = msg.headers?.has("Nats-Msg-Id") ? msg.headers.get("Nats-Msg-Id") : undefined;
        const info: EventInfo = {
          topic,
          subscription: this.name,
          attempt: 1,
          ...(msgId ? { msgId } : {}),
          durable: false,
        };
        await this.invoke(this.actorIdFor(event, this.spread++), event, info, msg.headers);
        this.n.handled++;
        this.emit({ kind: "handled", ...base });
      } catch (err) {
        this.n.failed++;
        repeatsOf(this.logger).warn(
          `ephemeral event failed:${this.name}:${failureKind(err)}`,
          "ephemeral event handler failed; the event is dropped (at-most-once)",
          {
            subscription: this.name,
            topic,
            err,
          },
        );
        this.emit({ kind: "failed", ...base, error: err });
      }
    })();
    this.ephemeralRunning.add(run);
    void run.finally(() => this.ephemeralRunning.delete(run));
  }
}
