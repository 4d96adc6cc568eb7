/**
 * A KV bucket watch that is started again whenever it ends or fails, until stopped: membership
 * and leases both keep their view of a bucket this way.
 */
import type { Logger } from "../log.js";
import type { KeyValueBucket, KvChange } from "../transport/index.js";

export class RestartingWatch {
  private current: { stop(): void } | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;

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
        this.onStart?.();
        if (this.stopped) w.stop();
        for await (const c of w) this.apply(c);
      } catch (err) {
        if (!this.stopped) this.logger.warn(`${this.what} failed; retrying`, { err });
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, this.pauseMs()));
    }
  }
}
