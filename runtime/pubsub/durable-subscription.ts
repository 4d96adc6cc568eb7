/**
 * A durable subscription: a JetStream durable pull consumer `<Type>_<method>` on the events stream
 * (or the devices stream, or at an edge site the hub's events), filtered on the server by the
 * pattern's subject. Every subscribing type (method) has its own consumer, so each gets every
 * matching event; the hosts of a type pull from the same consumer, so one of them handles each.
 *
 * Per event: decode, content filter (rejected events are acked and skipped), `key` → actor id,
 * then the handler runs as a turn (subscription.ts) with in-progress acks while it runs. Failures
 * follow the retry and dead-letter rules of durable jobs (durable/redelivery.ts), per subscriber: a
 * poison event is dead-lettered (to `<prefix>.dlq.<Type>`, recording the subscription) for the
 * subscriber it fails for, the others are unaffected. A throttle's refusal holds the event back.
 */
import type { ActorClass, ActorType } from "../actor/index.js";
import {
  deadLetterOf,
  HeldBack,
  PullLoop,
  publishDeadLetter,
  redeliveryAfterFailedDeadLetter,
  type TurnDelivery,
  verdictAfterFailure,
  verdictBeforeAttempt,
} from "../durable/index.js";
import { TerminalError, type ThrottledError } from "../errors.js";
import { repeatsOf } from "../log.js";
import {
  DEFAULT_JOB_TIMEOUT_MS,
  type EventNames,
  encodeJob,
  JobNames,
  jobIdForKey,
} from "../messaging/index.js";
import {
  assertWellFormedHeaders,
  ensureDurableConsumer,
  jetStreamQueues,
  type QueueMessage,
} from "../transport/index.js";
import type { EventInfo } from "./event.js";
import { fromSite } from "./hub-events.js";
import type { SubscriptionSpec } from "./subscribe.js";
import type { SubscriptionSettings, SubscriptionStats } from "./subscriber-options.js";
import { Subscription } from "./subscription.js";

/** Stream sequences remembered as held back (beyond it the memory starts over). */
const MAX_HELD_BACK = 10_000;

/** Description stored on a durable consumer, read back by `troupe subs ls`. */
export const DESCRIPTION_PREFIX = "troupe subscription ";

export class DurableSubscription extends Subscription {
  private readonly maxAttempts: number;
  private pull: PullLoop | undefined;
  /** Deliveries held back for throttling, by stream sequence (not attempts). */
  private readonly heldBack = new Map<number, number>();

  constructor(
    mesh: TurnDelivery,
    cls: ActorClass,
    type: ActorType,
    spec: SubscriptionSpec,
    s: SubscriptionSettings,
    names: EventNames,
    /** On the hub's events at an edge site: this site's domain, whose own events are skipped. */
    private readonly ownDomain?: string,
  ) {
    super(mesh, cls, type, spec, s, names);
    this.maxAttempts = spec.maxAttempts ?? s.maxAttempts;
  }

  stats(): SubscriptionStats {
    return {
      durable: this.spec.durable,
      pattern: this.spec.pattern,
      ...this.n,
      held: this.pull?.held ?? 0,
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
  }

  async stop(drainTimeoutMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.pull) await this.pull.stop(drainTimeoutMs);
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
}
