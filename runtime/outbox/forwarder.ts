/**
 * Forwards the outbox's pending entries whenever the connection is up, lane by lane.
 *
 * A lane is a destination (entry.ts: a tell's actor, a job's queue, an event's subject). Its
 * entries are forwarded in order; a lane that cannot take them now waits on its own backoff while
 * the others go on, so one destination never holds back the rest until its TTL.
 *
 * One batch (`forwardWindow` entries) at a time, taken from the lanes that are not waiting, in
 * turn (each lane at most its share of the window, the lanes just served going last). The streams
 * its JetStream entries need are created first (once per destination), then every entry is
 * published without waiting for the previous PubAck, the batch is flushed, and each entry settles:
 * - acknowledged (or reported a duplicate); a tell that reached a host: done;
 * - refused for good (`link.isPermanent`): dead letter with the reason;
 * - any other failure (no PubAck in time, no host serves the actor): it stays pending, with every
 *   later entry of its lane that did not go through, and the lane waits (backoff 0.2 s doubling
 *   to 10 s; 0.05 s to 1 s while no host serves a tell) before it is tried again from there. A
 *   resend carries the same msgId, so JetStream drops what it already stored.
 * A flush that fails (the connection is going) pauses everything until the connection is back.
 *
 * Order within a lane:
 * - JetStream entries: one connection sends a batch in order, so what the server stored of a lane
 *   is a prefix; resending from the first unacknowledged entry keeps the lane's order.
 * - Tells: the server answers a tell that finds no host before it answers the flush that follows,
 *   so after the flush the forwarder knows which tells reached a host. A lane not yet known to
 *   reach a host (new, or after a refusal) sends only its oldest tell (a probe) until one does;
 *   then its tells go a window at a time. Only a shard losing its host and regaining another
 *   while one window is on its way can still deliver a tell after a later one of the same actor
 *   (the refused one stays pending and follows); none is delivered twice.
 * Core events (`durable: false`) are done once flushed: from there they are at most once.
 * Entries older than `ttlMs` become dead letters instead of being sent.
 */
import { errorType } from "../telemetry/index.js";
import { isJetStreamKind, laneOf, type OutboxEntry, type Preparation } from "./entry.js";
import type { CoreSend, OutboxLink } from "./link.js";
import type { OutboxStore } from "./store.js";

const RETRY_FIRST_MS = 200;
const RETRY_MAX_MS = 10_000;
/** A tell whose actor has no host is tried again sooner: a probe is one message and its answer. */
const NO_HOST_FIRST_MS = 50;
const NO_HOST_MAX_MS = 1000;

export interface ForwarderEvents {
  forwarded(count: number): void;
  deadLettered(entry: OutboxEntry, reason: string): void;
  failed(err: unknown): void;
  drained(): void;
}

/** What the forwarder remembers of a lane while it has pending entries. */
interface LaneState {
  /** Failed attempts in a row. */
  failures: number;
  /** `performance.now()` before which the lane is not tried again. */
  waitUntil: number;
  /** A tell of the lane reached a host since it was last refused (or the connection came back). */
  reaches: boolean;
}

/** The outcome of one entry of a batch. */
type Outcome = { ok: true } | { ok: false; err: unknown };

export class Forwarder {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private readonly prepared = new Set<string>();
  private readonly lanes = new Map<string, LaneState>();

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

  /** The connection came back: every lane is tried again at once (and tells probe again). */
  reset(): void {
    this.lanes.clear();
    this.failures = 0;
    clearTimeout(this.retryTimer);
    clearTimeout(this.wakeTimer);
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
    this.forgetEmptyLanes();
    if (expired > 0 && this.store.pendingCount === 0) this.events.drained();
  }

  /** Stops forwarding; resolves once the batch in flight settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.wakeTimer);
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
      if (batch.length === 0) {
        this.wakeForNextLane();
        break;
      }
      if (!(await this.forward(batch))) {
        this.retryLater();
        return;
      }
      this.failures = 0;
    }
    if (hadPending && !this.stopped && this.store.pendingCount === 0) this.events.drained();
  }

  /** Up to a window of entries from the lanes not waiting, each lane its share, oldest first. */
  private takeBatch(): OutboxEntry[] {
    const now = Date.now();
    const clock = performance.now();
    const ready: [string, ReadonlyMap<number, OutboxEntry>][] = [];
    for (const [lane, queue] of this.store.laneQueues()) {
      const state = this.lanes.get(lane);
      if (state === undefined || state.waitUntil <= clock) ready.push([lane, queue]);
    }
    if (ready.length === 0) return [];
    const share = Math.max(1, Math.ceil(this.window / ready.length));
    const batch: OutboxEntry[] = [];
    for (const [lane, queue] of ready) {
      if (batch.length >= this.window) break;
      const state = this.lanes.get(lane);
      let take = Math.min(share, this.window - batch.length);
      let expired = false;
      for (const entry of queue.values()) {
        if (take === 0) break;
        if (this.expired(entry, now)) {
          expired = true;
          continue;
        }
        batch.push(entry);
        take--;
        // A tell lane not known to reach a host sends one tell and waits for its answer.
        if (entry.kind === "tell" && !state?.reaches) break;
      }
      if (expired) this.expireLane(queue, now);
      this.store.serveLast(lane);
    }
    this.forgetEmptyLanes();
    return batch;
  }

  private expireLane(queue: ReadonlyMap<number, OutboxEntry>, now: number): void {
    for (const entry of [...queue.values()]) {
      if (this.expired(entry, now)) this.giveUp(entry, this.expiryReason(entry, now));
    }
  }

  /** Sends one batch; false when the connection failed under it (everything waits for it). */
  private async forward(batch: OutboxEntry[]): Promise<boolean> {
    const outcomes = await this.publish(batch);
    let flushed = true;
    if (batch.some((e) => !isJetStreamKind(e.kind))) {
      try {
        await this.link.flush();
      } catch (err) {
        flushed = false;
        this.events.failed(err);
      }
    }
    const done: number[] = [];
    const failedLanes = new Map<string, unknown>();
    batch.forEach((entry, i) => {
      const outcome = this.settled(entry, outcomes[i] as Outcome | CoreSend | undefined, flushed);
      const lane = laneOf(entry);
      if (outcome.ok) {
        done.push(entry.seq);
        return;
      }
      if ((flushed || isJetStreamKind(entry.kind)) && this.link.isPermanent(outcome.err)) {
        this.giveUp(entry, `refused: ${describe(outcome.err)}`);
        return;
      }
      if (!failedLanes.has(lane)) failedLanes.set(lane, outcome.err);
    });
    if (done.length > 0) {
      this.store.markDone(done);
      this.events.forwarded(done.length);
    }
    const clock = performance.now();
    for (const entry of batch) {
      const lane = laneOf(entry);
      if (failedLanes.has(lane)) continue;
      const state = this.lanes.get(lane);
      if (state) {
        state.failures = 0;
        state.waitUntil = 0;
        if (entry.kind === "tell") state.reaches = true;
      } else if (entry.kind === "tell" && this.store.hasLane(lane)) {
        this.lanes.set(lane, { failures: 0, waitUntil: 0, reaches: true });
      }
    }
    for (const [lane, err] of failedLanes) {
      const state = this.lanes.get(lane) ?? { failures: 0, waitUntil: 0, reaches: false };
      const noHost = errorType(err) === "TROUPE_ACTOR_UNAVAILABLE";
      const delay = noHost
        ? Math.min(NO_HOST_MAX_MS, NO_HOST_FIRST_MS * 2 ** state.failures)
        : Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** state.failures);
      state.failures++;
      state.waitUntil = clock + delay;
      state.reaches = false;
      this.lanes.set(lane, state);
      if (flushed) this.events.failed(err);
    }
    this.forgetEmptyLanes();
    return flushed;
  }

  /**
   * Publishes the batch's entries (after creating what their destinations need); returns, for
   * each, its outcome (JetStream, or a failure before sending), or its {@link CoreSend}.
   */
  private async publish(batch: OutboxEntry[]): Promise<(Outcome | CoreSend | undefined)[]> {
    const unprepared = new Map<string, unknown>();
    for (const entry of batch) {
      if (!entry.prepare || unprepared.has(laneOf(entry))) continue;
      try {
        await this.prepare(entry.prepare);
      } catch (err) {
        unprepared.set(laneOf(entry), err ?? new Error("preparing the destination failed"));
      }
    }
    return Promise.all(
      batch.map((entry): Promise<Outcome | CoreSend | undefined> | Outcome | CoreSend | undefined => {
        const notReady = unprepared.get(laneOf(entry));
        if (notReady !== undefined) return { ok: false, err: notReady };
        if (isJetStreamKind(entry.kind)) {
          return this.link.publishDurable(entry).then(
            (): Outcome => ({ ok: true }),
            (err: unknown): Outcome => ({ ok: false, err: err ?? new Error("publish failed") }),
          );
        }
        try {
          return this.link.publishCore(entry);
        } catch (err) {
          return { ok: false, err: err ?? new Error("publish failed") };
        }
      }),
    );
  }

  /** What became of one entry of a batch, once its flush (`flushed`) settled. */
  private settled(entry: OutboxEntry, sent: Outcome | CoreSend | undefined, flushed: boolean): Outcome {
    if (sent !== undefined && "ok" in sent) return sent;
    if (isJetStreamKind(entry.kind)) return { ok: true };
    const refusal = sent?.refusal();
    sent?.release();
    if (!flushed) return { ok: false, err: new Error("the connection failed before the flush") };
    return refusal === undefined ? { ok: true } : { ok: false, err: refusal };
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

  /** Every lane with pending entries waits: forwards again when the first one is due. */
  private wakeForNextLane(): void {
    if (this.stopped) return;
    let first = Number.POSITIVE_INFINITY;
    for (const [lane, state] of this.lanes) {
      if (this.store.hasLane(lane)) first = Math.min(first, state.waitUntil);
    }
    if (first === Number.POSITIVE_INFINITY) return;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.kick(), Math.max(0, first - performance.now()));
    this.wakeTimer.unref();
  }

  /** Lanes whose entries are all gone are forgotten (a lane that comes back starts afresh). */
  private forgetEmptyLanes(): void {
    if (this.lanes.size === 0) return;
    for (const lane of this.lanes.keys()) if (!this.store.hasLane(lane)) this.lanes.delete(lane);
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
