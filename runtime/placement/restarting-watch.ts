/**
 * A KV bucket watch that is started again whenever it ends or fails, until stopped: membership
 * and leases both keep their view of a bucket this way.
 *
 * A watch can also go quiet without ending (a consumer the server lost track of, a stalled
 * subscription): {@link RestartingWatch.checkProgress}, called periodically, compares what the
 * watch delivered with the bucket's latest revision, and restarts the watch when a revision the
 * bucket already had at the previous check has still not been delivered. Only for watches of the
 * whole bucket: a filtered watch never delivers other keys' revisions.
 */
import type { Logger } from "../log.js";
import type { KeyValueBucket, KvChange } from "../transport/index.js";

export class RestartingWatch {
  private current: { stop(): void } | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Bumped each time a new watch starts. */
  private generation = 0;
  /** The highest revision the current watch delivered. */
  private delivered = 0;
  /** A revision the bucket had at the last check that the current watch had not delivered yet. */
  private owed: number | undefined;

  constructor(
    private readonly bucket: KeyValueBucket,
    private readonly apply: (change: KvChange) => void,
    private readonly logger: Logger,
    /** Named in the warning when a watch fails, e.g. "lease watch". */
    private readonly what: string,
    /** Pause before starting again. */
    private readonly pauseMs: () => number,
    /** Only this key (NATS wildcards allowed); default every key. */
    private readonly key?: string,
    /** Called each time a new watch starts (its first changes replay the current values). */
    private readonly onStart?: () => void,
  ) {}

  start(): Promise<void> {
    this.loop ??= this.run();
    return this.loop;
  }

  /** Ends the current watch; the loop starts a fresh one (e.g. when it seems stuck). */
  restart(): void {
    this.current?.stop();
  }

  /**
   * Restarts the watch if it has not delivered a revision the bucket had at the previous call
   * (so a watch gets one whole period between two calls to catch up). Resolves true if it did.
   */
  async checkProgress(): Promise<boolean> {
    if (this.stopped || !this.current || this.key !== undefined) return false;
    const generation = this.generation;
    const head = await this.bucket.lastRevision();
    if (generation !== this.generation || this.stopped) return false; // restarted meanwhile
    if (this.owed !== undefined && this.delivered < this.owed) {
      this.logger.warn(`${this.what} stopped delivering; restarting it`, {
        delivered: this.delivered,
        bucketRevision: head,
      });
      this.owed = undefined;
      this.restart();
      return true;
    }
    this.owed = head > this.delivered ? head : undefined;
    return false;
  }

  stop(): void {
    this.stopped = true;
    this.current?.stop();
  }

  /** Resolves once the loop has ended (after `stop()`). */
  get ended(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const w = await this.bucket.watch(this.key === undefined ? {} : { key: this.key });
        this.current = w;
        this.generation++;
        this.delivered = 0;
        this.owed = undefined;
        this.onStart?.();
        if (this.stopped) w.stop();
        for await (const c of w) {
          if (c.revision > this.delivered) this.delivered = c.revision;
          this.apply(c);
        }
      } catch (err) {
        if (!this.stopped) this.logger.warn(`${this.what} failed; retrying`, { err });
      }
      this.current = undefined;
      if (!this.stopped) await new Promise((r) => setTimeout(r, this.pauseMs()));
    }
  }
}
