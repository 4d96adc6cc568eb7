/**
 * The host lease: this host's record in the KV bucket `<prefix>_hosts` (key = host id, bucket TTL
 * `hostTtlMs`), renewed every `heartbeatEveryMs`. It is the only lease a host holds, whatever the
 * number of types and shards it serves.
 *
 * - create: `create` of the key (or a compare-and-set over a tombstone, see below);
 * - renew: `update` on the revision this host last wrote; fails once the key expired or was
 *   tombstoned (the lease is lost: this host starts a new incarnation);
 * - valid until: send time of the last successful write + `hostTtlMs` - `safetyMarginMs`, on this
 *   host's monotonic clock. The server cannot expire the record earlier (its TTL counts from when it
 *   stored the write, after the send), so this host stops serving before anyone may take over;
 * - proof of absence ({@link provedGone}): another host proves a lease gone only with a write the
 *   server checks: `create` of the key (succeeds only when no live record is there), or an `update`
 *   of a tombstone on the tombstone's revision. Either leaves a tombstone (`{ gone: true }`) in the
 *   key, which expires by TTL or which the owner replaces (compare-and-set) when it comes back.
 *   No read can be stale here: a direct get may be served by a lagging replica.
 */
import type { Logger } from "../log.js";
import { decode, encode } from "../messaging/index.js";
import { type KeyValueBucket, RevisionMismatchError } from "../transport/index.js";

export type LeaseEvent = "lost" | "regained";

export interface HostLeaseTimings {
  readonly heartbeatEveryMs: number;
  readonly hostTtlMs: number;
  readonly safetyMarginMs: number;
}

const TOMBSTONE = encode({ gone: true });

/** Whether a record in the hosts bucket is a tombstone left by {@link provedGone}. */
export function isTombstone(bytes: Uint8Array): boolean {
  try {
    const v = decode(bytes) as { gone?: unknown } | null;
    return !!v && v.gone === true;
  } catch {
    return false;
  }
}

/**
 * Proves with a compare-and-set that `hostId`'s lease is gone right now (expired, deleted or
 * already tombstoned); resolves false when the lease is there or the proof failed for now.
 */
export async function provedGone(bucket: KeyValueBucket, hostId: string): Promise<boolean> {
  try {
    await bucket.compareAndSet(hostId, TOMBSTONE, 0);
    return true;
  } catch (err) {
    if (!(err instanceof RevisionMismatchError)) throw err;
  }
  // Every new owner of a dead host's shards proves its lease gone at about the same moment: a
  // compare-and-set lost to another prover's tombstone is tried again on the newer one (each loss
  // is someone else's success), instead of waiting for the next retry round.
  for (let attempt = 0; attempt < PROOF_ATTEMPTS; attempt++) {
    const current = await bucket.get(hostId);
    // Null here is inconclusive (the read may be a replica's older view): try again later.
    if (!current || !isTombstone(current.value)) return false;
    try {
      await bucket.compareAndSet(hostId, TOMBSTONE, current.revision);
      return true;
    } catch (err) {
      if (!(err instanceof RevisionMismatchError)) throw err;
    }
  }
  return false;
}

/** Compare-and-sets over a tombstone one proof tries before it gives up for this round. */
const PROOF_ATTEMPTS = 16;

export class HostLease {
  private revision = 0;
  private validUntilMs = Number.NEGATIVE_INFINITY;
  private incarnationNo = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private stopped = false;
  private lostReported = true;
  private readonly listeners = new Set<(e: LeaseEvent) => void>();

  constructor(
    private readonly bucket: KeyValueBucket,
    private readonly hostId: string,
    /** The record to write (read at every write: status and counts change). */
    private readonly record: () => Uint8Array,
    private readonly timings: HostLeaseTimings,
    private readonly logger: Logger,
  ) {}

  /** Bumped every time the lease is created anew; shards held under an older one are not held. */
  get incarnation(): number {
    return this.incarnationNo;
  }

  /** `performance.now()` until which this host may serve (minus nothing: the margin is included). */
  get validUntil(): number {
    return this.validUntilMs;
  }

  valid(now = performance.now()): boolean {
    return !this.stopped && now < this.validUntilMs;
  }

  /** `lost`: the lease lapsed on this host's clock; `regained`: valid again (maybe a new incarnation). */
  onChange(listener: (e: LeaseEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Creates the lease (first incarnation) and starts renewing it. */
  async start(): Promise<void> {
    await this.acquire();
    this.ticker = setInterval(() => void this.beat(), this.timings.heartbeatEveryMs).unref();
  }

  /** Writes the record now (e.g. a status change), renewing the lease. */
  beat(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.beating ??= this.renew().finally(() => {
      this.beating = undefined;
    });
    return this.beating;
  }

  /** Stops renewing; the record expires by TTL. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.ticker);
    clearTimeout(this.timer);
  }

  /** Stops renewing and deletes the record (graceful leave). */
  async release(): Promise<void> {
    this.stop();
    await this.beating?.catch(() => undefined);
    try {
      await this.bucket.delete(this.hostId, this.revision);
    } catch (err) {
      if (!(err instanceof RevisionMismatchError)) {
        this.logger.warn("could not delete the host lease; it expires by TTL", { err });
      }
    }
  }

  private async renew(): Promise<void> {
    if (this.revision === 0) {
      await this.acquire().catch((err: unknown) => this.logger.warn("host lease not created", { err }));
      return;
    }
    const sentAt = performance.now();
    try {
      this.extend(sentAt, await this.bucket.compareAndSet(this.hostId, this.record(), this.revision));
      return;
    } catch (err) {
      if (!(err instanceof RevisionMismatchError)) {
        this.logger.warn("host lease renewal failed", { err, validForMs: this.validUntilMs - sentAt });
        return;
      }
    }
    // Someone else wrote the key (a tombstone: the lease had expired), or our own last write
    // landed although its acknowledgement was lost: only this host writes live records here.
    const current = await this.bucket.get(this.hostId).catch(() => null);
    if (current && !isTombstone(current.value)) {
      this.revision = current.revision;
      return;
    }
    this.logger.warn("host lease lost (expired while this host could not renew it); starting anew");
    this.standDown();
    this.revision = 0;
    await this.acquire().catch((err: unknown) => this.logger.warn("host lease not created", { err }));
  }

  /** Creates the lease: over nothing, or over a tombstone at its revision. */
  private async acquire(): Promise<void> {
    if (this.stopped) return;
    const sentAt = performance.now();
    let revision: number;
    try {
      revision = await this.bucket.compareAndSet(this.hostId, this.record(), 0);
    } catch (err) {
      if (!(err instanceof RevisionMismatchError)) throw err;
      const current = await this.bucket.get(this.hostId);
      if (!current) throw err; // a replica's older view: try again at the next beat
      revision = await this.bucket.compareAndSet(this.hostId, this.record(), current.revision);
    }
    this.incarnationNo++;
    this.extend(sentAt, revision);
  }

  private extend(sentAt: number, revision: number): void {
    this.revision = revision;
    if (this.stopped) return;
    const until = sentAt + this.timings.hostTtlMs - this.timings.safetyMarginMs;
    const wasValid = this.valid();
    this.validUntilMs = until;
    clearTimeout(this.timer);
    const ms = until - performance.now();
    if (ms <= 0) {
      this.standDown();
      return;
    }
    this.timer = setTimeout(() => {
      if (!this.valid()) this.standDown();
    }, ms);
    this.timer.unref();
    if (!wasValid || this.lostReported) {
      this.lostReported = false;
      this.emit("regained");
    }
  }

  private standDown(): void {
    if (this.lostReported) return;
    this.lostReported = true;
    this.emit("lost");
  }

  private emit(e: LeaseEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.error("host lease listener failed", { err });
      }
    }
  }
}
