/**
 * Membership: which hosts are alive, from heartbeats in the KV bucket `<prefix>_hosts`.
 *
 * Each host writes its record (key = host id) every `heartbeatEveryMs`; the bucket's TTL is
 * `hostTtlMs`, so a silent host's record vanishes. Every host watches the bucket and keeps, for each
 * record, the local monotonic time it was last written; a host not heard from for `hostTtlMs` is
 * dead (expiry by TTL sends no event, so death is decided locally, not by the bucket). A host that
 * stops gracefully deletes its record: it `left`.
 *
 * Liveness here only decides who *should* hold a shard; who *does* hold it is decided by the lease
 * (see leases.ts), so two hosts that disagree about membership for a moment never both serve.
 */
import type { Logger } from "../log.js";
import { decode, encode } from "../messaging/index.js";
import type { KeyValueBucket, KvChange } from "../transport/transport.js";
import { Broadcaster, type ChangeStream } from "./change-stream.js";
import { RestartingWatch } from "./restarting-watch.js";
import { retryStartup } from "./retry.js";

export type HostRecordStatus = "serving" | "draining";

/** What a host announces about itself. */
export interface HostRecord {
  readonly id: string;
  readonly name: string;
  readonly types: readonly string[];
  readonly status: HostRecordStatus;
  /** Wall-clock start time (ms since the epoch), informational. */
  readonly startedAtMs: number;
  /** Activations per served type at the last heartbeat, informational. */
  readonly activations: Readonly<Record<string, number>>;
  /** How often the host rewrites its record; absent in records of hosts from before it was added. */
  readonly heartbeatEveryMs?: number;
}

export type MembershipChange =
  | { readonly kind: "joined"; readonly host: HostRecord }
  | { readonly kind: "updated"; readonly host: HostRecord }
  | { readonly kind: "left"; readonly hostId: string }
  | { readonly kind: "died"; readonly hostId: string };

export interface MembershipTimings {
  readonly heartbeatEveryMs: number;
  readonly hostTtlMs: number;
}

interface Seen {
  record: HostRecord;
  /** `performance.now()` when the record was written (estimated from its age). */
  seenAt: number;
}

export class Membership {
  private readonly members = new Map<string, Seen>();
  private readonly events = new Broadcaster<MembershipChange>();
  private readonly listeners = new Set<(c: MembershipChange) => void>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly watch: RestartingWatch;
  private stopped = false;
  private selfRecord: HostRecord;
  private lastSelfSeen = performance.now();
  private lastPutOk = 0;
  private selfSeen: (() => void) | undefined;
  private readonly selfSeenOnce = new Promise<void>((r) => {
    this.selfSeen = r;
  });

  constructor(
    private readonly bucket: KeyValueBucket,
    self: HostRecord,
    private readonly timings: MembershipTimings,
    private readonly logger: Logger,
    private readonly activations: () => Record<string, number> = () => ({}),
  ) {
    this.selfRecord = self;
    this.watch = new RestartingWatch(
      bucket,
      (c) => this.apply(c),
      logger,
      "membership watch",
      () => this.timings.heartbeatEveryMs,
    );
  }

  get self(): HostRecord {
    return this.selfRecord;
  }

  /** Announces this host and starts heartbeating and watching. */
  async start(): Promise<void> {
    await retryStartup(
      "announcing this host",
      () => this.bucket.put(this.selfRecord.id, encode(this.selfRecord)),
      this.logger,
    );
    this.lastPutOk = performance.now();
    void this.watch.start();
    this.heartbeat = setInterval(() => void this.beat(), this.timings.heartbeatEveryMs).unref();
  }

  /**
   * Resolves once the watch delivered this host's own first record (so every record written
   * before it was seen too), or after `timeoutMs`.
   */
  async ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.selfSeenOnce,
      new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Live hosts (this one always included until it leaves), sorted by id. */
  live(): HostRecord[] {
    const out = new Map<string, HostRecord>();
    const cutoff = performance.now() - this.timings.hostTtlMs;
    for (const [id, s] of this.members) if (s.seenAt >= cutoff) out.set(id, s.record);
    if (!this.stopped) out.set(this.selfRecord.id, this.selfRecord);
    return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
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

  /** Announces a new status (e.g. draining) at once. */
  async setStatus(status: HostRecordStatus): Promise<void> {
    this.selfRecord = { ...this.selfRecord, status };
    await this.beat();
  }

  /** Graceful leave: stops heartbeating and deletes the record. */
  async leave(): Promise<void> {
    if (this.stopped) return;
    this.stop();
    try {
      await this.bucket.delete(this.selfRecord.id);
    } catch (err) {
      this.logger.warn("could not delete the membership record; it expires by TTL", { err });
    }
  }

  /** Stops heartbeating and watching without deleting the record. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.heartbeat);
    this.watch.stop();
    this.events.close();
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    this.selfRecord = { ...this.selfRecord, activations: this.activations() };
    try {
      await this.bucket.put(this.selfRecord.id, encode(this.selfRecord));
      this.lastPutOk = performance.now();
    } catch (err) {
      this.logger.warn("membership heartbeat failed", { err });
    }
    this.sweep();
  }

  private sweep(): void {
    const now = performance.now();
    for (const [id, s] of this.members) {
      if (id === this.selfRecord.id || now - s.seenAt <= this.timings.hostTtlMs) continue;
      this.members.delete(id);
      this.emit({ kind: "died", hostId: id });
    }
    // Our own heartbeats flow through the watch: if they stopped arriving while writes succeed,
    // the watch is stuck (e.g. its consumer was lost with a NATS node): start it again.
    if (this.lastPutOk - this.lastSelfSeen > this.timings.hostTtlMs) {
      this.logger.warn("membership watch is stale; restarting it");
      this.lastSelfSeen = now;
      this.watch.restart();
    }
  }

  private apply(c: KvChange): void {
    if (c.operation === "delete") {
      if (c.key === this.selfRecord.id) return;
      if (this.members.delete(c.key)) this.emit({ kind: "left", hostId: c.key });
      return;
    }
    const record = parseHostRecord(c.value);
    if (!record || record.id !== c.key) return;
    const age = Math.min(Math.max(0, Date.now() - c.createdMs), this.timings.hostTtlMs);
    const seenAt = performance.now() - age;
    if (record.id === this.selfRecord.id) {
      this.lastSelfSeen = performance.now();
      this.selfSeen?.();
      return;
    }
    const prev = this.members.get(record.id);
    if (prev && prev.seenAt > seenAt) return;
    this.members.set(record.id, { record, seenAt });
    if (!prev) this.emit({ kind: "joined", host: record });
    else if (prev.record.status !== record.status || prev.record.types.join() !== record.types.join()) {
      this.emit({ kind: "updated", host: record });
    }
  }

  private emit(c: MembershipChange): void {
    this.events.publish(c);
    for (const l of this.listeners) {
      try {
        l(c);
      } catch (err) {
        this.logger.error("membership listener failed", { err });
      }
    }
  }

  /** Resolves when the watch loop has ended (after `stop()`). */
  get watchEnded(): Promise<void> {
    return this.watch.ended;
  }
}

/** Decodes a host record; null for anything malformed. */
export function parseHostRecord(bytes: Uint8Array): HostRecord | null {
  try {
    const r = decode(bytes) as Partial<HostRecord> | null;
    if (!r || typeof r.id !== "string" || typeof r.name !== "string" || !Array.isArray(r.types)) return null;
    return {
      id: r.id,
      name: r.name,
      types: r.types.filter((t): t is string => typeof t === "string"),
      status: r.status === "draining" ? "draining" : "serving",
      startedAtMs: typeof r.startedAtMs === "number" ? r.startedAtMs : 0,
      activations:
        r.activations && typeof r.activations === "object" ? (r.activations as Record<string, number>) : {},
      ...(typeof r.heartbeatEveryMs === "number" && r.heartbeatEveryMs > 0
        ? { heartbeatEveryMs: r.heartbeatEveryMs }
        : {}),
    };
  } catch {
    return null;
  }
}
