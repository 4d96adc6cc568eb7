/**
 * Death detection with bounded traffic: each host watches the lease records (hosts bucket) of only
 * the next {@link WATCHED} hosts after it in the ring of roster ids, so a host receives at most
 * `WATCHED` heartbeats per heartbeat interval however many hosts there are.
 *
 * A watched host whose record was not rewritten for `hostTtlMs` is probed: when its lease is
 * proved gone with a compare-and-set (host-lease.ts, `provedGone`), the monitor marks it dead in
 * the roster, and every host then sees it leave. Until the proof succeeds nothing is decided, so
 * a slow watch can only delay a death, never invent one. If a host's monitors die with it, the
 * ring closes over them (their own monitors find them dead) and the next host before it watches it.
 */
import type { Logger } from "../log.js";
import type { KeyValueBucket, KvChange } from "../transport/index.js";
import { isTombstone, provedGone } from "./host-lease.js";
import { RestartingWatch } from "./restarting-watch.js";

/** How many hosts each host watches. */
export const WATCHED = 2;

interface Watched {
  readonly watch: RestartingWatch;
  /** `performance.now()` when its record was last written (estimated from its age). */
  seenAt: number;
  probing: boolean;
  /** No probe before this (`performance.now()`): a host found still there is probed again later. */
  probeAfter: number;
}

export interface MonitorTimings {
  readonly heartbeatEveryMs: number;
  readonly hostTtlMs: number;
}

export class Monitor {
  private readonly watched = new Map<string, Watched>();
  /** One timer, at the moment the first watched host could be silent for a whole `hostTtlMs`. */
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Number.POSITIVE_INFINITY;
  private started = false;
  private stopped = false;

  constructor(
    private readonly hosts: KeyValueBucket,
    private readonly selfId: string,
    private readonly timings: MonitorTimings,
    /** Called once a watched host's lease was proved gone. */
    private readonly found: (hostId: string) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /**
   * Checks when a watched host could first have been silent for `hostTtlMs`, not on a fixed tick:
   * a heartbeat only moves that moment later, so an idle host wakes about once per `hostTtlMs`
   * (re-arming the timer on every heartbeat would cost as much as the tick it replaces).
   */
  start(): void {
    this.started = true;
    this.schedule();
  }

  /** The hosts watched now. */
  get targets(): string[] {
    return [...this.watched.keys()];
  }

  /** Watches the successors of this host among `ids` (the roster, this host included or not). */
  update(ids: readonly string[]): void {
    if (this.stopped) return;
    const want = new Set(successors(this.selfId, ids, WATCHED));
    for (const [id, w] of this.watched) {
      if (want.has(id)) continue;
      w.watch.stop();
      this.watched.delete(id);
    }
    for (const id of want) {
      if (this.watched.has(id)) continue;
      const entry: Watched = {
        // A grace of one TTL from now: the watch replays the current record at once if there is one.
        seenAt: performance.now(),
        probing: false,
        probeAfter: 0,
        watch: new RestartingWatch(
          this.hosts,
          (c) => this.apply(id, c),
          this.logger,
          `lease watch of ${id}`,
          () => this.timings.heartbeatEveryMs,
          id,
        ),
      };
      this.watched.set(id, entry);
      void entry.watch.start();
    }
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.watched.values()) w.watch.stop();
    this.watched.clear();
  }

  private apply(id: string, c: KvChange): void {
    const w = this.watched.get(id);
    if (!w || c.operation !== "put" || isTombstone(c.value)) return;
    const age = Math.min(Math.max(0, Date.now() - c.createdMs), this.timings.hostTtlMs);
    w.seenAt = Math.max(w.seenAt, performance.now() - age);
  }

  /** Arms the timer for the earliest moment a check could find something (none while probing all). */
  private schedule(): void {
    if (!this.started || this.stopped) return;
    let due = Number.POSITIVE_INFINITY;
    for (const w of this.watched.values()) {
      if (!w.probing) due = Math.min(due, Math.max(w.seenAt + this.timings.hostTtlMs, w.probeAfter));
    }
    if (this.timer && due >= this.dueAt) return; // the armed timer comes first; it re-arms itself
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dueAt = due;
    if (due === Number.POSITIVE_INFINITY) return;
    // +1 ms: a timer may fire a little early on the monotonic clock.
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.dueAt = Number.POSITIVE_INFINITY;
        this.check();
      },
      Math.max(0, due - performance.now()) + 1,
    ).unref();
  }

  private check(): void {
    const now = performance.now();
    for (const [id, w] of this.watched) {
      if (w.probing || now < w.probeAfter || now - w.seenAt <= this.timings.hostTtlMs) continue;
      w.probing = true;
      void (async () => {
        try {
          if (await provedGone(this.hosts, id)) {
            this.logger.info("a host's lease expired; marking it dead", { hostId: id });
            await this.found(id);
          } else {
            // Still there (or not provable yet): our watch may be stale; look again later.
            w.watch.restart();
          }
        } catch (err) {
          this.logger.warn("probing a silent host failed", { hostId: id, err });
        } finally {
          w.probing = false;
          // Not before a quarter heartbeat: a host still there is not probed in a tight loop.
          w.probeAfter = performance.now() + this.timings.heartbeatEveryMs / 4;
          this.schedule();
        }
      })();
    }
    this.schedule();
  }
}

/** The `k` ids after `self` in sorted ring order (all others when there are at most `k`). */
export function successors(self: string, ids: readonly string[], k: number): string[] {
  const ring = [...new Set(ids)].filter((id) => id !== self).sort();
  if (ring.length <= k) return ring;
  const start = ring.findIndex((id) => id > self);
  const from = Math.max(start, 0);
  return Array.from({ length: k }, (_, i) => ring[(from + i) % ring.length] as string);
}
