/**
 * Forwards the outbox's pending entries, oldest first, whenever the connection is up.
 *
 * One batch (`forwardWindow` entries) at a time: the streams its JetStream entries need are created
 * first (once per destination), then every entry is published without waiting for the previous
 * PubAck; the batch settles in order:
 * - acknowledged (or reported a duplicate): done;
 * - refused for good (`link.isPermanent`): dead letter with the server's reason;
 * - any other failure (no PubAck in time, connection lost): this entry and every later JetStream
 *   entry of the batch that was not acknowledged stay pending; forwarding pauses (backoff 0.2 s
 *   doubling to 10 s, or until the connection is back) and resumes from the oldest pending entry.
 *   A resend carries the same msgId, so JetStream drops what it already stored.
 * Core entries (tells, non-durable events) are done once flushed to the server: from there they
 * are what any tell is (at most once).
 * One connection sends a batch in order, so what the server stored of it is a prefix; resending
 * from the first unacknowledged entry keeps each destination's order.
 * Entries older than `ttlMs` become dead letters instead of being sent.
 */
import { errorType } from "../telemetry/index.js";
import { isJetStreamKind, type OutboxEntry, type Preparation } from "./entry.js";
import type { OutboxLink } from "./link.js";
import type { OutboxStore } from "./store.js";

const RETRY_FIRST_MS = 200;
const RETRY_MAX_MS = 10_000;

export interface ForwarderEvents {
  forwarded(count: number): void;
  deadLettered(entry: OutboxEntry, reason: string): void;
  failed(err: unknown): void;
  drained(): void;
}

export class Forwarder {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private readonly prepared = new Set<string>();

  constructor(
    private readonly store: OutboxStore,
    private readonly link: OutboxLink,
    private readonly window: number,
    private readonly ttlMs: number,
    private readonly events: ForwarderEvents,
  ) {}

  /** Forwards soon (coalesces the appends of one tick into one batch). */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  /** Whether a batch is being forwarded now. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Moves expired entries to the dead letters (only between batches: never one being sent). */
  expire(now = Date.now()): void {
    if (this.ttlMs <= 0 || this.running || this.stopped) return;
    let expired = 0;
    for (const entry of this.store.entries()) {
      if (!this.expired(entry, now)) break; // oldest first: the rest are younger
      this.giveUp(entry, this.expiryReason(entry, now));
      expired++;
    }
    if (expired > 0 && this.store.pendingCount === 0) this.events.drained();
  }

  /** Stops forwarding; resolves once the batch in flight settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.running;
  }

  private run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    const hadPending = this.store.pendingCount > 0;
    while (!this.stopped && this.link.connected && this.store.pendingCount > 0) {
      const batch = this.takeBatch();
      if (batch.length === 0) continue;
      if (!(await this.forward(batch))) {
        this.retryLater();
        return;
      }
      this.failures = 0;
    }
    if (hadPending && !this.stopped && this.store.pendingCount === 0) this.events.drained();
  }

  private takeBatch(): OutboxEntry[] {
    const now = Date.now();
    const batch: OutboxEntry[] = [];
    for (const entry of this.store.entries()) {
      if (this.expired(entry, now)) {
        this.giveUp(entry, this.expiryReason(entry, now));
        continue;
      }
      batch.push(entry);
      if (batch.length >= this.window) break;
    }
    return batch;
  }

  /** Sends one batch; false when it must be tried again later. */
  private async forward(batch: OutboxEntry[]): Promise<boolean> {
    try {
      for (const entry of batch) if (entry.prepare) await this.prepare(entry.prepare);
    } catch (err) {
      this.events.failed(err);
      return false;
    }
    let hasCore = false;
    const outcomes: Promise<unknown>[] = batch.map((entry) => {
      if (isJetStreamKind(entry.kind)) {
        return this.link.publishDurable(entry).then(
          () => undefined,
          (err: unknown) => err ?? new Error("publish failed"),
        );
      }
      hasCore = true;
      try {
        this.link.publishCore(entry);
        return Promise.resolve(undefined);
      } catch (err) {
        return Promise.resolve(err ?? new Error("publish failed"));
      }
    });
    const failures = await Promise.all(outcomes);
    let flushed = true;
    if (hasCore) {
      try {
        await this.link.flush();
      } catch (err) {
        flushed = false;
        this.events.failed(err);
      }
    }
    const done: number[] = [];
    let ok = true;
    batch.forEach((entry, i) => {
      const err = failures[i];
      const core = !isJetStreamKind(entry.kind);
      if (err === undefined) {
        if (!core || flushed) done.push(entry.seq);
        else ok = false;
        return;
      }
      if (!core && this.link.isPermanent(err)) {
        this.giveUp(entry, `refused by JetStream: ${describe(err)}`);
        return;
      }
      if (ok) this.events.failed(err);
      ok = false;
    });
    if (done.length > 0) {
      this.store.markDone(done);
      this.events.forwarded(done.length);
    }
    return ok;
  }

  private async prepare(p: Preparation): Promise<void> {
    const key = JSON.stringify(p);
    if (this.prepared.has(key)) return;
    await this.link.prepare(p);
    this.prepared.add(key);
  }

  private retryLater(): void {
    if (this.stopped) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.failures);
    this.failures++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.kick(), delay);
    this.retryTimer.unref();
  }

  private expired(entry: OutboxEntry, now: number): boolean {
    return this.ttlMs > 0 && now - entry.atMs > this.ttlMs;
  }

  private expiryReason(entry: OutboxEntry, now: number): string {
    return `expired: not forwarded within the outbox's ttlMs of ${this.ttlMs} ms (written ${now - entry.atMs} ms ago)`;
  }

  private giveUp(entry: OutboxEntry, reason: string): void {
    this.store.deadLetter(entry, reason);
    this.events.deadLettered(entry, reason);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${errorType(err)}: ${err.message}`;
  return String(err);
}
