/**
 * The outbox's durable store: an append-only log in one directory, written by this module alone.
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
 * with what was intact.
 *
 * @example
 * ```ts
 * const store = OutboxStore.open("/var/lib/app/outbox", { maxBytes: 64 << 20, maxMessages: 100_000 });
 * const { entry, durable } = store.append({ kind: "event", subject: "troupe.evt.x", data, msgId: "m1" });
 * await durable;                 // on disk
 * store.markDone([entry.seq]);   // forwarded
 * ```
 */
import {
  closeSync,
  copyFileSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import {
  type DeadLetter,
  type Draft,
  decodeDeadLetter,
  decodeEntry,
  decodeSeqs,
  encodeDeadLetter,
  encodeEntry,
  encodeSeqs,
  laneOf,
  type OutboxEntry,
} from "./entry.js";
import { OutboxFullError, OutboxStoreError } from "./errors.js";
import {
  DEAD_MAGIC,
  fileHeader,
  frame,
  HEADER_BYTES,
  headerProblem,
  LOG_MAGIC,
  RECORD_DEAD,
  RECORD_DONE,
  RECORD_ENTRY,
  readFrames,
} from "./frames.js";
import { lockDirectory } from "./lock.js";

export const LOG_FILE = "outbox.log";
export const DEAD_FILE = "dead-letters.log";
/** A log this much larger than its pending entries (and past {@link COMPACT_MIN_BYTES}) is rewritten. */
const COMPACT_RATIO = 4;
const COMPACT_MIN_BYTES = 32 * 1024 * 1024;

export interface StoreLimits {
  /** Pending entries at most; an append beyond fails with OutboxFullError. */
  readonly maxMessages: number;
  /** Bytes of pending entries at most (as stored, framing included). */
  readonly maxBytes: number;
}

/** What opening found wrong in a file, and what it did about it. */
export interface FileRecovery {
  readonly file: string;
  /** Intact records kept. */
  readonly recordsKept: number;
  /** Bytes of a torn last record, cut off. */
  readonly truncatedBytes: number;
  /** Damaged spans skipped (file offsets). */
  readonly corrupt: readonly { offset: number; length: number }[];
  /** Records whose checksum held but whose content was not an entry (skipped). */
  readonly undecodable: number;
  /** Where a copy of the damaged file was saved before it was rewritten. */
  readonly savedCopy?: string;
}

/** What {@link OutboxStore.open} and {@link inspectOutbox} report: one line per file that needed it. */
export interface RecoveryReport {
  readonly files: readonly FileRecovery[];
  /** A readable summary ("" when both files were intact). */
  readonly summary: string;
}

interface Pending {
  readonly entry: OutboxEntry;
  readonly bytes: number;
}

interface Waiter {
  readonly upTo: number;
  resolve(): void;
  reject(err: Error): void;
}

/** What a read of the directory found (used by open and by the CLI's read-only inspection). */
interface Loaded {
  readonly pending: Map<number, Pending>;
  readonly deadLetters: DeadLetter[];
  readonly nextSeq: number;
  readonly logRecovery: FileRecovery | undefined;
  readonly deadRecovery: FileRecovery | undefined;
  readonly logValidEnd: number;
  readonly deadValidEnd: number;
}

export class OutboxStore {
  private logFd: number;
  private deadFd: number;
  private size: number;
  private synced: number;
  private syncing = false;
  /** The log was cut back and no fdatasync begun since has returned: the next one must run. */
  private cutUnsynced = false;
  /** Bumped when the log file is replaced or cut back: an fdatasync begun before does not count. */
  private generation = 0;
  private waiters: Waiter[] = [];
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
    this.logFd = openSync(path.join(dir, LOG_FILE), "a");
    this.deadFd = openSync(path.join(dir, DEAD_FILE), "a");
    this.size = loaded.logValidEnd;
    this.synced = this.size;
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
    return this.synced < this.size || this.cutUnsynced;
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
    this.writeLog(record);
    this.nextSeq++;
    this.pending.set(entry.seq, { entry, bytes: record.length });
    this.pendingBytes += record.length;
    this.addToLane(entry);
    return { entry, durable: this.flushedUpTo(this.size) };
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
      this.cutBackToHeader();
      this.flush();
      return;
    }
    this.writeLog(frame(RECORD_DONE, encodeSeqs(done)));
    this.flush(); // in the next group commit; nobody waits for it
    if (this.size > COMPACT_MIN_BYTES && this.size > COMPACT_RATIO * (this.pendingBytes + HEADER_BYTES)) {
      this.rewriteLog();
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
      fdatasyncSync(this.logFd);
      this.synced = this.size;
    } finally {
      this.settleWaiters();
      closeSync(this.logFd);
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

  private writeLog(record: Uint8Array): void {
    try {
      writeWhole(this.logFd, record, path.join(this.dir, LOG_FILE));
    } catch (err) {
      try {
        ftruncateSync(this.logFd, this.size); // nothing half-written stays behind
      } catch (cut) {
        throw new OutboxStoreError(
          `writing the outbox failed and cutting the partial record off failed too: ${(cut as Error).message}`,
          { cause: err },
        );
      }
      throw err;
    }
    this.size += record.length;
  }

  /** Resolves once an fdatasync covering `upTo` bytes of the log returned. */
  private flushedUpTo(upTo: number): Promise<void> {
    if (this.synced >= upTo) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ upTo, resolve, reject });
      this.flush();
    });
  }

  /** One fdatasync at a time; appends made meanwhile share the next one. */
  private flush(): void {
    if (this.syncing || this.closed || (this.synced >= this.size && !this.cutUnsynced)) return;
    this.syncing = true;
    const target = this.size;
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
  private cutBackToHeader(): void {
    ftruncateSync(this.logFd, HEADER_BYTES);
    this.generation++;
    this.cutUnsynced = true;
    this.size = HEADER_BYTES;
    this.synced = HEADER_BYTES;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.resolve();
  }

  /** Writes the pending entries to a new log beside the old one, flushes it and renames it over. */
  private rewriteLog(): void {
    const records = [...this.pending.values()].map((p) => frame(RECORD_ENTRY, encodeEntry(p.entry)));
    const size = replaceFile(this.dir, LOG_FILE, LOG_MAGIC, records);
    closeSync(this.logFd);
    this.logFd = openSync(path.join(this.dir, LOG_FILE), "a");
    this.generation++;
    this.size = size;
    this.synced = size;
    this.settleWaiters();
  }
}

/** Reads the outbox in `dir` without taking its lock or changing anything (for `troupe outbox ls`). */
export function inspectOutbox(dir: string): {
  pending: OutboxEntry[];
  deadLetters: DeadLetter[];
  recovery: RecoveryReport;
} {
  const loaded = load(dir, false);
  const files = [loaded.logRecovery, loaded.deadRecovery].filter((r) => r !== undefined);
  return {
    pending: [...loaded.pending.values()].map((p) => p.entry),
    deadLetters: loaded.deadLetters,
    recovery: { files, summary: summarize(files) },
  };
}

function load(dir: string, create = true): Loaded {
  const log = readOrCreate(dir, LOG_FILE, LOG_MAGIC, create);
  const pending = new Map<number, Pending>();
  let maxSeq = 0;
  let undecodable = 0;
  const logRead = readFrames(log);
  for (const f of logRead.frames) {
    try {
      if (f.type === RECORD_ENTRY) {
        const entry = decodeEntry(f.body);
        pending.set(entry.seq, { entry, bytes: f.bytes });
        if (entry.seq > maxSeq) maxSeq = entry.seq;
      } else if (f.type === RECORD_DONE) {
        for (const s of decodeSeqs(f.body)) pending.delete(s);
      } else undecodable++;
    } catch {
      undecodable++;
    }
  }
  const dead = readOrCreate(dir, DEAD_FILE, DEAD_MAGIC, create);
  const deadLetters: DeadLetter[] = [];
  let deadUndecodable = 0;
  const deadRead = readFrames(dead);
  for (const f of deadRead.frames) {
    try {
      if (f.type !== RECORD_DEAD) throw new Error("not a dead letter");
      const letter = decodeDeadLetter(f.body);
      deadLetters.push(letter);
      if (letter.entry.seq > maxSeq) maxSeq = letter.entry.seq;
    } catch {
      deadUndecodable++;
    }
  }
  return {
    pending,
    deadLetters,
    nextSeq: maxSeq + 1,
    logRecovery: recoveryOf(LOG_FILE, logRead, logRead.frames.length - undecodable, undecodable),
    deadRecovery: recoveryOf(DEAD_FILE, deadRead, deadLetters.length, deadUndecodable),
    logValidEnd: logRead.report.validEnd,
    deadValidEnd: deadRead.report.validEnd,
  };
}

function readOrCreate(dir: string, file: string, magic: string, create: boolean): Uint8Array {
  const full = path.join(dir, file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(full);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    const header = fileHeader(magic);
    if (create) replaceFile(dir, file, magic, []);
    return header;
  }
  const problem = headerProblem(bytes, magic);
  if (problem) {
    throw new OutboxStoreError(`${full} is not an outbox file: it ${problem}; move it away to start afresh`, {
      details: { path: full },
    });
  }
  return bytes;
}

function recoveryOf(
  file: string,
  read: ReturnType<typeof readFrames>,
  recordsKept: number,
  undecodable: number,
): FileRecovery | undefined {
  const { truncatedBytes, corrupt } = read.report;
  if (truncatedBytes === 0 && corrupt.length === 0 && undecodable === 0) return undefined;
  return { file, recordsKept, truncatedBytes, corrupt, undecodable };
}

/**
 * Makes a file that needed recovery whole again: a torn tail is cut off; a file with damage inside
 * is copied aside (`<file>.damaged-<time>`) and rewritten from its intact records.
 */
function repair(
  dir: string,
  file: string,
  magic: string,
  recovery: FileRecovery | undefined,
  validEnd: number,
  records: () => Uint8Array[],
): void {
  if (!recovery) return;
  const full = path.join(dir, file);
  if (recovery.corrupt.length === 0 && recovery.undecodable === 0) {
    const fd = openSync(full, "r+");
    try {
      ftruncateSync(fd, validEnd);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return;
  }
  const copy = `${full}.damaged-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  copyFileSync(full, copy);
  (recovery as { savedCopy?: string }).savedCopy = copy;
  replaceFile(dir, file, magic, records());
}

/** Writes header + records to `<file>.tmp`, flushes it, renames it over `file`, flushes the directory. */
function replaceFile(dir: string, file: string, magic: string, records: readonly Uint8Array[]): number {
  const full = path.join(dir, file);
  const tmp = `${full}.tmp`;
  const fd = openSync(tmp, "w");
  let size = 0;
  try {
    const header = fileHeader(magic);
    writeWhole(fd, header, tmp);
    size += header.length;
    for (const r of records) {
      writeWhole(fd, r, tmp);
      size += r.length;
    }
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, full);
  syncDirectory(dir);
  return size;
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fileSize(dir: string, file: string): number {
  return readFileSync(path.join(dir, file)).length;
}

function writeWhole(fd: number, bytes: Uint8Array, file: string): void {
  let at = 0;
  try {
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
  } catch (err) {
    throw new OutboxStoreError(`writing ${file} failed: ${(err as Error).message}`, { cause: err });
  }
}

function summarize(files: readonly FileRecovery[]): string {
  return files
    .map((f) => {
      const parts = [`${f.file}: kept ${f.recordsKept} intact records`];
      if (f.truncatedBytes > 0) parts.push(`cut off a torn last record (${f.truncatedBytes} bytes)`);
      if (f.corrupt.length > 0) {
        const spans = f.corrupt.map((c) => `${c.length} bytes at offset ${c.offset}`).join(", ");
        parts.push(`skipped ${f.corrupt.length} damaged span(s): ${spans}`);
      }
      if (f.undecodable > 0) parts.push(`skipped ${f.undecodable} record(s) that were not outbox records`);
      if (f.savedCopy) parts.push(`a copy of the damaged file is ${f.savedCopy}`);
      return parts.join("; ");
    })
    .join(". ");
}
