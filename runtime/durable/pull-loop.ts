/**
 * A bounded pull loop over one durable JetStream pull consumer, shared by job runners, durable
 * event subscribers and reminder runners: it never holds more than `capacity` messages (load
 * leveling: what it cannot take yet stays in the stream), pauses while `paused()` says so (an open
 * circuit), keeps the messages it holds alive with in-progress acks, and on `stop()` stops
 * pulling, waits for the messages it holds, then hands the rest back (Nak) for redelivery.
 *
 * Pull sizing: one pull is outstanding at a time, asking for the free slots. Under load every pull
 * is answered at once, so asking as soon as one slot frees up would mean one pull request per
 * message; instead a pull goes out once a quarter of the capacity is free, or after
 * {@link SMALL_PULL_DELAY_MS} for fewer slots (so long-running work never leaves slots idle).
 *
 * @example
 * ```ts
 * const loop = new PullLoop(q, logger, { stream, durable, capacity: 16, pullExpiresMs: 5000,
 *   ackWaitMs: 30_000, handle: async (m) => { await work(m); m.ack(); } });
 * loop.start();
 * await loop.stop(30_000);
 * ```
 */
import { failureKind, type LogFields, type Logger, repeatsOf } from "../log.js";
import { fullJitterDelayMs } from "../resilience/index.js";
import type { JetStreamPuller, JetStreamQueues, PullError, QueueMessage } from "../transport/index.js";

export interface PullLoopOptions {
  readonly stream: string;
  readonly durable: string;
  /** Messages held at once (received, not yet settled). */
  readonly capacity: number;
  /** How long one pull waits for messages. */
  readonly pullExpiresMs: number;
  /**
   * The consumer's AckWait: a message held for a third of it gets an in-progress ack (and again
   * after as long; checked every sixth, so the gap never exceeds half of it), so the server does
   * not redeliver what is still being handled.
   */
  readonly ackWaitMs: number;
  /** Settles one message (ack, nak or term). Must not throw. */
  readonly handle: (m: QueueMessage) => Promise<void>;
  /** While true, nothing is pulled (checked before every pull). */
  readonly paused?: () => boolean;
  /** Added to the loop's log lines. */
  readonly logFields?: LogFields;
}

/** Fewer free slots than a quarter of the capacity are pulled for after this delay. */
export const SMALL_PULL_DELAY_MS = 10;
/** Re-check of `paused()` while it holds. */
const PAUSED_RECHECK_MS = 250;

export class PullLoop {
  private heldNow = 0;
  private maxHeldEver = 0;
  private running = false;
  private stopping: Promise<void> | undefined;
  private abandonedFlag = false;
  private failures = 0;
  private puller: JetStreamPuller | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private drained: (() => void) | undefined;
  /**
   * Held messages by stream sequence (so a redelivery of one is recognised), with when each last
   * showed progress (`performance.now()`).
   */
  private readonly inFlight = new Map<number, { readonly m: QueueMessage; since: number }>();
  private readonly refillAt: number;
  private readonly inProgressEveryMs: number;

  constructor(
    private readonly q: JetStreamQueues,
    private readonly logger: Logger,
    private readonly o: PullLoopOptions,
  ) {
    this.refillAt = Math.max(1, Math.ceil(o.capacity / 4));
    this.inProgressEveryMs = Math.max(100, Math.floor(o.ackWaitMs / 3));
  }

  /** Messages held now. */
  get held(): number {
    return this.heldNow;
  }
  /** Most messages ever held at once (never above `capacity`). */
  get maxHeld(): number {
    return this.maxHeldEver;
  }
  /** False once `stop()` was called. */
  get isRunning(): boolean {
    return this.running;
  }
  /**
   * True after a `stop()` that timed out: the messages still being handled were handed back for
   * redelivery, so their handlers must not settle them.
   */
  get abandoned(): boolean {
    return this.abandonedFlag;
  }

  start(): void {
    if (this.running || this.stopping) return;
    this.running = true;
    this.puller = this.q.puller(this.o.stream, this.o.durable, {
      message: (m) => this.onMessage(m),
      ended: (err) => this.onPullEnded(err),
    });
    // Ticks at half the interval: no held message waits more than 1.5 intervals (AckWait / 2) for
    // its next in-progress ack, leaving half of AckWait for a busy event loop.
    this.progressTimer = setInterval(() => this.sendProgress(), this.inProgressEveryMs / 2);
    this.progressTimer.unref();
    this.maybePull();
  }

  /** Stops pulling, waits up to `drainTimeoutMs` for held messages, then naks the rest. Idempotent. */
  stop(drainTimeoutMs: number): Promise<void> {
    this.stopping ??= this.drain(drainTimeoutMs);
    return this.stopping;
  }

  private async drain(drainTimeoutMs: number): Promise<void> {
    this.running = false;
    this.clearWait();
    if (this.heldNow > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        new Promise<boolean>((r) => {
          this.drained = () => r(false);
        }),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), drainTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      this.drained = undefined;
      if (timedOut) {
        this.abandonedFlag = true;
        this.logger.warn("pull loop stopped with messages still being handled: handed back for redelivery", {
          ...this.o.logFields,
          messages: this.inFlight.size,
        });
        for (const { m } of this.inFlight.values()) m.nak(0);
      }
    }
    clearInterval(this.progressTimer);
    this.puller?.close();
  }

  private onMessage(m: QueueMessage): void {
    if (!this.running) {
      // Delivered by a pull that was still open when stop() began: hand it straight back.
      m.nak(0);
      return;
    }
    if (this.inFlight.has(m.streamSeq)) {
      // The server redelivered a message whose first delivery is still being handled here (its
      // in-progress acks came late: an event loop blocked for most of AckWait). Running it again
      // would run it twice at once; the first delivery's ack or nak settles it (the server goes
      // by stream sequence), and this in-progress ack restarts its AckWait meanwhile.
      m.working();
      repeatsOf(this.logger).warn(
        "redelivered while handled",
        "a message was redelivered while still being handled here; not handled twice",
        {
          ...this.o.logFields,
          seq: m.streamSeq,
          deliveryCount: m.deliveryCount,
          ackWaitMs: this.o.ackWaitMs,
        },
      );
      return;
    }
    this.heldNow++;
    if (this.heldNow > this.maxHeldEver) this.maxHeldEver = this.heldNow;
    this.inFlight.set(m.streamSeq, { m, since: performance.now() });
    this.o.handle(m).then(
      () => this.settled(m),
      (err: unknown) => {
        repeatsOf(this.logger).error(
          `handler threw:${failureKind(err)}`,
          "a pulled message's handler threw; it will be redelivered after AckWait",
          {
            ...this.o.logFields,
            seq: m.streamSeq,
            err,
          },
        );
        this.settled(m);
      },
    );
  }

  private settled(m: QueueMessage): void {
    this.inFlight.delete(m.streamSeq);
    this.heldNow--;
    if (this.running) this.maybePull();
    else if (this.heldNow === 0) this.drained?.();
  }

  private onPullEnded(err?: PullError): void {
    if (!err) {
      this.failures = 0;
      this.maybePull();
      return;
    }
    if (!this.running) return;
    this.failures++;
    repeatsOf(this.logger).warn(`pulling failed:${failureKind(err)}`, "pulling messages failed; retrying", {
      ...this.o.logFields,
      err,
      failures: this.failures,
    });
    this.waitThen(fullJitterDelayMs(this.failures, { initialDelayMs: 500, maxDelayMs: 5000 }) + 100);
  }

  /**
   * Sends a pull for the free slots, unless one is outstanding or a wait is pending. Fewer free
   * slots than `refillAt` wait {@link SMALL_PULL_DELAY_MS} first (`allowSmall` is the end of that
   * wait, or of a back-off or pause).
   */
  private maybePull(allowSmall = false): void {
    if (!this.running || this.waitTimer || !this.puller || this.puller.pulling) return;
    const free = this.o.capacity - this.heldNow;
    if (free <= 0) return;
    if (this.o.paused?.()) this.waitThen(PAUSED_RECHECK_MS);
    else if (free < this.refillAt && !allowSmall) this.waitThen(SMALL_PULL_DELAY_MS);
    else this.puller.pull(free, this.o.pullExpiresMs);
  }

  /** Pulls for whatever is free after `ms` (unless something else pulls first). */
  private waitThen(ms: number): void {
    this.waitTimer = setTimeout(() => {
      this.waitTimer = undefined;
      this.maybePull(true);
    }, ms);
  }

  private clearWait(): void {
    clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
  }

  /** In-progress acks for messages held longer than `inProgressEveryMs` since their last sign of life. */
  private sendProgress(): void {
    const now = performance.now();
    for (const held of this.inFlight.values()) {
      if (now - held.since >= this.inProgressEveryMs) {
        held.m.working();
        held.since = now;
      }
    }
  }
}
