/**
 * Fuzzing the codec (runtime/messaging/codec.ts): arbitrary bytes, mutated valid encodings, and
 * encode -> decode round trips of generated values. Only typed errors, no slow input, no
 * prototype touched. The hand-written regression payloads stay in test/unit/codec.test.ts.
 */
import test from "ava";
import fc from "fast-check";
import { MalformedMessageError, PayloadTooLargeError } from "../../runtime/errors.js";
import { decode, encode } from "../../runtime/messaging/codec.js";
import { corpus, mutate, same, value } from "./generators.js";
import { baseSeed, fuzz, prototypeGuard, Rng, scaled, seedFor, show } from "./harness.js";

const typedDecodeError = (err: unknown) =>
  err instanceof MalformedMessageError || err instanceof PayloadTooLargeError;

/** Decoded values hold only what the codec produces: no prototypes other than Object/Array/Date/Buffer. */
function assertPlain(v: unknown, depth = 0): void {
  if (v === null || typeof v !== "object") {
    if (typeof v === "function" || typeof v === "symbol") throw new Error(`decoded a ${typeof v}`);
    return;
  }
  if (depth > 70) throw new Error("decoded value deeper than the depth limit");
  if (v instanceof Uint8Array || v instanceof Date) return;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== Array.prototype)
    throw new Error("decoded an object with a foreign prototype");
  for (const k of Object.keys(v)) {
    if (k === "__proto__" || k === "constructor" || k === "prototype")
      throw new Error(`decoded forbidden key ${k}`);
    assertPlain((v as Record<string, unknown>)[k], depth + 1);
  }
}

test("fuzz codec - decode of arbitrary bytes gives a plain value or a typed error", (t) => {
  fuzz(
    t,
    "codec.random",
    250_000,
    (rng) => {
      // Mostly short inputs that start like a container, so the scan goes deep often.
      const b = rng.bytes(rng.int(rng.chance(0.1) ? 300 : 40));
      if (b.length && rng.chance(0.6))
        b[0] = rng.pick([0x91, 0x92, 0x95, 0x81, 0x82, 0xdc, 0xde, 0xc7, 0xd4]);
      return b;
    },
    (b) => assertPlain(decode(b)),
    typedDecodeError,
  );
});

test("fuzz codec - decode of mutated valid encodings gives a plain value or a typed error", (t) => {
  const pool = corpus(new Rng(seedFor("codec.mutated.pool")), 500);
  fuzz(
    t,
    "codec.mutated",
    250_000,
    (rng) => mutate(rng, rng.pick(pool), pool),
    (b) => assertPlain(decode(b)),
    typedDecodeError,
  );
});

test("fuzz codec - generated values survive encode then decode unchanged", (t) => {
  fuzz(
    t,
    "codec.roundtrip",
    40_000,
    (rng) => value(rng, 5),
    (v) => {
      const back = decode(encode(v));
      if (!same(back, v)) throw new Error(`round trip changed the value: ${show(back)}`);
    },
    () => false,
  );
});

/** -0 becomes 0 on the wire; everything else JSON-like comes back as it went. */
function withoutNegativeZero(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map(withoutNegativeZero);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      Object.defineProperty(out, k, {
        value: withoutNegativeZero(x),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return v;
}

function hasForbiddenKey(v: unknown): boolean {
  if (!v || typeof v !== "object" || v instanceof Uint8Array || v instanceof Date) return false;
  return Object.keys(v).some(
    (k) =>
      k === "__proto__" ||
      k === "constructor" ||
      k === "prototype" ||
      hasForbiddenKey((v as Record<string, unknown>)[k]),
  );
}

test("fuzz codec - fast-check: JSON-like values survive encode then decode, or carry a forbidden key the decoder names", (t) => {
  const guard = prototypeGuard();
  const numRuns = scaled(10_000);
  let slowest = 0;
  fc.assert(
    fc.property(
      fc.jsonValue({ maxDepth: 6 }),
      fc.uint8Array({ maxLength: 16 }),
      fc.constantFrom("", "__proto__", "constructor", "prototype", "ok"),
      (v, bin, key) => {
        const at = performance.now();
        const input: Record<string, unknown> = { v, bin, at: new Date(1_700_000_000_000), none: undefined };
        // An own property named like a prototype key, as JSON.parse makes it.
        if (key)
          Object.defineProperty(input, key, {
            value: 1,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        const bytes = encode(input);
        try {
          const back = decode(bytes);
          slowest = Math.max(slowest, performance.now() - at);
          return !hasForbiddenKey(input) && same(back, withoutNegativeZero(input));
        } catch (err) {
          slowest = Math.max(slowest, performance.now() - at);
          // The codec's policy: a forbidden key is refused on decode (see codec.ts), nothing else is.
          return (
            err instanceof MalformedMessageError &&
            err.details.reason === "forbidden-key" &&
            hasForbiddenKey(input)
          );
        }
      },
    ),
    { seed: seedFor("codec.fast-check") | 0, numRuns },
  );
  guard.check(t, "codec.fast-check");
  t.log(`codec.fast-check: ${numRuns} inputs, slowest ${slowest.toFixed(2)} ms (seed ${baseSeed()})`);
});
