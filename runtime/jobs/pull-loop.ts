/**
 * A bounded pull loop over one durable JetStream pull consumer, shared by job runners and durable
 * event subscribers: it never holds more than `capacity` messages (load leveling: what it cannot
 * take yet stays in the stream), pauses while `paused()` says so (an open circuit), and on
 * `stop()` stops pulling, waits for the messages it holds, then hands the rest back (Nak) for
 * redelivery.
 *
 * @example
 * ```ts
 * const loop = new PullLoop(q, logger, { stream, durable, capacity: 16, pullExpiresMs: 5000,
 *   handle: async (m) => { await work(m); await m.ack(); } });
 * loop.start();
 * await loop.stop(30_000);
 * ```
 */
import type { LogFields, Logger } from "../log.js";
import { fullJitterDelayMs } from "../resilience/backoff.js";
import type { JetStreamQueues, PullBatch, QueueMessage } from "../transport/jetstream-queue.js";

export interface PullLoopOptions {
  readonly stream: string;
  readonly durable: string;
  /** Messages held at once (received, not yet settled). */
  readonly capacity: number;
  /** How long one pull waits for messages. */
  readonly pullExpiresMs: number;
  /** Settles one message (ack, nak or term). Must not throw. */
  readonly handle: (m: QueueMessage) => Promise<void>;
  /** While true, nothing is pulled (checked before every pull). */
  readonly paused?: () => boolean;
  /** Added to the loop's log lines. */
  readonly logFields?: LogFields;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class PullLoop {
  private heldNow = 0;
  private maxHeldEver = 0;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private batch: PullBatch | undefined;
  private slotFreed: (() => void) | undefined;
  private readonly inFlight = new Map<QueueMessage, Promise<void>>();
  private abandonedFlag = false;

  constructor(
    private readonly q: JetStreamQueues,
    private readonly logger: Logger,
    private readonly o: PullLoopOptions,
  ) {}

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
    this.running = true;
    this.loop = this.pullLoop();
  }

  /** Stops pulling, waits up to `drainTimeoutMs` for held messages, then naks the rest. Idempotent. */
  async stop(drainTimeoutMs: number): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    this.batch?.stop();
    this.slotFreed?.();
    await this.loop;
    const all = Promise.all(this.inFlight.values());
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), drainTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.abandonedFlag = true;
      this.logger.warn("pull loop stopped with messages still being handled: handed back for redelivery", {
        ...this.o.logFields,
        messages: this.inFlight.size,
      });
      for (const m of this.inFlight.keys()) m.nak(0);
    }
  }

  private async pullLoop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const free = this.o.capacity - this.heldNow;
      if (free <= 0) {
        await new Promise<void>((r) => {
          this.slotFreed = r;
        });
        this.slotFreed = undefined;
        continue;
      }
      if (this.o.paused?.()) {
        await sleep(250);
        continue;
      }
      try {
        this.batch = await this.q.pull(this.o.stream, this.o.durable, free, this.o.pullExpiresMs);
        for await (const m of this.batch) {
          this.heldNow++;
          if (this.heldNow > this.maxHeldEver) this.maxHeldEver = this.heldNow;
          const p = this.o.handle(m).finally(() => {
            this.inFlight.delete(m);
            this.heldNow--;
            this.slotFreed?.();
          });
          this.inFlight.set(m, p);
        }
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        failures++;
        this.logger.warn("pulling messages failed; retrying", { ...this.o.logFields, err, failures });
        await sleep(fullJitterDelayMs(failures, { initialDelayMs: 500, maxDelayMs: 5000 }) + 100);
      } finally {
        this.batch = undefined;
      }
    }
  }
}
