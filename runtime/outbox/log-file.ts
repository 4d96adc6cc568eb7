/**
 * The outbox's log file (see store.ts) with group commit: a record is written whole or cut back off,
 * `flushedUpTo` resolves once an fdatasync covering it returned, and one fdatasync runs at a time,
 * shared by every append made meanwhile. Cutting the log back to its header and replacing it
 * (compaction) start a new generation: an fdatasync begun before does not count.
 */
import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync } from "node:fs";
import path from "node:path";
import { OutboxStoreError } from "./errors.js";
import { HEADER_BYTES, LOG_MAGIC } from "./frames.js";
import { LOG_FILE, replaceFile, writeWhole } from "./store-files.js";

interface Waiter {
  readonly upTo: number;
  resolve(): void;
  reject(err: Error): void;
}

export class LogFile {
  private logFd: number;
  /** Bytes written to the log (header included). */
  private written: number;
  private synced: number;
  private syncing = false;
  /** The log was cut back and no fdatasync begun since has returned: the next one must run. */
  private cutUnsynced = false;
  /** Bumped when the log file is replaced or cut back: an fdatasync begun before does not count. */
  private generation = 0;
  private waiters: Waiter[] = [];
  private closed = false;

  constructor(
    private readonly dir: string,
    validEnd: number,
  ) {
    this.logFd = openSync(path.join(dir, LOG_FILE), "a");
    this.written = validEnd;
    this.synced = this.written;
  }

  /** Bytes written to the log (header included). */
  get size(): number {
    return this.written;
  }

  /** Whether something written (records, a cut) still awaits its fdatasync. */
  get unflushed(): boolean {
    return this.synced < this.written || this.cutUnsynced;
  }

  /** Appends one whole record; a failed write is cut back off (nothing half-written stays behind). */
  write(record: Uint8Array): void {
    try {
      writeWhole(this.logFd, record, path.join(this.dir, LOG_FILE));
    } catch (err) {
      try {
        ftruncateSync(this.logFd, this.written); // nothing half-written stays behind
      } catch (cut) {
        throw new OutboxStoreError(
          `writing the outbox failed and cutting the partial record off failed too: ${(cut as Error).message}`,
          { cause: err },
        );
      }
      throw err;
    }
    this.written += record.length;
  }

  /** Resolves once an fdatasync covering `upTo` bytes of the log returned. */
  flushedUpTo(upTo: number): Promise<void> {
    if (this.synced >= upTo) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ upTo, resolve, reject });
      this.flush();
    });
  }

  /** One fdatasync at a time; appends made meanwhile share the next one. */
  flush(): void {
    if (this.syncing || this.closed || (this.synced >= this.written && !this.cutUnsynced)) return;
    this.syncing = true;
    const target = this.written;
    const generation = this.generation;
    fdatasync(this.logFd, (err) => {
      this.syncing = false;
      if (this.closed) return;
      // Cut back (or replaced) meanwhile: this fdatasync does not count (cutUnsynced stays set).
      if (generation === this.generation) {
        if (err) {
          this.failWaiters(
            new OutboxStoreError(`flushing the outbox failed: ${err.message}`, { cause: err }),
          );
          return;
        }
        this.synced = Math.max(this.synced, target);
        this.cutUnsynced = false;
      }
      this.settleWaiters();
      this.flush();
    });
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.upTo <= this.synced) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private failWaiters(err: Error): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(err);
  }

  /** Nothing pending: the log goes back to its header (every waiter's entry is already forwarded). */
  cutBackToHeader(): void {
    ftruncateSync(this.logFd, HEADER_BYTES);
    this.generation++;
    this.cutUnsynced = true;
    this.written = HEADER_BYTES;
    this.synced = HEADER_BYTES;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.resolve();
  }

  /** Writes `records` to a new log beside the old one, flushes it and renames it over. */
  replace(records: readonly Uint8Array[]): void {
    const size = replaceFile(this.dir, LOG_FILE, LOG_MAGIC, records);
    closeSync(this.logFd);
    this.logFd = openSync(path.join(this.dir, LOG_FILE), "a");
    this.generation++;
    this.written = size;
    this.synced = size;
    this.settleWaiters();
  }

  /** Flushes and closes the file; waiters covered by the flush resolve. */
  close(): void {
    this.closed = true;
    try {
      fdatasyncSync(this.logFd);
      this.synced = this.written;
    } finally {
      this.settleWaiters();
      closeSync(this.logFd);
    }
  }
}
