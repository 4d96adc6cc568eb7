/**
 * Shard leases in the KV bucket `<prefix>_leases` (key `<type>.<shard>`, value = the holder).
 *
 * - take: `create` (fails while anyone holds the key);
 * - renew: `update` on the revision the holder last wrote (fails once anyone else wrote);
 * - release: delete on that revision;
 * - the bucket TTL (`leaseTtlMs`) removes a lease that was not renewed, so a dead holder's shards
 *   become free without anyone deciding it is dead.
 *
 * The store also watches the bucket to know, roughly, which keys are held, so a host does not send
 * a doomed `create` for every shard it would like on every tick. That view is only a hint: the
 * compare-and-set on the server decides.
 */
import type { Logger } from "../log.js";
import { decode, encode } from "../messaging/index.js";
import { type KeyValueBucket, type KvChange, RevisionMismatchError } from "../transport/transport.js";
import { RestartingWatch } from "./restarting-watch.js";

/** What a lease says about its holder. */
export interface LeaseHolder {
  readonly hostId: string;
  readonly hostName: string;
}

export class LeaseStore {
  /**
   * Per key, `performance.now()` when it was last written (estimated from its age), or undefined
   * once deleted. Only when, not who: the holder is never decoded here, since every renewal of
   * every host passes through this watch.
   */
  private readonly view = new Map<string, number | undefined>();
  private readonly watch: RestartingWatch;
  private readonly listeners = new Set<(key: string, freed: boolean) => void>();

  constructor(
    private readonly bucket: KeyValueBucket,
    readonly ttlMs: number,
    logger: Logger,
  ) {
    this.watch = new RestartingWatch(
      bucket,
      (c) => this.apply(c),
      logger,
      "lease watch",
      () => Math.min(1000, this.ttlMs / 4),
    );
  }

  /** Takes a free lease; resolves with its revision, or null when someone holds it. */
  async take(key: string, holder: LeaseHolder): Promise<number | null> {
    try {
      return await this.bucket.compareAndSet(key, encode(holder), 0);
    } catch (err) {
      if (!(err instanceof RevisionMismatchError)) throw err;
      this.view.set(key, performance.now());
      return null;
    }
  }

  /** Renews a lease held at `revision`; rejects with RevisionMismatchError when it was lost. */
  renew(key: string, holder: LeaseHolder, revision: number): Promise<number> {
    return this.bucket.compareAndSet(key, encode(holder), revision);
  }

  /** Releases a lease held at `revision` (a no-op if it was lost meanwhile). */
  async release(key: string, revision: number): Promise<void> {
    try {
      await this.bucket.delete(key, revision);
    } catch (err) {
      if (!(err instanceof RevisionMismatchError)) throw err;
    }
  }

  /** Whether `key` may be free (never seen held, deleted, or not renewed for a TTL). */
  maybeFree(key: string): boolean {
    const writtenAt = this.view.get(key);
    return writtenAt === undefined || performance.now() - writtenAt > this.ttlMs;
  }

  /** Called with every change of the view; `freed` when a lease was released. */
  onChange(listener: (key: string, freed: boolean) => void): void {
    this.listeners.add(listener);
  }

  /** Starts the watch that keeps the view; restarts it when it ends. */
  start(): void {
    void this.watch.start();
  }

  stop(): void {
    this.watch.stop();
  }

  private apply(c: KvChange): void {
    if (c.operation === "delete") {
      this.view.set(c.key, undefined);
    } else {
      const age = Math.min(Math.max(0, Date.now() - c.createdMs), this.ttlMs);
      this.view.set(c.key, performance.now() - age);
    }
    for (const l of this.listeners) l(c.key, c.operation === "delete");
  }
}

export function parseHolder(bytes: Uint8Array): LeaseHolder | null {
  try {
    const v = decode(bytes) as Partial<LeaseHolder> | null;
    if (!v || typeof v.hostId !== "string") return null;
    return { hostId: v.hostId, hostName: typeof v.hostName === "string" ? v.hostName : v.hostId };
  } catch {
    return null;
  }
}
