import test from "ava";
import fc from "fast-check";
import { MalformedMessageError, StateNotStorableError } from "../../runtime/errors.js";
import { decode, encode } from "../../runtime/messaging/codec.js";
import { decodeState, encodeState, STATE_MAX_DEPTH } from "../../runtime/messaging/state-codec.js";

/**
 * What a stored value comes back as (docs/actors.md, "State"): -0 as 0, an array hole as
 * undefined, a Uint8Array as a Buffer, a null-prototype object as a plain object. Nothing else.
 */
function normalised(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (typeof v !== "object" || v === null || v instanceof Date) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return Array.from(v, normalised);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = normalised((v as Record<string, unknown>)[k]);
  return out;
}

const keys = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "binary" }) },
  { weight: 1, arbitrary: fc.constantFrom("constructor", "prototype", "__proto__", "toString", "0", "") },
);

/** Anything fast-check can build, including what stored state must refuse. */
const anyValue = fc.anything({
  key: keys,
  maxDepth: 4,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  stringUnit: "binary",
});

test("state codec - anything the state encoder accepts, the state decoder accepts and gives back equal", (t) => {
  let accepted = 0;
  let refused = 0;
  fc.assert(
    fc.property(anyValue, (value) => {
      let bytes: Uint8Array;
      try {
        bytes = encodeState(value);
      } catch (err) {
        if (!(err instanceof StateNotStorableError)) throw err;
        refused++;
        return;
      }
      accepted++;
      t.deepEqual(decodeState(bytes), normalised(value));
    }),
    { numRuns: 3000 },
  );
  // Both branches must be exercised, or the property proves nothing.
  t.true(accepted > 300, `accepted ${accepted}`);
  t.true(refused > 300, `refused ${refused}`);
});

/** Only storable values: plain data, Dates, binary, BigInts in 64 bits, well-formed strings. */
const storable = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(null, undefined, true, false),
    fc.double(),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string({ unit: "grapheme" }),
    fc.date({ noInvalidDate: true }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(
      keys.filter((k) => k !== "__proto__"),
      tie("value"),
      { maxKeys: 5 },
    ),
  ),
})).value;

test("state codec - every plain-data state value is accepted and round-trips", (t) => {
  fc.assert(
    fc.property(storable, (value) => {
      t.deepEqual(decodeState(encodeState(value)), normalised(value));
    }),
    { numRuns: 2000 },
  );
});

test("state codec - keys named constructor and prototype are ordinary keys and pollute nothing", (t) => {
  const value = { tags: { constructor: true, prototype: 1 }, nested: [{ constructor: { prototype: "x" } }] };
  const back = decodeState(encodeState(value)) as typeof value;
  t.deepEqual(back, value);
  t.true(Object.hasOwn(back.tags, "constructor"));
  t.is(Object.getPrototypeOf(back.tags), Object.prototype);
  t.is(({} as Record<string, unknown>).prototype, undefined);
  t.is(typeof ({} as { constructor: unknown }).constructor, "function");
  // The wire profile still refuses them.
  t.throws(() => decode(encode(value)), { instanceOf: MalformedMessageError });
});

test("state codec - a __proto__ key is refused at save and on load", (t) => {
  const value = JSON.parse('{"a": {"__proto__": {"polluted": true}}}');
  const err = t.throws(() => encodeState(value), { instanceOf: StateNotStorableError });
  t.is(err?.details.path, "state.a");
  t.is(err?.details.reason, "forbidden-key");
  t.throws(() => decodeState(encode(value)), { instanceOf: MalformedMessageError });
  t.is(({} as Record<string, unknown>).polluted, undefined);
});

test("state codec - two maps of 50,001 ids each are stored and loaded", (t) => {
  const value = { processed: {} as Record<string, true>, sent: {} as Record<string, true> };
  for (let i = 0; i < 50_001; i++) {
    value.processed[`order-${i}`] = true;
    value.sent[`mail-${i}`] = true;
  }
  const back = decodeState(encodeState(value)) as typeof value;
  t.is(Object.keys(back.processed).length, 50_001);
  t.is(Object.keys(back.sent).length, 50_001);
  t.true(back.sent["mail-50000"]);
});

test("state codec - nesting up to the state limit loads, deeper is refused at save", (t) => {
  const nest = (depth: number) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };
  t.deepEqual(decodeState(encodeState(nest(65))), nest(65));
  t.deepEqual(decodeState(encodeState(nest(STATE_MAX_DEPTH))), nest(STATE_MAX_DEPTH));
  const err = t.throws(() => encodeState(nest(STATE_MAX_DEPTH + 1)), { instanceOf: StateNotStorableError });
  t.is(err?.details.reason, "too-deep");
  t.throws(() => decodeState(encode(nest(STATE_MAX_DEPTH + 1))), { instanceOf: MalformedMessageError });
});

test("state codec - a cycle is refused at save with a typed error", (t) => {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  const err = t.throws(() => encodeState(value), { instanceOf: StateNotStorableError });
  t.is(err?.details.reason, "too-deep");
});

test("state codec - a Map (with a float key or any other) is refused at save, naming its path", (t) => {
  const err = t.throws(() => encodeState({ prices: [{ byWeight: new Map([[1.5, "x"]]) }] }), {
    instanceOf: StateNotStorableError,
  });
  t.is(err?.details.path, "state.prices[0].byWeight");
  t.is(err?.details.reason, "type");
  t.regex(err?.message ?? "", /Map.*plain object/);
  t.throws(() => encodeState({ s: new Set([1]) }), { instanceOf: StateNotStorableError });
  t.throws(() => encodeState({ f: () => 1 }), { instanceOf: StateNotStorableError });
  t.throws(() => encodeState({ d: new Date(Number.NaN) }), { instanceOf: StateNotStorableError });
  t.throws(() => encodeState({ b: 2n ** 64n }), { instanceOf: StateNotStorableError });
  t.throws(() => encodeState({ s: "\ud800" }), { instanceOf: StateNotStorableError });
  t.throws(() => encodeState({ s: new Float64Array(2) }), { instanceOf: StateNotStorableError });
});

test("state codec - BigInts in 64 bits come back as BigInts", (t) => {
  const value = { small: 5n, big: 2n ** 64n - 1n, negative: -(2n ** 63n), plain: 2 ** 40 };
  t.deepEqual(decodeState(encodeState(value)), value);
});

test("state codec - a getter that throws makes the state unstorable, not the host crash", (t) => {
  const value = {
    get broken(): number {
      throw new Error("no");
    },
  };
  const err = t.throws(() => encodeState(value), { instanceOf: StateNotStorableError });
  t.is(err?.details.reason, "unreadable");
});
