/**
 * The durable client outbox: while the connection is down (or was never up), tells, job enqueues
 * and event publishes are written to a local log before the call returns, and forwarded in order
 * once the connection is back. Full contract: docs/patterns/sparse-connectivity.md.
 *
 * With an outbox every tell, enqueue and publish of the mesh goes through it, connected or not: a
 * new send can then never overtake older ones to the same destination, and a crash at any point
 * loses nothing that was acknowledged to the caller. The price is a local write per send (and a
 * shared flush, see store.ts) before the call returns.
 *
 * @example
 * ```ts
 * const mesh = await connect({ servers, outbox: { path: "./outbox", ttlMs: 24 * 3600_000 } });
 * mesh.outbox?.on("drained", () => console.log("everything sent"));
 * await mesh.publish("readings.taken", reading);   // stored locally; forwarded when connected
 * console.log(mesh.outbox?.status());               // { online, pending, bytes, oldestAgeMs, ... }
 * ```
 */
import { type Logger, repeatsOf } from "../log.js";
import { errorType, observeGauge } from "../telemetry/index.js";
import type { DeadLetter, Draft, OutboxEntry } from "./entry.js";
import { Forwarder } from "./forwarder.js";
import type { OutboxLink } from "./link.js";
import { type OutboxOptions, type ResolvedOutboxOptions, resolveOutboxOptions } from "./options.js";
import { OutboxStore } from "./store.js";

export const METRIC_OUTBOX_PENDING = "troupe.outbox.pending";
export const METRIC_OUTBOX_BYTES = "troupe.outbox.bytes";
export const METRIC_OUTBOX_OLDEST_AGE = "troupe.outbox.oldest_age";
export const METRIC_OUTBOX_DEAD_LETTERS = "troupe.outbox.dead_letters";

/** What `mesh.outbox.status()` returns. */
export interface OutboxStatus {
  /** Whether the connection is up (forwarding runs). */
  readonly online: boolean;
  /** Entries written and not yet forwarded. */
  readonly pending: number;
  /** Their size as stored. */
  readonly bytes: number;
  /** Age of the oldest pending entry in ms (0 when none). */
  readonly oldestAgeMs: number;
  /** Entries given up (expired, refused for good): `troupe outbox ls --path <dir>`. */
  readonly deadLetters: number;
  /** The last failure to forward or store, if any since the outbox opened. */
  readonly lastError?: { readonly message: string; readonly code: string; readonly atMs: number };
  /** What opening found wrong in the files and repaired ("" when they were intact). */
  readonly recovery: string;
}

export interface OutboxEvents {
  /** The connection went down: sends keep being written, forwarding pauses. */
  offline: () => void;
  /** The connection is up: forwarding resumes. */
  online: () => void;
  /** Nothing is pending any more: every entry was forwarded (or given up as a dead letter). */
  drained: () => void;
  /** An entry was given up, with the reason. */
  deadLetter: (entry: OutboxEntry, reason: string) => void;
}

export class Outbox {
  private online: boolean;
  private lastError: OutboxStatus["lastError"];
  private readonly listeners = new Map<keyof OutboxEvents, Set<(...args: never[]) => void>>();
  private readonly forwarder: Forwarder;
  private readonly sweepTimer: NodeJS.Timeout | undefined;
  private readonly unobserve: (() => void)[];
  private closed = false;

  private constructor(
    private readonly store: OutboxStore,
    link: OutboxLink,
    private readonly options: ResolvedOutboxOptions,
    private readonly logger: Logger,
  ) {
    this.online = link.connected;
    this.forwarder = new Forwarder(store, link, options.forwardWindow, options.ttlMs, {
      forwarded: () => {},
      deadLettered: (entry, reason) => {
        this.logger.warn("outbox entry dead-lettered", {
          seq: entry.seq,
          kind: entry.kind,
          subject: entry.subject,
          reason,
        });
        this.emit("deadLetter", entry, reason);
      },
      failed: (err) => this.failed("forwarding from the outbox failed; it will be tried again", err),
      drained: () => this.emit("drained"),
    });
    link.onConnectionChange((up) => this.connectionChanged(up));
    if (options.ttlMs > 0) {
      const every = Math.min(5000, Math.max(50, Math.floor(options.ttlMs / 2)));
      this.sweepTimer = setInterval(() => this.sweep(), every);
      this.sweepTimer.unref();
    }
    this.unobserve = [
      observeGauge(METRIC_OUTBOX_PENDING, "Outbox entries not yet forwarded", (r) =>
        r(store.pendingCount, {}),
      ),
      observeGauge(METRIC_OUTBOX_BYTES, "Bytes of outbox entries not yet forwarded", (r) =>
        r(store.bytes, {}),
      ),
      observeGauge(METRIC_OUTBOX_OLDEST_AGE, "Age of the oldest outbox entry (s)", (r) =>
        r(this.oldestAgeMs() / 1000, {}),
      ),
      observeGauge(METRIC_OUTBOX_DEAD_LETTERS, "Outbox entries given up", (r) =>
        r(store.deadLetters().length, {}),
      ),
    ];
    if (store.pendingCount > 0) this.forwarder.kick();
  }

  /**
   * Opens the outbox at `options.path` (see {@link OutboxOptions}) and starts forwarding through
   * `link`. Damage found in the files is repaired and logged (and kept in `status().recovery`).
   * @throws ConfigurationError for bad options; OutboxLockedError, OutboxStoreError (store.ts).
   */
  static open(options: OutboxOptions, link: OutboxLink, logger: Logger): Outbox {
    const resolved = resolveOutboxOptions(options);
    const store = OutboxStore.open(resolved.path, resolved);
    if (store.recovery.summary) {
      logger.warn("the outbox was damaged; every intact record was kept", {
        path: resolved.path,
        report: store.recovery.summary,
      });
    }
    return new Outbox(store, link, resolved, logger);
  }

  /** True while the connection is down: calls that need a reply fail at once. */
  get offline(): boolean {
    return !this.online;
  }

  /**
   * Writes a send; resolves once it is flushed to disk (the write itself is done before this
   * returns, so it survives the process being killed from then on).
   * @throws OutboxFullError (nothing written), OutboxStoreError.
   */
  append(draft: Draft): Promise<OutboxEntry> {
    const { entry, durable } = this.write(draft);
    return durable.then(() => entry);
  }

  /**
   * Writes a send whose caller cannot wait (a tell): the write is done when this returns; the
   * flush to disk follows (shared with other appends).
   */
  appendNow(draft: Draft): OutboxEntry {
    const { entry, durable } = this.write(draft);
    durable.catch((err: unknown) => this.failed("flushing a tell to the outbox failed", err));
    return entry;
  }

  status(): OutboxStatus {
    return {
      online: this.online,
      pending: this.store.pendingCount,
      bytes: this.store.bytes,
      oldestAgeMs: this.oldestAgeMs(),
      deadLetters: this.store.deadLetters().length,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      recovery: this.store.recovery.summary,
    };
  }

  /** The dead letters, oldest first (each with its entry and reason). */
  deadLetters(): readonly DeadLetter[] {
    return this.store.deadLetters();
  }

  /** Puts every dead letter back in the outbox (same msgId); returns how many. */
  replayDeadLetters(): number {
    const n = this.store.replayDeadLetters();
    if (n > 0) this.forwarder.kick();
    return n;
  }

  /** Forgets every dead letter; returns how many. */
  purgeDeadLetters(): number {
    return this.store.purgeDeadLetters();
  }

  /** Resolves once nothing is pending (at once when nothing is), e.g. before a planned shutdown. */
  drained(): Promise<void> {
    if (this.store.pendingCount === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.on("drained", () => {
        off();
        resolve();
      });
    });
  }

  /** Listens to an event; returns the function that stops listening. */
  on<E extends keyof OutboxEvents>(event: E, listener: OutboxEvents[E]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (...args: never[]) => void);
    return () => set.delete(listener as (...args: never[]) => void);
  }

  /** Stops forwarding (the batch in flight settles), flushes and closes the files. What is pending stays for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    await this.forwarder.stop();
    for (const off of this.unobserve) off();
    this.store.close();
  }

  private write(draft: Draft): { entry: OutboxEntry; durable: Promise<void> } {
    const written = this.store.append(
      draft.msgId === undefined && (draft.kind === "job" || draft.kind === "event")
        ? { ...draft, msgId: globalThis.crypto.randomUUID() }
        : draft,
    );
    if (this.online) this.forwarder.kick();
    return written;
  }

  private connectionChanged(up: boolean): void {
    if (up === this.online || this.closed) return;
    this.online = up;
    this.logger.info(up ? "outbox online: forwarding" : "outbox offline: sends are kept", {
      path: this.options.path,
      pending: this.store.pendingCount,
    });
    this.emit(up ? "online" : "offline");
    if (up) {
      this.forwarder.reset();
      this.forwarder.kick();
    }
  }

  private sweep(): void {
    if (this.closed) return;
    try {
      this.forwarder.expire();
    } catch (err) {
      this.failed("moving expired outbox entries to the dead letters failed", err);
    }
  }

  private oldestAgeMs(): number {
    const oldest = this.store.oldest();
    return oldest ? Math.max(0, Date.now() - oldest.atMs) : 0;
  }

  private failed(what: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const code = errorType(err);
    this.lastError = { message, code, atMs: Date.now() };
    // Lanes waiting for a host fail again every second or so: one line per interval, with the count.
    repeatsOf(this.logger).warn(`outbox:${what}:${code}`, what, { path: this.options.path, err });
  }

  private emit<E extends keyof OutboxEvents>(event: E, ...args: Parameters<OutboxEvents[E]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (...a: Parameters<OutboxEvents[E]>) => void)(...args);
      } catch (err) {
        this.logger.error(`an outbox "${event}" listener threw`, { err });
      }
    }
  }
}
