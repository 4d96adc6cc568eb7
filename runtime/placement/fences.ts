/**
 * Shard fences in the KV bucket `<prefix>_shards` (key `<type>.<shard>`, no TTL): who owns each
 * shard, written only when ownership changes. The record's revision is the shard's epoch.
 *
 * - acquire: compare-and-set from the revision the taker read (0: never written). A host writes it
 *   only when the record is released, is its own, or names an owner whose host lease it proved
 *   gone (host-lease.ts) after reading that revision;
 * - release: compare-and-set of `{ released: true }` on the revision the owner wrote;
 * - nothing is renewed: the owner's host lease keeps all its shards at once.
 *
 * The store watches the fences of the types this host serves, and only those: one watch per type
 * with the subject filter `$KV.<bucket>.<type>.>` (a type is one subject token), so a host
 * receives no fence change of a type it does not serve. A hint only (a view may lag): the
 * compare-and-set on the server decides.
 */
import type { Logger } from "../log.js";
import { decode, encode } from "../messaging/index.js";
import { type KeyValueBucket, type KvChange, RevisionMismatchError } from "../transport/index.js";
import { RestartingWatch } from "./restarting-watch.js";

/** Who a fence names. */
export interface FenceHolder {
  readonly hostId: string;
  readonly hostName: string;
}

/** A fence as last seen: its revision, and its owner unless released. */
export interface Fence {
  readonly revision: number;
  readonly owner: FenceHolder | undefined;
}

export class FenceStore {
  private readonly view = new Map<string, Fence>();
  private readonly watches: RestartingWatch[];
  private readonly listeners = new Set<(key: string, fence: Fence) => void>();

  constructor(
    private readonly bucket: KeyValueBucket,
    logger: Logger,
    pauseMs: number,
    /** The key filter of each type's fences (`Subjects.shardFenceFilter`). */
    filters: readonly string[],
  ) {
    this.watches = [...new Set(filters)].map(
      (filter) =>
        new RestartingWatch(
          bucket,
          (c) => this.apply(c),
          logger,
          `fence watch of ${filter}`,
          () => pauseMs,
          filter,
        ),
    );
  }

  /** The fence of `key` as last seen; undefined when never written (or deleted). */
  get(key: string): Fence | undefined {
    return this.view.get(key);
  }

  /** Writes `holder` as owner if the fence is still at `revision`; resolves with the new revision or null. */
  async acquire(key: string, holder: FenceHolder, revision: number): Promise<number | null> {
    try {
      const rev = await this.bucket.compareAndSet(key, encode(holder), revision);
      this.note(key, { revision: rev, owner: holder });
      return rev;
    } catch (err) {
      if (!(err instanceof RevisionMismatchError)) throw err;
      return null;
    }
  }

  /** Releases a fence owned at `revision` (a no-op if someone else wrote it since). */
  async release(key: string, holder: FenceHolder, revision: number): Promise<void> {
    try {
      const rev = await this.bucket.compareAndSet(key, encode({ ...holder, released: true }), revision);
      this.note(key, { revision: rev, owner: undefined });
    } catch (err) {
      if (!(err instanceof RevisionMismatchError)) throw err;
    }
  }

  /** Called with every fence that changed. */
  onChange(listener: (key: string, fence: Fence) => void): void {
    this.listeners.add(listener);
  }

  /** Starts the watches. */
  start(): void {
    for (const w of this.watches) void w.start();
  }

  stop(): void {
    for (const w of this.watches) w.stop();
  }

  private note(key: string, fence: Fence): void {
    const prev = this.view.get(key);
    if (prev && prev.revision >= fence.revision) return;
    this.view.set(key, fence);
  }

  private apply(c: KvChange): void {
    const prev = this.view.get(c.key);
    if (prev && prev.revision > c.revision) return;
    const fence: Fence =
      c.operation === "delete" ? { revision: c.revision, owner: undefined } : parseFence(c.value, c.revision);
    this.view.set(c.key, fence);
    for (const l of this.listeners) l(c.key, fence);
  }
}

/** Decodes a fence record; a malformed one counts as released (its revision still fences). */
export function parseFence(bytes: Uint8Array, revision: number): Fence {
  try {
    const v = decode(bytes) as { hostId?: unknown; hostName?: unknown; released?: unknown } | null;
    if (!v || typeof v.hostId !== "string" || v.released === true) return { revision, owner: undefined };
    return {
      revision,
      owner: { hostId: v.hostId, hostName: typeof v.hostName === "string" ? v.hostName : v.hostId },
    };
  } catch {
    return { revision, owner: undefined };
  }
}
