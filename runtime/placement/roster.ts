/**
 * The roster: who is in the mesh, in the KV bucket `<prefix>_members` (key = host id, no TTL).
 *
 * A record is written only when something changes: a host joins (or comes back after losing its
 * lease), changes status (draining), leaves (deletes its record) or is found dead by a monitor
 * (monitor.ts writes a `died` mark on the record's revision, then deletes it). Every host watches
 * the bucket, so in a steady state nobody receives anything from it; heartbeats live in the hosts
 * bucket (host-lease.ts), which only a host's monitors watch.
 *
 * A watch that stops delivering without ending would freeze this host's view (it would never see
 * a join or a death): every `checkEveryMs` the roster compares what its watch delivered with the
 * bucket's latest revision (one stream-info request) and restarts a watch that fell a whole
 * period behind (restarting-watch.ts).
 */
import type { Logger } from "../log.js";
import { decode, encode } from "../messaging/index.js";
import { type KeyValueBucket, type KvChange, RevisionMismatchError } from "../transport/index.js";
import { type HostRecord, type MembershipChange, parseHostRecord } from "./host-record.js";
import { RestartingWatch } from "./restarting-watch.js";

interface Member {
  record: HostRecord;
  revision: number;
}

export class Roster {
  private readonly members = new Map<string, Member>();
  private readonly watch: RestartingWatch;
  private selfSeen: (() => void) | undefined;
  private readonly selfSeenOnce = new Promise<void>((r) => {
    this.selfSeen = r;
  });
  private announcing: Promise<void> | undefined;
  private leaving = false;
  /** Keys delivered by the current watch, which begins by replaying every current record. */
  private confirmed = new Set<string>();
  private pruneTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bucket: KeyValueBucket,
    private readonly self: () => HostRecord,
    private readonly emit: (c: MembershipChange) => void,
    private readonly logger: Logger,
    pauseMs: number,
    /** After a watch (re)starts, members it has not replayed within this long are gone. */
    private readonly replayWithinMs: number,
    /** How often the watch's progress is checked against the bucket (a stuck watch is restarted). */
    private readonly checkEveryMs: number,
  ) {
    this.watch = new RestartingWatch(
      bucket,
      (c) => this.apply(c),
      logger,
      "roster watch",
      () => pauseMs,
      undefined,
      () => this.restarted(),
    );
  }

  private restarted(): void {
    this.confirmed = new Set();
    clearTimeout(this.pruneTimer);
    if (this.members.size === 0) return;
    this.pruneTimer = setTimeout(() => {
      for (const id of [...this.members.keys()]) {
        if (this.confirmed.has(id)) continue;
        this.members.delete(id);
        this.emit({ kind: "left", hostId: id });
      }
    }, this.replayWithinMs).unref();
  }

  start(): Promise<void> {
    void this.watch.start();
    this.progressTimer = setInterval(() => {
      this.watch
        .checkProgress()
        .catch((err: unknown) => this.logger.debug("checking the roster watch's progress failed", { err }));
    }, this.checkEveryMs).unref();
    return this.announce();
  }

  /** Resolves once the watch delivered this host's own record (so every earlier one too). */
  get ready(): Promise<void> {
    return this.selfSeenOnce;
  }

  /** Writes this host's record (join, status change, coming back). */
  announce(): Promise<void> {
    if (this.leaving) return Promise.resolve();
    this.announcing ??= this.bucket
      .put(this.self().id, encode(this.self()))
      .then(() => undefined)
      .finally(() => {
        this.announcing = undefined;
      });
    return this.announcing;
  }

  /** Other hosts in the roster (not this one), by id. */
  others(): HostRecord[] {
    const selfId = this.self().id;
    return [...this.members.values()].map((m) => m.record).filter((r) => r.id !== selfId);
  }

  /** Marks `hostId` dead (its lease was proved gone) and removes its record. */
  async markDied(hostId: string): Promise<void> {
    const m = this.members.get(hostId);
    if (!m) return;
    try {
      const rev = await this.bucket.compareAndSet(hostId, encode({ ...m.record, died: true }), m.revision);
      await this.bucket.delete(hostId, rev);
    } catch (err) {
      // The host came back meanwhile (a new record), or someone else marked it first.
      if (!(err instanceof RevisionMismatchError)) throw err;
    }
  }

  /** Deletes this host's record (graceful leave) and stops watching. */
  async leave(): Promise<void> {
    this.leaving = true;
    await this.announcing?.catch(() => undefined);
    try {
      await this.bucket.delete(this.self().id);
    } catch (err) {
      this.logger.warn("could not delete this host's roster record", { err });
    }
    this.stop();
  }

  stop(): void {
    this.leaving = true;
    clearTimeout(this.pruneTimer);
    clearInterval(this.progressTimer);
    this.watch.stop();
  }

  get ended(): Promise<void> {
    return this.watch.ended;
  }

  private apply(c: KvChange): void {
    this.confirmed.add(c.key);
    const selfId = this.self().id;
    if (c.key === selfId) {
      if (c.operation === "put" && !isDiedMark(c.value)) {
        this.selfSeen?.();
        return;
      }
      // A monitor found this host dead (it was paused or cut off past its lease): come back.
      if (!this.leaving) {
        this.logger.warn("this host was marked dead in the roster; announcing it again");
        void this.announce().catch((err: unknown) => this.logger.warn("re-announcing failed", { err }));
      }
      return;
    }
    const prev = this.members.get(c.key);
    if (c.operation === "delete" || isDiedMark(c.value)) {
      if (!prev) return;
      this.members.delete(c.key);
      this.emit(c.operation === "delete" ? { kind: "left", hostId: c.key } : { kind: "died", hostId: c.key });
      return;
    }
    const record = parseHostRecord(c.value);
    if (!record || record.id !== c.key) return;
    this.members.set(record.id, { record, revision: c.revision });
    if (!prev) this.emit({ kind: "joined", host: record });
    else if (prev.record.status !== record.status || prev.record.types.join() !== record.types.join()) {
      this.emit({ kind: "updated", host: record });
    }
  }
}

function isDiedMark(bytes: Uint8Array): boolean {
  try {
    const v = decode(bytes) as { died?: unknown } | null;
    return !!v && v.died === true;
  } catch {
    return false;
  }
}
