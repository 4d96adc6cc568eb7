/**
 * The one msgpack codec for bytes that cross the wire.
 *
 * Encoding is plain, portable msgpack (no msgpackr records, structured clone, bundled strings or
 * `moreTypes` extensions). Decoding treats every input as hostile:
 *
 * 1. the size is capped before anything else looks at the bytes (`PayloadTooLargeError`);
 * 2. a structural pre-scan (msgpack-scan.ts) walks the raw bytes once, allocating nothing, and refuses
 *    (`MalformedMessageError`) anything msgpackr could be tricked with: truncation, trailing
 *    bytes, lengths larger than the input (which msgpackr would pre-allocate), nesting deeper than
 *    `maxDepth` (stack overflow), extensions other than timestamp and undefined (records,
 *    structured clone, error, bundled strings, Set/RegExp/typed arrays... all of which msgpackr's
 *    decoder honours whatever its options say), the reserved byte 0xc1, map keys that are not
 *    str/int, the keys `__proto__` / `constructor` / `prototype`, and too many elements in total;
 * 3. only then does msgpackr decode, and any error it still raises is wrapped.
 *
 * Forbidden keys policy: a map key spelled `__proto__`, `constructor` or `prototype` is refused
 * outright, at any depth (msgpackr would silently rename `__proto__` and keep the other two).
 * Troupe's own messages never use them and an untrusted sender has no legitimate reason to.
 * The check compares raw key bytes; that is exact because msgpackr's string decoders (JS, native
 * and TextDecoder) replace overlong or otherwise invalid UTF-8 with U+FFFD, so no other byte
 * sequence can decode to these ASCII names.
 *
 * @example
 * ```ts
 * const bytes = encode({ method: "add", args: [1, undefined, new Date()] });
 * const msg = decode(bytes, { maxBytes: 64 * 1024 });
 * ```
 */

import { Packr, Unpackr } from "msgpackr";
import { MalformedMessageError, PayloadTooLargeError } from "../errors.js";
import { malformed, scan, WIRE_KEYS } from "./msgpack-scan.js";

/** Hard ceiling on `maxBytes` (2^31 - 1): the pre-scan keeps its counters in int32. */
export const MAX_PAYLOAD_BYTES = 0x7fffffff;

/**
 * Limits applied by {@link decode} to untrusted bytes. Pass any subset; the rest default to
 * {@link DEFAULT_DECODE_LIMITS}.
 *
 * @example
 * ```ts
 * const limits: Partial<DecodeLimits> = { maxBytes: 256 * 1024, maxDepth: 16 };
 * decode(bytes, limits);
 * ```
 */
export interface DecodeLimits {
  /** Largest accepted payload, in bytes (at most 2^31 - 1). Checked before any other work. */
  maxBytes: number;
  /** Deepest accepted nesting of arrays/maps (a top-level array or map is depth 1). */
  maxDepth: number;
  /** Largest accepted total count of array elements plus map entries, summed over the whole value. */
  maxKeys: number;
}

/**
 * Defaults for {@link decode}: 1 MiB, depth 64, 100k elements.
 *
 * @example
 * ```ts
 * decode(bytes, { ...DEFAULT_DECODE_LIMITS, maxBytes: 4096 });
 * ```
 */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxKeys: 100_000,
});

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Shared encoder. `useRecords: false` writes objects as msgpack maps; `moreTypes: false` writes Set
 * as an array, Error as `[name, message, cause]`, RegExp as `[source, flags]` and every typed
 * array / ArrayBuffer as bin. Dates use the standard timestamp extension (-1); an invalid Date is
 * written as nil (like `JSON.stringify`) because msgpackr's own invalid-date marker is a
 * timestamp of length 1, which `decode` refuses. `undefined` is fixext1 type 0 (data 0).
 */
const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  bundleStrings: false,
  moreTypes: false,
  useTimestamp32: false,
  encodeUndefinedAsNil: false,
  onInvalidDate: () => null,
});

/**
 * Encodes a value as plain msgpack. The returned bytes stay valid (msgpackr never writes over a
 * buffer it has handed out), but treat them as read-only.
 *
 * @example
 * ```ts
 * nc.publish(subject, encode({ id: 7, args: ["x", undefined] }));
 * ```
 */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Shared decoder, only ever given bytes that passed {@link scan}. Maps become plain objects.
 * `int64AsType: "number"`: JavaScript senders write integers above 2^32 as float64, so int64/uint64
 * only arrive from BigInts or non-JS senders; they decode as `number` (exact up to 2^53, rounded
 * beyond) so a field never switches between number and bigint by value. Send exact 64-bit ids as
 * strings. `copyBuffers: true`: bin values get their own memory instead of aliasing (and pinning)
 * the inbound message buffer.
 */
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  bundleStrings: false,
  moreTypes: false,
  int64AsType: "number",
  copyBuffers: true,
});

/**
 * Decodes untrusted msgpack bytes into a plain value.
 *
 * Accepted extension types: timestamp (-1, data of 4, 8 or 12 bytes, nanoseconds < 1e9) and
 * msgpackr's `undefined` (type 0, only as fixext1 with data byte 0). Every other extension is
 * refused. Map keys must be str or int (int keys become string properties).
 *
 * @throws PayloadTooLargeError when `bytes.length > limits.maxBytes` (details `{ size, limit }`).
 * @throws MalformedMessageError for anything else wrong; `details.reason` is a stable tag
 *   (`truncated`, `trailing-bytes`, `length-exceeds-input`, `too-deep`, `too-many-elements`,
 *   `forbidden-extension`, `reserved-byte`, `bad-key-type`, `forbidden-key`, `not-bytes`,
 *   `decoder`) and `details.offset` the byte offset.
 *
 * @example
 * ```ts
 * try {
 *   const msg = decode(natsMsg.data);
 * } catch (err) {
 *   if (err instanceof MalformedMessageError || err instanceof PayloadTooLargeError) reject(err);
 * }
 * ```
 */
export function decode(bytes: Uint8Array, limits?: Partial<DecodeLimits>): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw malformed("not-bytes", 0, "expected a Uint8Array");
  }
  const maxBytes = Math.min(limits?.maxBytes ?? DEFAULT_DECODE_LIMITS.maxBytes, MAX_PAYLOAD_BYTES);
  // Negated comparisons fail closed: a NaN limit refuses everything instead of nothing.
  if (!(bytes.length <= maxBytes)) {
    throw new PayloadTooLargeError(
      `payload of ${bytes.length} bytes exceeds the limit of ${maxBytes} bytes`,
      {
        details: { size: bytes.length, limit: maxBytes },
      },
    );
  }
  scan(
    bytes,
    limits?.maxDepth ?? DEFAULT_DECODE_LIMITS.maxDepth,
    limits?.maxKeys ?? DEFAULT_DECODE_LIMITS.maxKeys,
    WIRE_KEYS,
  );
  try {
    return unpackr.unpack(bytes);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new MalformedMessageError(`msgpack decoder rejected the payload: ${why}`, {
      cause: err,
      details: { reason: "decoder", offset: 0 },
    });
  }
}
