/**
 * Membership: which hosts are in the mesh, and this host's own lease.
 *
 * Three parts (each in its own file):
 * - the host lease (host-lease.ts): this host's record in `<prefix>_hosts`, renewed every
 *   `heartbeatEveryMs`; the only lease a host holds;
 * - the roster (roster.ts): `<prefix>_members`, one record per host written only on a change
 *   (join, status, leave, death); every host watches it;
 * - the monitor (monitor.ts): each host watches the leases of two ring successors and marks one
 *   dead in the roster once its lease is proved gone.
 *
 * The view only decides who *should* hold a shard; who *does* is decided by the shard fences
 * (fences.ts) and the host leases, so two hosts whose views differ for a moment never both serve.
 */
import type { Logger } from "../log.js";
import { encode } from "../messaging/index.js";
import type { KeyValueBucket } from "../transport/index.js";
import { Broadcaster, type ChangeStream } from "./change-stream.js";
import { HostLease } from "./host-lease.js";
import type { HostRecord, HostRecordStatus, MembershipChange } from "./host-record.js";
import { Monitor } from "./monitor.js";
import { retryStartup } from "./retry.js";
import { Roster } from "./roster.js";

export {
  type HostRecord,
  type HostRecordStatus,
  type MembershipChange,
  parseHostRecord,
} from "./host-record.js";

export interface MembershipTimings {
  readonly heartbeatEveryMs: number;
  readonly hostTtlMs: number;
  readonly safetyMarginMs: number;
}

export interface MembershipBuckets {
  /** `<prefix>_hosts`: host leases (TTL `hostTtlMs`). */
  readonly hosts: KeyValueBucket;
  /** `<prefix>_members`: the roster (no TTL). */
  readonly members: KeyValueBucket;
}

export class Membership {
  private readonly events = new Broadcaster<MembershipChange>();
  private readonly listeners = new Set<(c: MembershipChange) => void>();
  private stopped = false;
  private selfRecord: HostRecord;
  /** This host's lease: shards are served only while it is valid. */
  readonly lease: HostLease;
  private readonly roster: Roster;
  private readonly monitor: Monitor;
  /** Shared periodic timers by period: see {@link onTick}. */
  private readonly ticks = new Map<number, { timer: NodeJS.Timeout; fns: Set<() => void> }>();

  constructor(
    buckets: MembershipBuckets,
    self: HostRecord,
    timings: MembershipTimings,
    private readonly logger: Logger,
    private readonly activations: () => Record<string, number> = () => ({}),
  ) {
    this.selfRecord = self;
    this.lease = new HostLease(
      buckets.hosts,
      self.id,
      () => {
        this.selfRecord = { ...this.selfRecord, activations: this.activations() };
        return encode(this.selfRecord);
      },
      timings,
      logger,
    );
    this.roster = new Roster(
      buckets.members,
      () => this.selfRecord,
      (c) => this.emit(c),
      logger,
      timings.heartbeatEveryMs,
      timings.hostTtlMs,
      timings.hostTtlMs,
    );
    this.monitor = new Monitor(buckets.hosts, self.id, timings, (id) => this.roster.markDied(id), logger);
    // A host that lost its lease (paused, cut off) may have been marked dead: announce it again.
    this.lease.onChange((e) => {
      if (e === "regained" && !this.stopped) {
        void this.roster.announce().catch((err: unknown) => logger.warn("re-announcing failed", { err }));
      }
    });
  }

  get self(): HostRecord {
    return this.selfRecord;
  }

  /** Takes this host's lease, announces it in the roster, starts watching. */
  async start(): Promise<void> {
    await retryStartup("taking the host lease", () => this.lease.start(), this.logger);
    await retryStartup("announcing this host", () => this.roster.start(), this.logger);
    this.monitor.start();
    this.monitor.update(this.roster.others().map((h) => h.id));
  }

  /** Resolves once the roster watch delivered this host's own record, or after `timeoutMs`. */
  async ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.roster.ready,
      new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.monitor.update(this.roster.others().map((h) => h.id));
  }

  /** Hosts in the roster (this one always included until it leaves), sorted by id. */
  live(): HostRecord[] {
    const out = new Map<string, HostRecord>();
    for (const r of this.roster.others()) out.set(r.id, r);
    if (!this.stopped) out.set(this.selfRecord.id, this.selfRecord);
    return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** The hosts whose leases this host watches (its ring successors). */
  watching(): string[] {
    return this.monitor.targets;
  }

  /** Membership changes seen from now on, as an async iterable (ends when this host leaves). */
  changes(): ChangeStream<MembershipChange> {
    return this.events.stream();
  }

  /** @internal Synchronous change notification for the placement loop. */
  onChange(listener: (c: MembershipChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * @internal Runs `fn` every `everyMs` on one timer shared with every other caller of the same
   * period (each placed type's retry check): an idle host wakes once per period, not once per type.
   * Returns the function that removes `fn`; the timer stops with the last one, or when this host
   * leaves or stops.
   */
  onTick(everyMs: number, fn: () => void): () => void {
    let tick = this.ticks.get(everyMs);
    if (!tick) {
      const fns = new Set<() => void>();
      const timer = setInterval(() => {
        for (const f of [...fns]) {
          try {
            f();
          } catch (err) {
            this.logger.error("placement tick failed", { err });
          }
        }
      }, everyMs).unref();
      tick = { timer, fns };
      this.ticks.set(everyMs, tick);
    }
    const entry = tick;
    entry.fns.add(fn);
    return () => {
      entry.fns.delete(fn);
      if (entry.fns.size === 0 && this.ticks.get(everyMs) === entry) {
        clearInterval(entry.timer);
        this.ticks.delete(everyMs);
      }
    };
  }

  private stopTicks(): void {
    for (const t of this.ticks.values()) clearInterval(t.timer);
    this.ticks.clear();
  }

  /** Announces a new status (e.g. draining) at once, in the roster and the lease record. */
  async setStatus(status: HostRecordStatus): Promise<void> {
    this.selfRecord = { ...this.selfRecord, status };
    await Promise.all([this.roster.announce(), this.lease.beat()]);
  }

  /** Graceful leave: deletes the roster record, then the lease. */
  async leave(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.monitor.stop();
    this.stopTicks();
    this.events.close();
    await this.roster.leave();
    await this.lease.release();
  }

  /** Stops renewing and watching without deleting anything (the lease expires by TTL). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.monitor.stop();
    this.stopTicks();
    this.lease.stop();
    this.roster.stop();
    this.events.close();
  }

  private emit(c: MembershipChange): void {
    this.monitor.update(this.roster.others().map((h) => h.id));
    this.events.publish(c);
    for (const l of this.listeners) {
      try {
        l(c);
      } catch (err) {
        this.logger.error("membership listener failed", { err });
      }
    }
  }

  /** Resolves when the roster watch has ended (after `stop()` or `leave()`). */
  get watchEnded(): Promise<void> {
    return this.roster.ended;
  }
}
