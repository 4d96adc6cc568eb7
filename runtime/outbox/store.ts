/**
 * The outbox's durable store: an append-only log in one directory, written by this module alone
 * (with its parts: the log file and its group commit in log-file.ts, reading and repairing the
 * files in store-files.ts).
 *
 * - `outbox.log`: entry records (a send) and done records (the seqs forwarded or given up), so the
 *   pending entries are the entries without a done record, in append order.
 * - `dead-letters.log`: entries given up (expired, refused for good), each with its reason.
 * - `lock`: the pid of the process that owns the directory (see lock.ts).
 *
 * Durability. An append is one `write()` of one whole framed record, made before `append()`
 * returns: from then on the entry survives the process being killed (SIGKILL included; the bytes
 * are in the kernel). `durable` resolves once an `fdatasync()` covering it returned: from then on
 * it also survives power loss. Appends made while an fdatasync runs share the next one (group
 * commit), so concurrent senders pay one disk flush per batch, not per message. A write that
 * fails (a full disk) is cut back off the file: nothing half-written stays behind. Done records
 * (and the log cut back to its header when nothing is pending) join the same group commit, but
 * nobody waits for them: a power loss can undo only those made since the fdatasync in progress
 * began, and their entries are sent again after the restart (JetStream drops a job or durable
 * event as a duplicate within its window; a tell arrives twice). A log grown much larger than its
 * pending entries is rewritten beside, flushed and renamed over (atomic).
 *
 * Opening reads every intact record back (frames.ts): a torn last record is cut off, damaged spans
 * are skipped and reported, a copy of a damaged file is kept beside it, and the log is rewritten
 * with what was intact (store-files.ts: reading, repairing and replacing the files).
 *
 * @example
 * ```ts
 * const store = OutboxStore.open("/var/lib/app/outbox", { maxBytes: 64 << 20, maxMessages: 100_000 });
 * const { entry, durable } = store.append({ kind: "event", subject: "troupe.evt.x", data, msgId: "m1" });
 * await durable;                 // on disk
 * store.markDone([entry.seq]);   // forwarded
 * ```
 */
import { closeSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import {
  type DeadLetter,
  type Draft,
  encodeDeadLetter,
  encodeEntry,
  encodeSeqs,
  laneOf,
  type OutboxEntry,
} from "./entry.js";
import { OutboxFullError, OutboxStoreError } from "./errors.js";
import {
  DEAD_MAGIC,
  frame,
  HEADER_BYTES,
  LOG_MAGIC,
  RECORD_DEAD,
  RECORD_DONE,
  RECORD_ENTRY,
} from "./frames.js";
import { lockDirectory } from "./lock.js";
import { LogFile } from "./log-file.js";
import {
  DEAD_FILE,
  fileSize,
  LOG_FILE,
  type Loaded,
  load,
  type Pending,
  type RecoveryReport,
  repair,
  summarize,
  writeWhole,
} from "./store-files.js";

/** A log this much larger than its pending entries (and past {@link COMPACT_MIN_BYTES}) is rewritten. */
const COMPACT_RATIO = 4;
const COMPACT_MIN_BYTES = 32 * 1024 * 1024;

export interface StoreLimits {
  /** Pending entries at most; an append beyond fails with OutboxFullError. */
  readonly maxMessages: number;
  /** Bytes of pending entries at most (as stored, framing included). */
  readonly maxBytes: number;
}

export class OutboxStore {
  private readonly log: LogFile;
  private deadFd: number;
  private readonly pending: Map<number, Pending>;
  /** The pending entries by lane, each oldest first; lanes in the order they are to be served. */
  private readonly lanes = new Map<string, Map<number, OutboxEntry>>();
  private pendingBytes = 0;
  private nextSeq: number;
  private readonly dead: DeadLetter[];
  private closed = false;
  private readonly unlock: () => void;

  private constructor(
    readonly dir: string,
    private readonly limits: StoreLimits,
    loaded: Loaded,
    unlock: () => void,
    readonly recovery: RecoveryReport,
  ) {
    this.unlock = unlock;
    this.pending = loaded.pending;
    for (const p of this.pending.values()) {
      this.pendingBytes += p.bytes;
      this.addToLane(p.entry);
    }
    this.nextSeq = loaded.nextSeq;
    this.dead = loaded.deadLetters;
    this.log = new LogFile(dir, loaded.logValidEnd);
    this.deadFd = openSync(path.join(dir, DEAD_FILE), "a");
  }

  /**
   * Opens (creating if needed) the outbox in `dir`, taking its lock.
   * @throws OutboxLockedError when a live process owns it.
   * @throws OutboxStoreError when a file there is not an outbox file, or cannot be read or written.
   */
  static open(dir: string, limits: StoreLimits): OutboxStore {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new OutboxStoreError(`cannot create the outbox directory ${dir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const unlock = lockDirectory(dir);
    try {
      const loaded = load(dir);
      repair(dir, LOG_FILE, LOG_MAGIC, loaded.logRecovery, loaded.logValidEnd, () =>
        [...loaded.pending.values()].map((p) => frame(RECORD_ENTRY, encodeEntry(p.entry))),
      );
      repair(dir, DEAD_FILE, DEAD_MAGIC, loaded.deadRecovery, loaded.deadValidEnd, () =>
        loaded.deadLetters.map((d) => frame(RECORD_DEAD, encodeDeadLetter(d))),
      );
      const files = [loaded.logRecovery, loaded.deadRecovery].filter((r) => r !== undefined);
      const rewritten = files.some((f) => f.corrupt.length > 0 || f.undecodable > 0);
      const logEnd = rewritten ? fileSize(dir, LOG_FILE) : loaded.logValidEnd;
      return new OutboxStore(dir, limits, { ...loaded, logValidEnd: logEnd }, unlock, {
        files,
        summary: summarize(files),
      });
    } catch (err) {
      unlock();
      throw err instanceof OutboxStoreError
        ? err
        : new OutboxStoreError(`cannot open the outbox at ${dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Pending entries, oldest first. */
  entries(): IterableIterator<OutboxEntry> {
    const it = this.pending.values();
    return (function* () {
      for (const p of it) yield p.entry;
    })();
  }

  /**
   * The lanes with pending entries, in the order they are to be served (see {@link serveLast}),
   * each with its entries oldest first. Live views: read them before changing the store.
   */
  laneQueues(): IterableIterator<[string, ReadonlyMap<number, OutboxEntry>]> {
    return this.lanes.entries();
  }

  /** Moves `lane` to the end of the serving order (it was just served). */
  serveLast(lane: string): void {
    const queue = this.lanes.get(lane);
    if (!queue) return;
    this.lanes.delete(lane);
    this.lanes.set(lane, queue);
  }

  /** Whether something written to the log (entries, done records, a cut) still awaits its fdatasync. */
  get unflushed(): boolean {
    return this.log.unflushed;
  }

  /** Whether `lane` has pending entries. */
  hasLane(lane: string): boolean {
    return this.lanes.has(lane);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Bytes of pending entries as stored. */
  get bytes(): number {
    return this.pendingBytes;
  }

  /** The oldest pending entry, if any. */
  oldest(): OutboxEntry | undefined {
    for (const p of this.pending.values()) return p.entry;
    return undefined;
  }

  deadLetters(): readonly DeadLetter[] {
    return this.dead;
  }

  /**
   * Writes `draft` as the next entry. Returns once the record is written (it survives this process
   * being killed); `durable` resolves once it is flushed to disk.
   * @throws OutboxFullError when the limits would be exceeded (nothing is written).
   * @throws OutboxStoreError when the write fails (nothing stays behind).
   */
  append(draft: Draft, atMs = Date.now()): { entry: OutboxEntry; durable: Promise<void> } {
    this.assertOpen();
    if (this.pending.size >= this.limits.maxMessages) {
      throw new OutboxFullError(`the outbox holds ${this.pending.size} entries, its maxMessages`, {
        details: { pending: this.pending.size, maxMessages: this.limits.maxMessages },
      });
    }
    const entry: OutboxEntry = { ...draft, seq: this.nextSeq, atMs };
    const record = frame(RECORD_ENTRY, encodeEntry(entry));
    if (this.pendingBytes + record.length > this.limits.maxBytes) {
      throw new OutboxFullError(
        `the outbox holds ${this.pendingBytes} bytes; ${record.length} more exceed its maxBytes of ${this.limits.maxBytes}`,
        { details: { bytes: this.pendingBytes, entryBytes: record.length, maxBytes: this.limits.maxBytes } },
      );
    }
    this.log.write(record);
    this.nextSeq++;
    this.pending.set(entry.seq, { entry, bytes: record.length });
    this.pendingBytes += record.length;
    this.addToLane(entry);
    return { entry, durable: this.log.flushedUpTo(this.log.size) };
  }

  /** Entries forwarded (or given up): they are no longer pending. */
  markDone(seqs: readonly number[]): void {
    this.assertOpen();
    const done = seqs.filter((s) => this.pending.has(s));
    if (done.length === 0) return;
    for (const s of done) {
      const p = this.pending.get(s) as Pending;
      this.pendingBytes -= p.bytes;
      this.pending.delete(s);
      const lane = laneOf(p.entry);
      const queue = this.lanes.get(lane);
      queue?.delete(s);
      if (queue?.size === 0) this.lanes.delete(lane);
    }
    if (this.pending.size === 0) {
      this.log.cutBackToHeader();
      this.log.flush();
      return;
    }
    this.log.write(frame(RECORD_DONE, encodeSeqs(done)));
    this.log.flush(); // in the next group commit; nobody waits for it
    const size = this.log.size;
    if (size > COMPACT_MIN_BYTES && size > COMPACT_RATIO * (this.pendingBytes + HEADER_BYTES)) {
      this.log.replace([...this.pending.values()].map((p) => frame(RECORD_ENTRY, encodeEntry(p.entry))));
    }
  }

  /** Gives up `entry`: it moves to the dead letters with `reason` (flushed before it leaves the log). */
  deadLetter(entry: OutboxEntry, reason: string): void {
    this.assertOpen();
    const letter: DeadLetter = { entry, reason, deadAtMs: Date.now() };
    writeWhole(this.deadFd, frame(RECORD_DEAD, encodeDeadLetter(letter)), path.join(this.dir, DEAD_FILE));
    fdatasyncSync(this.deadFd);
    this.dead.push(letter);
    this.markDone([entry.seq]);
  }

  /** Appends every dead letter again as a new entry (same msgId), then empties the dead letters. */
  replayDeadLetters(): number {
    this.assertOpen();
    const letters = [...this.dead];
    for (const { entry } of letters) {
      const { seq: _seq, atMs: _atMs, ...draft } = entry;
      this.append(draft);
    }
    this.purgeDeadLetters();
    return letters.length;
  }

  /** Forgets every dead letter. */
  purgeDeadLetters(): number {
    this.assertOpen();
    const n = this.dead.length;
    ftruncateSync(this.deadFd, HEADER_BYTES);
    fdatasyncSync(this.deadFd);
    this.dead.length = 0;
    return n;
  }

  /** Forgets every pending entry (they are not sent). */
  purgePending(): number {
    const n = this.pending.size;
    this.markDone([...this.pending.keys()]);
    return n;
  }

  /** Flushes, closes the files and releases the lock. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.log.close();
    } finally {
      closeSync(this.deadFd);
      this.unlock();
    }
  }

  private addToLane(entry: OutboxEntry): void {
    const lane = laneOf(entry);
    let queue = this.lanes.get(lane);
    if (!queue) {
      queue = new Map();
      this.lanes.set(lane, queue);
    }
    queue.set(entry.seq, entry);
  }

  private assertOpen(): void {
    if (this.closed) throw new OutboxStoreError(`the outbox at ${this.dir} is closed`);
  }
}
