/**
 * The outbox's file format: a fixed header, then records framed so that a torn or damaged write is
 * always detected and never mistaken for data.
 *
 * ```
 * file   := magic(8) version(u32 LE) record*
 * record := length(u32 LE) crc32(u32 LE) body[length]      body[0] = record type
 * ```
 *
 * Reading ({@link readFrames}) keeps every complete record whose checksum holds:
 * - a record cut short at the end of the file (a write torn by a crash) ends the read; its bytes
 *   are reported as `truncatedBytes`;
 * - a record whose checksum fails (a damaged sector, a stray write) is skipped: the reader scans
 *   forward for the next offset where a whole record with a valid checksum starts, and reports the
 *   skipped span in `corrupt`. A false resynchronisation needs a 32-bit checksum to match by
 *   chance on bytes that also parse as a record of a known type.
 *
 * @example
 * ```ts
 * const { records, report } = readFrames(readFileSync(path), LOG_MAGIC);
 * ```
 */
import { crc32 } from "./crc32.js";

export const HEADER_BYTES = 12;
export const FRAME_OVERHEAD = 8;
/** The largest record body accepted when reading: a larger length field is damage, not data. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const VERSION = 1;

export const LOG_MAGIC = "TRPOUTBX";
export const DEAD_MAGIC = "TRPDEADL";

/** Record types (first body byte). */
export const RECORD_ENTRY = 1;
export const RECORD_DONE = 2;
export const RECORD_DEAD = 3;
const KNOWN_TYPES = new Set([RECORD_ENTRY, RECORD_DONE, RECORD_DEAD]);

export interface Frame {
  readonly type: number;
  /** The body after its type byte. */
  readonly body: Uint8Array;
  /** File offset of the frame. */
  readonly offset: number;
  /** Frame length, overhead included. */
  readonly bytes: number;
}

/** What reading a file found besides its records. */
export interface ReadReport {
  /** Bytes at the end that did not form a whole record (a torn last write). */
  truncatedBytes: number;
  /** Damaged spans that were skipped, by file offset. */
  corrupt: { offset: number; length: number }[];
  /** Where the last whole record ends: appends continue here. */
  validEnd: number;
}

export function fileHeader(magic: string): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(Buffer.from(magic, "latin1"), 0);
  new DataView(header.buffer).setUint32(8, VERSION, true);
  return header;
}

/** One framed record of `type` around `body`. */
export function frame(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_OVERHEAD + 1 + body.length);
  out[FRAME_OVERHEAD] = type;
  out.set(body, FRAME_OVERHEAD + 1);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length + 1, true);
  view.setUint32(4, crc32(out, FRAME_OVERHEAD), true);
  return out;
}

/** Why a file is not an outbox file at all (wrong magic or version), or undefined when it is. */
export function headerProblem(bytes: Uint8Array, magic: string): string | undefined {
  if (bytes.length < HEADER_BYTES)
    return `shorter (${bytes.length} bytes) than the ${HEADER_BYTES}-byte header`;
  const found = Buffer.from(bytes.subarray(0, 8)).toString("latin1");
  if (found !== magic) return `starts with ${JSON.stringify(found)}, not ${JSON.stringify(magic)}`;
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (version !== VERSION) return `has format version ${version}; this Troupe reads version ${VERSION}`;
  return undefined;
}

/** Every whole, intact record after the header (see the module comment for damaged files). */
export function readFrames(bytes: Uint8Array): { frames: Frame[]; report: ReadReport } {
  const frames: Frame[] = [];
  const report: ReadReport = { truncatedBytes: 0, corrupt: [], validEnd: HEADER_BYTES };
  let at = HEADER_BYTES;
  while (at < bytes.length) {
    const found = frameAt(bytes, at);
    if (found === "short") {
      // Nothing whole follows: either a torn last write or damage at the very end.
      const next = resync(bytes, at + 1);
      if (next < 0) {
        report.truncatedBytes = bytes.length - at;
        break;
      }
      report.corrupt.push({ offset: at, length: next - at });
      at = next;
      continue;
    }
    if (found === "bad") {
      const next = resync(bytes, at + 1);
      const end = next < 0 ? bytes.length : next;
      report.corrupt.push({ offset: at, length: end - at });
      if (next < 0) break;
      at = next;
      continue;
    }
    frames.push(found);
    at += found.bytes;
    report.validEnd = at;
  }
  return { frames, report };
}

function frameAt(bytes: Uint8Array, at: number): Frame | "short" | "bad" {
  if (at + FRAME_OVERHEAD > bytes.length) return "short";
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const length = view.getUint32(at, true);
  if (length === 0 || length > MAX_RECORD_BYTES) return "bad";
  const end = at + FRAME_OVERHEAD + length;
  if (end > bytes.length) return "short";
  if (crc32(bytes, at + FRAME_OVERHEAD, end) !== view.getUint32(at + 4, true)) return "bad";
  const type = bytes[at + FRAME_OVERHEAD] as number;
  if (!KNOWN_TYPES.has(type)) return "bad";
  return { type, body: bytes.subarray(at + FRAME_OVERHEAD + 1, end), offset: at, bytes: end - at };
}

/** The next offset from `from` where a whole intact record starts, or -1. */
function resync(bytes: Uint8Array, from: number): number {
  for (let at = from; at + FRAME_OVERHEAD < bytes.length; at++) {
    const found = frameAt(bytes, at);
    if (typeof found === "object") return at;
  }
  return -1;
}
