/**
 * Seeded generators for the fuzz targets: values the codec can carry, and mutations of valid
 * encodings that aim at the decoder's edges (container and extension headers, huge lengths,
 * forbidden keys, truncation, splices).
 */
import { encode } from "../../runtime/messaging/codec.js";
import type { Rng } from "./harness.js";

const ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. ";
const UNICODE = ["é", "ö", "✓", "日本", "🎭", "\u0000", "\n", '"', "\\", "\u2028", "ß"];

/** Mostly up to `max` characters, sometimes (with `long`) up to 340; well-formed UTF-16. */
export function text(rng: Rng, max = 12, long = true): string {
  const n = long && rng.chance(0.02) ? 40 + rng.int(300) : rng.int(max + 1);
  let s = "";
  for (let i = 0; i < n; i++) s += rng.chance(0.1) ? rng.pick(UNICODE) : ASCII.charAt(rng.int(ASCII.length));
  return s;
}

const FLOATS = [
  0.5,
  -1.25,
  Math.PI,
  1e-300,
  -1e300,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 53 + 2,
  -(2 ** 63),
  4294967296.5,
];

export function number(rng: Rng): number {
  switch (rng.int(6)) {
    case 0:
      return rng.int(256) - 64;
    case 1:
      return rng.int(0x10000) - 0x8000;
    case 2:
      return rng.u32() - 0x8000_0000;
    case 3:
      return rng.u32() * 0x20_0000 + rng.int(0x20_0000); // up to 2^53
    case 4:
      return (rng.u32() / 0x1_0000_0000 - 0.5) * 10 ** (rng.int(40) - 20);
    default:
      return rng.pick(FLOATS);
  }
}

/** A value the codec round-trips exactly (no -0, holes, lone surrogates, Map/Set or typed arrays but Uint8Array). */
export function value(rng: Rng, depth = 4): unknown {
  const container = depth > 0 && rng.chance(0.35);
  if (container) {
    const n = rng.int(7);
    if (rng.chance(0.5)) return Array.from({ length: n }, () => value(rng, depth - 1));
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = text(rng, 8);
      if (key === "__proto__" || key === "constructor" || key === "prototype") continue;
      o[key] = value(rng, depth - 1);
    }
    return o;
  }
  switch (rng.int(9)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return undefined;
    case 3:
    case 4: {
      const v = number(rng);
      return Object.is(v, -0) ? 0 : v;
    }
    case 5:
    case 6:
      return text(rng);
    case 7:
      return rng.bytes(rng.int(33));
    default:
      return new Date((rng.u32() - 0x8000_0000) * 1000 + rng.int(1000));
  }
}

/** Structural equality as the codec defines it (bin by content, dates by time, NaN equals NaN). */
export function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every(
        (k) =>
          Object.hasOwn(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  return false;
}

/** Bytes the decoder treats specially: container/ext/str/bin headers, the reserved byte, fixints. */
const INTERESTING = [
  0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9,
  0xca, 0xcb, 0xcc, 0xcf, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0,
  0xff,
];

/** Fragments attackers use: huge declared lengths, msgpackr's own extensions, forbidden keys. */
const FRAGMENTS: readonly number[][] = [
  [0xdd, 0xff, 0xff, 0xff, 0xff], // array of 2^32-1
  [0xdf, 0x7f, 0xff, 0xff, 0xff], // map of 2^31-1
  [0xdb, 0xff, 0xff, 0xff, 0xf0], // str 32 longer than any input
  [0xc6, 0x80, 0x00, 0x00, 0x00], // bin 32 of 2 GiB
  [0xc9, 0x00, 0x00, 0x00, 0x02, 0x72, 0x90, 0xc0], // record definition (0x72)
  [0xd4, 0x70, 0x00], // structured clone (0x70)
  [0xc7, 0x03, 0x65, 0x91, 0xa1, 0x41], // error extension (0x65)
  [0xd6, 0xff, 0xff, 0xff, 0xff, 0xff], // timestamp 32
  [0xd7, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00], // timestamp 64, ns out of range
  [0xd4, 0x00, 0x01], // undefined with a non-zero data byte
  [0x81, 0xa9, ...Buffer.from("__proto__"), 0xc0],
  [0x81, 0xab, ...Buffer.from("constructor"), 0x80],
  [0x81, 0xa9, ...Buffer.from("prototype"), 0x90],
  [0x81, 0xc0, 0xc0], // nil as a map key
  [0x81, 0x90, 0x01], // array as a map key
  Array.from({ length: 70 }, () => 0x91), // 70 nested arrays
  [0x91, 0x91, 0x91, 0x91, 0x91],
];

/** 1-4 random edits of `b` (flip, insert, delete, truncate, duplicate, splice a fragment or another encoding). */
export function mutate(rng: Rng, b: Uint8Array, others: readonly Uint8Array[] = []): Uint8Array {
  let out = Array.from(b);
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits; e++) {
    const at = out.length === 0 ? 0 : rng.int(out.length + 1);
    switch (rng.int(9)) {
      case 0:
        if (out.length) out[Math.min(at, out.length - 1)] = rng.int(256);
        break;
      case 1:
        if (out.length) out[Math.min(at, out.length - 1)] = rng.pick(INTERESTING);
        break;
      case 2:
        out.splice(at, 0, rng.chance(0.5) ? rng.pick(INTERESTING) : rng.int(256));
        break;
      case 3:
        out.splice(at, 1 + rng.int(4));
        break;
      case 4:
        out = out.slice(0, at);
        break;
      case 5: {
        const from = rng.int(out.length + 1);
        out.splice(at, 0, ...out.slice(from, from + 1 + rng.int(8)));
        break;
      }
      case 6:
        out.splice(at, rng.int(3), ...rng.pick(FRAGMENTS));
        break;
      case 7:
        if (others.length) out.splice(at, rng.int(4), ...rng.pick(others));
        break;
      default:
        // Bit flip: lengths off by a power of two.
        if (out.length) {
          const i = Math.min(at, out.length - 1);
          out[i] = ((out[i] as number) ^ (1 << rng.int(8))) & 0xff;
        }
    }
  }
  return Uint8Array.from(out);
}

/** A corpus of valid encodings to mutate and splice: `count` generated values, encoded. */
export function corpus(rng: Rng, count: number, make: (rng: Rng) => unknown = (r) => value(r)): Uint8Array[] {
  return Array.from({ length: count }, () => encode(make(rng)));
}
