/**
 * The state profile of the codec: which values `this.state` may hold, and the bytes stored for
 * them. Stored state is written by Troupe hosts, not by strangers, so its limits are not the wire's;
 * what matters is that save and load agree exactly: {@link encodeState} refuses (with
 * `StateNotStorableError`) every value that {@link decodeState} would refuse or would not give back
 * equal, so a turn that was acknowledged always loads again.
 *
 * | rule                  | wire (`decode`)                       | stored state                          |
 * | --------------------- | ------------------------------------- | ------------------------------------- |
 * | size                  | 1 MiB by default                      | up to the server's `max_payload` (the |
 * |                       |                                       | KV write refuses more)                |
 * | nesting               | 64                                    | {@link STATE_MAX_DEPTH} (512), well    |
 * |                       |                                       | within what msgpackr's recursive      |
 * |                       |                                       | encoder and decoder handle on Node's  |
 * |                       |                                       | default stack (docs/actors.md)        |
 * | elements in total     | 100 000                               | no limit beyond the size (each element |
 * |                       |                                       | takes at least one byte)              |
 * | keys `constructor`,   | refused                               | ordinary own properties               |
 * | `prototype`           |                                       |                                       |
 * | key `__proto__`       | refused                               | refused (msgpackr renames it)         |
 * | Map, Set, class       | n/a                                   | refused at save (they would come back |
 * | instances, functions, |                                       | as plain objects or arrays)           |
 * | symbols, typed arrays |                                       |                                       |
 * | other than Uint8Array |                                       |                                       |
 * | BigInt                | decoded as number                     | kept exactly in -2^63..2^64-1, refused |
 * |                       |                                       | outside                               |
 *
 * Values come back equal except for three documented normalisations: `-0` becomes `0`, an array hole
 * becomes `undefined`, a `Uint8Array` comes back as a `Buffer` (a Uint8Array subclass); a
 * null-prototype object comes back as a plain object. Strings must be well-formed UTF-16 (a lone
 * surrogate would come back as U+FFFD) and Dates valid.
 *
 * @example
 * ```ts
 * const bytes = encodeState({ seen: { "order-1": true }, total: 3n });
 * decodeState(bytes); // { seen: { "order-1": true }, total: 3n }
 * encodeState({ seen: new Set() }); // throws StateNotStorableError (details.path "state.seen")
 * ```
 */
import { Packr, Unpackr } from "msgpackr";
import { MalformedMessageError, PayloadTooLargeError, StateNotStorableError } from "../errors.js";
import { MAX_PAYLOAD_BYTES } from "./codec.js";
import { STATE_KEYS, scan } from "./msgpack-scan.js";

/** Deepest nesting of arrays and objects in stored state (the top-level container is depth 1). */
export const STATE_MAX_DEPTH = 512;

const MIN_INT64 = -(2n ** 63n);
const MAX_UINT64 = 2n ** 64n - 1n;

/**
 * The state encoder: the wire's plain msgpack, but with `variableMapSize` (the wire's encoder
 * writes every object as map16 and cannot encode one of more than 65,535 keys).
 */
const statePackr = new Packr({
  useRecords: false,
  structuredClone: false,
  bundleStrings: false,
  moreTypes: false,
  useTimestamp32: false,
  encodeUndefinedAsNil: false,
  variableMapSize: true,
});

/**
 * The state decoder: like the wire's, but 64-bit integers decode as BigInt (JavaScript numbers are
 * written as float64 above 2^32, so only BigInts are ever stored as int64/uint64).
 */
const stateUnpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  bundleStrings: false,
  moreTypes: false,
  int64AsType: "bigint",
  copyBuffers: true,
});

/**
 * Encodes `value` for storage, after checking it is storable (see the table above).
 *
 * @throws StateNotStorableError naming the offending value's path and the reason.
 */
export function encodeState(value: unknown): Uint8Array {
  return encodeStateIfChanged(value, undefined) as Uint8Array;
}

/**
 * Like {@link encodeState}, but returns undefined without checking anything when `value` encodes
 * to exactly `previous` (bytes that were checked when they were stored or loaded): a turn that did
 * not change the state costs one encode.
 */
export function encodeStateIfChanged(
  value: unknown,
  previous: Uint8Array | undefined,
): Uint8Array | undefined {
  let bytes: Uint8Array | undefined;
  let failure: unknown;
  try {
    bytes = statePackr.pack(value);
  } catch (err) {
    // A cycle, a BigInt beyond 64 bits, a symbol...: the walk below names it.
    failure = err;
  }
  if (bytes && previous && Buffer.compare(bytes, previous) === 0) return undefined;
  checkStorable(value);
  if (!bytes) {
    throw new StateNotStorableError(`state cannot be encoded: ${(failure as Error)?.message}`, {
      cause: failure,
      details: { path: "state", reason: "encoder" },
    });
  }
  try {
    scan(bytes, STATE_MAX_DEPTH, Number.POSITIVE_INFINITY, STATE_KEYS);
  } catch (err) {
    // Unreachable if checkStorable is complete; kept so a gap can never store unloadable bytes.
    throw new StateNotStorableError(`state would not load again: ${(err as Error).message}`, {
      cause: err,
      details: { path: "state", reason: "would-not-load" },
    });
  }
  return bytes;
}

/**
 * Decodes stored state.
 *
 * @throws MalformedMessageError (`details.reason` as for `decode`) or PayloadTooLargeError.
 */
export function decodeState(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new MalformedMessageError("stored state is not bytes", {
      details: { reason: "not-bytes", offset: 0 },
    });
  }
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new PayloadTooLargeError(`stored state of ${bytes.length} bytes is larger than any payload`, {
      details: { size: bytes.length, limit: MAX_PAYLOAD_BYTES },
    });
  }
  scan(bytes, STATE_MAX_DEPTH, Number.POSITIVE_INFINITY, STATE_KEYS);
  try {
    return stateUnpackr.unpack(bytes);
  } catch (err) {
    throw new MalformedMessageError(`msgpack decoder rejected the stored state: ${(err as Error).message}`, {
      cause: err,
      details: { reason: "decoder", offset: 0 },
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The storable-value walk

/** Thrown inside the walk; each level adds its path segment on the way out. */
class Refusal {
  readonly path: (string | number)[] = [];
  constructor(
    readonly reason: string,
    readonly what: string,
  ) {}
}

/** @throws StateNotStorableError if `value` is not a storable state value. */
export function checkStorable(value: unknown): void {
  try {
    walk(value, 0);
  } catch (err) {
    if (err instanceof Refusal) {
      const path = formatPath(err.path);
      throw new StateNotStorableError(`${path} cannot be stored: ${err.what}`, {
        details: { path, reason: err.reason },
      });
    }
    // A getter or Proxy trap that threw while the state was read.
    throw new StateNotStorableError(`state cannot be read for saving: ${(err as Error)?.message}`, {
      details: { path: "state", reason: "unreadable" },
    });
  }
}

function walk(v: unknown, depth: number): void {
  switch (typeof v) {
    case "number":
    case "boolean":
    case "undefined":
      return;
    case "string":
      if (!isWellFormed(v)) throw new Refusal("lone-surrogate", "a string with a lone UTF-16 surrogate");
      return;
    case "bigint":
      if (v < MIN_INT64 || v > MAX_UINT64)
        throw new Refusal("bigint-range", "a BigInt outside -2^63..2^64-1");
      return;
    case "object":
      if (v === null) return;
      break;
    default:
      throw new Refusal("type", `a ${typeof v} (store plain data)`);
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Date.prototype) {
    if (Number.isNaN((v as Date).getTime())) throw new Refusal("invalid-date", "an invalid Date");
    return;
  }
  if (proto === Uint8Array.prototype || proto === Buffer.prototype) return;
  if (depth >= STATE_MAX_DEPTH) {
    throw new Refusal("too-deep", `nesting deeper than ${STATE_MAX_DEPTH} (or a cycle)`);
  }
  if (proto === Array.prototype) {
    const a = v as unknown[];
    for (let i = 0; i < a.length; i++) {
      try {
        walk(a[i], depth + 1);
      } catch (err) {
        if (err instanceof Refusal) err.path.push(i);
        throw err;
      }
    }
    return;
  }
  if (proto !== Object.prototype && proto !== null) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    const hint =
      name === "Map" ? " (use a plain object)" : name === "Set" ? " (use an array or an object)" : "";
    throw new Refusal("type", `a ${typeof name === "string" && name ? name : "class instance"}${hint}`);
  }
  const o = v as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key === "__proto__") throw new Refusal("forbidden-key", 'the key "__proto__"');
    if (!isWellFormed(key)) throw new Refusal("lone-surrogate", "a key with a lone UTF-16 surrogate");
    try {
      walk(o[key], depth + 1);
    } catch (err) {
      if (err instanceof Refusal) err.path.push(key);
      throw err;
    }
  }
}

/** `String.prototype.isWellFormed` (Node 20; not in the ES2023 lib typings). */
function isWellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `["items", 3, "a b"]` (collected innermost first) as `state.items[3]["a b"]`. */
function formatPath(reversed: (string | number)[]): string {
  let out = "state";
  for (let i = reversed.length - 1; i >= 0; i--) {
    const seg = reversed[i] as string | number;
    if (typeof seg === "number") out += `[${seg}]`;
    else if (IDENTIFIER.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg.length > 64 ? `${seg.slice(0, 64)}…` : seg)}]`;
  }
  return out;
}
