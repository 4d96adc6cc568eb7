/**
 * The files of an outbox directory (see store.ts): reading them back (intact records kept, a torn
 * tail and damaged spans reported), repairing them (a torn tail cut off, a damaged file copied
 * aside and rewritten), replacing a file atomically, and the read-only inspection of the CLI.
 */
import {
  closeSync,
  copyFileSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { type DeadLetter, decodeDeadLetter, decodeEntry, decodeSeqs, type OutboxEntry } from "./entry.js";
import { OutboxStoreError } from "./errors.js";
import {
  DEAD_MAGIC,
  fileHeader,
  headerProblem,
  LOG_MAGIC,
  RECORD_DEAD,
  RECORD_DONE,
  RECORD_ENTRY,
  readFrames,
} from "./frames.js";

export const LOG_FILE = "outbox.log";
export const DEAD_FILE = "dead-letters.log";
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

export interface Pending {
  readonly entry: OutboxEntry;
  readonly bytes: number;
}

/** What a read of the directory found (used by open and by the CLI's read-only inspection). */
export interface Loaded {
  readonly pending: Map<number, Pending>;
  readonly deadLetters: DeadLetter[];
  readonly nextSeq: number;
  readonly logRecovery: FileRecovery | undefined;
  readonly deadRecovery: FileRecovery | undefined;
  readonly logValidEnd: number;
  readonly deadValidEnd: number;
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

export function load(dir: string, create = true): Loaded {
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
export function repair(
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
export function replaceFile(
  dir: string,
  file: string,
  magic: string,
  records: readonly Uint8Array[],
): number {
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

export function fileSize(dir: string, file: string): number {
  return readFileSync(path.join(dir, file)).length;
}

export function writeWhole(fd: number, bytes: Uint8Array, file: string): void {
  let at = 0;
  try {
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
  } catch (err) {
    throw new OutboxStoreError(`writing ${file} failed: ${(err as Error).message}`, { cause: err });
  }
}

export function summarize(files: readonly FileRecovery[]): string {
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
