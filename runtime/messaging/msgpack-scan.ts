/**
 * The structural pre-scan behind `decode` (codec.ts) and the state codec (state-codec.ts): one
 * pass over raw msgpack bytes that allocates nothing and refuses, with `MalformedMessageError`,
 * everything codec.ts's header lists (truncation, trailing bytes, oversized lengths, nesting
 * deeper than allowed, extensions other than timestamp and undefined, the reserved byte 0xc1,
 * map keys that are not str/int, forbidden keys, too many elements) before msgpackr sees a byte.
 */
import { MalformedMessageError } from "../errors.js";

/** @internal The error of a refused payload (also used by codec.ts). */
export function malformed(reason: string, offset: number, what: string): MalformedMessageError {
  return new MalformedMessageError(`malformed msgpack: ${what} at byte offset ${offset}`, {
    details: { reason, offset },
  });
}

// Explicit stack for the pre-scan: per open container, the items the parent still expects and
// whether the parent is a map. Module-level and reused (the scan is synchronous, never re-entered);
// grown only when a caller raises maxDepth. Int32 keeps the counters small integers for V8 (twice
// as fast as doubles); counts never exceed the input length, itself capped at MAX_PAYLOAD_BYTES.
let pendingStack = new Int32Array(65);
let mapStack = new Uint8Array(65);

/** @internal Which map keys the pre-scan refuses: the wire all three names, stored state only `__proto__`. */
export const WIRE_KEYS = 0;
/** @internal See {@link WIRE_KEYS}; used by state-codec.ts. */
export const STATE_KEYS = 1;
export type KeyPolicy = typeof WIRE_KEYS | typeof STATE_KEYS;

/**
 * Structural pre-scan over raw msgpack: one pass, no decoded values, no allocation (besides the
 * error it throws). Validates exactly one top-level value and every rule listed in codec.ts
 * (with `STATE_KEYS`, the keys `constructor` and `prototype` are allowed).
 * @internal Used by state-codec.ts; everything else decodes through `decode` (codec.ts).
 */
export function scan(b: Uint8Array, maxDepth: number, maxKeys: number, keys: KeyPolicy): void {
  const end = b.length;
  // Depth can never exceed the byte count (each container takes >= 1 byte), so this bounds growth
  // even for maxDepth = Infinity.
  const stackSize = Math.min(Number.isNaN(maxDepth) ? 0 : maxDepth, end) + 1;
  if (pendingStack.length < stackSize) {
    pendingStack = new Int32Array(stackSize);
    mapStack = new Uint8Array(stackSize);
  }
  let pos = 0;
  let depth = 0; // containers currently open
  let pending = 1; // items still expected at this level (a map expects 2 per entry)
  let inMap = false;
  let total = 0; // array elements + map entries seen so far

  for (;;) {
    if (pending === 0) {
      if (depth === 0) break;
      depth--;
      pending = pendingStack[depth] as number;
      inMap = mapStack[depth] === 1;
      continue;
    }
    if (pos >= end) throw malformed("truncated", pos, "input ends where a value was expected");
    // In a map, an even count of remaining items means the next item is a key.
    const isKey = inMap && (pending & 1) === 0;
    pending--;
    const t = b[pos] as number;

    // positive / negative fixint: valid as a value and as a key
    if (t < 0x80 || t >= 0xe0) {
      pos++;
      continue;
    }
    // fixstr
    if (t >= 0xa0 && t < 0xc0) {
      pos = skipStr(b, pos, 1, t & 0x1f, isKey, keys);
      continue;
    }
    if (isKey && !(t >= 0xcc && t <= 0xd3) && !(t >= 0xd9 && t <= 0xdb)) {
      throw malformed("bad-key-type", pos, `map key of type 0x${hex(t)} (only str and int keys are allowed)`);
    }

    let n: number; // container element count
    let hdr: number; // container header size
    let isMap = false;
    if (t < 0x90) {
      n = t & 0x0f;
      hdr = 1;
      isMap = true;
    } else if (t < 0xa0) {
      n = t & 0x0f;
      hdr = 1;
    } else {
      switch (t) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          pos++;
          continue;
        case 0xc1:
          throw malformed("reserved-byte", pos, "reserved byte 0xc1");
        case 0xc4: // bin 8
          need(b, pos, 2);
          pos = skipPayload(b, pos, 2, b[pos + 1] as number, "bin");
          continue;
        case 0xc5: // bin 16
          need(b, pos, 3);
          pos = skipPayload(b, pos, 3, u16(b, pos + 1), "bin");
          continue;
        case 0xc6: // bin 32
          need(b, pos, 5);
          pos = skipPayload(b, pos, 5, u32(b, pos + 1), "bin");
          continue;
        case 0xc7: // ext 8: len, type
          need(b, pos, 3);
          pos = checkExt(b, pos, 3, b[pos + 1] as number);
          continue;
        case 0xc8: // ext 16
          need(b, pos, 4);
          pos = checkExt(b, pos, 4, u16(b, pos + 1));
          continue;
        case 0xc9: // ext 32
          need(b, pos, 6);
          pos = checkExt(b, pos, 6, u32(b, pos + 1));
          continue;
        case 0xca: // float 32
        case 0xce: // uint 32
        case 0xd2: // int 32
          need(b, pos, 5);
          pos += 5;
          continue;
        case 0xcb: // float 64
        case 0xcf: // uint 64
        case 0xd3: // int 64
          need(b, pos, 9);
          pos += 9;
          continue;
        case 0xcc: // uint 8
        case 0xd0: // int 8
          need(b, pos, 2);
          pos += 2;
          continue;
        case 0xcd: // uint 16
        case 0xd1: // int 16
          need(b, pos, 3);
          pos += 3;
          continue;
        case 0xd4: // fixext 1
          need(b, pos, 2);
          pos = checkExt(b, pos, 2, 1);
          continue;
        case 0xd5: // fixext 2
          need(b, pos, 2);
          pos = checkExt(b, pos, 2, 2);
          continue;
        case 0xd6: // fixext 4
          need(b, pos, 2);
          pos = checkExt(b, pos, 2, 4);
          continue;
        case 0xd7: // fixext 8
          need(b, pos, 2);
          pos = checkExt(b, pos, 2, 8);
          continue;
        case 0xd8: // fixext 16
          need(b, pos, 2);
          pos = checkExt(b, pos, 2, 16);
          continue;
        case 0xd9: // str 8
          need(b, pos, 2);
          pos = skipStr(b, pos, 2, b[pos + 1] as number, isKey, keys);
          continue;
        case 0xda: // str 16
          need(b, pos, 3);
          pos = skipStr(b, pos, 3, u16(b, pos + 1), isKey, keys);
          continue;
        case 0xdb: // str 32
          need(b, pos, 5);
          pos = skipStr(b, pos, 5, u32(b, pos + 1), isKey, keys);
          continue;
        case 0xdc: // array 16
          need(b, pos, 3);
          n = u16(b, pos + 1);
          hdr = 3;
          break;
        case 0xdd: // array 32
          need(b, pos, 5);
          n = u32(b, pos + 1);
          hdr = 5;
          break;
        case 0xde: // map 16
          need(b, pos, 3);
          n = u16(b, pos + 1);
          hdr = 3;
          isMap = true;
          break;
        case 0xdf: // map 32
          need(b, pos, 5);
          n = u32(b, pos + 1);
          hdr = 5;
          isMap = true;
          break;
        default:
          // unreachable: every byte value is covered above
          throw malformed("reserved-byte", pos, `unknown token 0x${hex(t)}`);
      }
    }

    // Open an array or map of n elements.
    if (!(depth < maxDepth)) {
      throw malformed("too-deep", pos, `nesting deeper than ${maxDepth}`);
    }
    const start = pos;
    pos += hdr;
    // Each element takes at least 1 byte (a map entry at least 2): a larger count cannot be real.
    if (isMap ? n * 2 > end - pos : n > end - pos) {
      throw malformed(
        "length-exceeds-input",
        start,
        `${isMap ? "map" : "array"} declares ${n} ${isMap ? "entries" : "elements"} but only ${end - pos} bytes remain`,
      );
    }
    total += n;
    if (!(total <= maxKeys)) {
      throw malformed(
        "too-many-elements",
        start,
        `more than ${maxKeys} array elements and map entries in total`,
      );
    }
    if (n === 0) continue;
    pendingStack[depth] = pending;
    mapStack[depth] = inMap ? 1 : 0;
    depth++;
    pending = isMap ? n * 2 : n;
    inMap = isMap;
  }

  if (pos !== end) {
    throw malformed("trailing-bytes", pos, `${end - pos} trailing bytes after the top-level value`);
  }
}

function need(b: Uint8Array, pos: number, hdr: number): void {
  if (b.length - pos < hdr) throw malformed("truncated", pos, "input ends inside a value header");
}

function u16(b: Uint8Array, p: number): number {
  return ((b[p] as number) << 8) | (b[p + 1] as number);
}

function u32(b: Uint8Array, p: number): number {
  return (
    (b[p] as number) * 0x1000000 +
    (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number))
  );
}

function hex(t: number): string {
  return t.toString(16).padStart(2, "0");
}

/** Skips a str/bin/ext payload of `len` bytes after a `hdr`-byte header; returns the next offset. */
function skipPayload(b: Uint8Array, pos: number, hdr: number, len: number, kind: string): number {
  if (len > b.length - pos - hdr) {
    throw malformed(
      "length-exceeds-input",
      pos,
      `${kind} declares ${len} bytes but only ${b.length - pos - hdr} remain`,
    );
  }
  return pos + hdr + len;
}

/**
 * A string; as a map key it must not spell `__proto__`, `constructor` or `prototype` (with
 * `STATE_KEYS`: `__proto__`, the one key msgpackr does not decode as an ordinary own property).
 */
function skipStr(
  b: Uint8Array,
  pos: number,
  hdr: number,
  len: number,
  isKey: boolean,
  keys: KeyPolicy,
): number {
  const next = skipPayload(b, pos, hdr, len, "str");
  if (!isKey || (len !== 9 && len !== 11)) return next;
  if (keys === WIRE_KEYS ? isForbiddenKey(b, pos + hdr, len) : isProtoKey(b, pos + hdr, len)) {
    throw malformed(
      "forbidden-key",
      pos,
      keys === WIRE_KEYS
        ? "forbidden map key (__proto__, constructor or prototype)"
        : "forbidden map key __proto__",
    );
  }
  return next;
}

function isProtoKey(b: Uint8Array, p: number, len: number): boolean {
  return len === 9 && b[p] === 0x5f && isForbiddenKey(b, p, len);
}

const PROTO = ascii("__proto__");
const PROTOTYPE = ascii("prototype");
const CONSTRUCTOR = ascii("constructor");

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function isForbiddenKey(b: Uint8Array, p: number, len: number): boolean {
  const name = len === 11 ? CONSTRUCTOR : b[p] === 0x5f ? PROTO : PROTOTYPE;
  for (let i = 0; i < len; i++) {
    if (b[p + i] !== name[i]) return false;
  }
  return true;
}

/**
 * An extension with `len` data bytes after a `hdr`-byte header (whose last byte is the type).
 * Allowed: timestamp (-1) with 4, 8 or 12 bytes and valid nanoseconds; undefined (0) as fixext1 0.
 */
function checkExt(b: Uint8Array, pos: number, hdr: number, len: number): number {
  const next = skipPayload(b, pos, hdr, len, "ext");
  const type = b[pos + hdr - 1] as number;
  const data = pos + hdr;
  if (type === 0xff) {
    // timestamp 32: uint32 seconds; 64: 30-bit nanoseconds + 34-bit seconds; 96: uint32 ns + int64 s
    if (len === 4) return next;
    if (len === 8 && u32(b, data) / 4 < 1e9) return next;
    if (len === 12 && u32(b, data) < 1e9) return next;
    throw malformed("forbidden-extension", pos, `invalid timestamp extension (${len} data bytes)`);
  }
  if (type === 0x00 && len === 1 && b[pos] === 0xd4 && b[data] === 0) return next;
  const signed = type > 127 ? type - 256 : type;
  throw malformed(
    "forbidden-extension",
    pos,
    `extension type ${signed} (0x${hex(type)}) of ${len} bytes is not allowed (only timestamp -1 and undefined 0)`,
  );
}
