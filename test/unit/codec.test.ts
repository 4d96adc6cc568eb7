import test, { type ExecutionContext } from "ava";
import { MalformedMessageError, PayloadTooLargeError } from "../../runtime/errors.js";
import { DEFAULT_DECODE_LIMITS, decode, encode } from "../../runtime/messaging/codec.js";

// ---------------------------------------------------------------------------------------------
// Helpers: regression payloads are written byte by byte, never produced by msgpackr.

type Part = number | string | readonly number[] | Uint8Array;

/** Concatenates bytes; a string part contributes its ASCII bytes (no header). */
function bytes(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") out.push(p);
    else if (typeof p === "string") for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

/** A fixstr (ASCII, < 32 bytes) with its header. */
function fixstr(s: string): number[] {
  return [0xa0 | s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
}

function malformed(t: ExecutionContext, payload: Uint8Array, reason: string): MalformedMessageError {
  const err = t.throws(() => decode(payload), { instanceOf: MalformedMessageError });
  t.is(err.code, "TROUPE_MALFORMED_MESSAGE");
  t.is(err.details.reason, reason, err.message);
  t.regex(err.message, /at byte offset \d+/);
  return err;
}

function assertNotPolluted(t: ExecutionContext): void {
  t.is(({} as Record<string, unknown>).polluted, undefined);
  t.false(Object.hasOwn(Object.prototype, "polluted"));
  t.is(Object.getPrototypeOf({}), Object.prototype);
}

// ---------------------------------------------------------------------------------------------
// Round trips

test("codec - round trips typical values", (t) => {
  const values: unknown[] = [
    null,
    true,
    false,
    "",
    "hello",
    "unicode: héllo wörld ✓ 日本語 🎭",
    "x".repeat(70_000),
    0,
    1,
    127,
    128,
    255,
    65_536,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 40 + 5,
    Number.MAX_SAFE_INTEGER,
    -1,
    -32,
    -33,
    -129,
    -40_000,
    -(2 ** 31),
    -(2 ** 40),
    1.5,
    -0.25,
    Math.PI,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    [],
    {},
    [1, undefined, 3],
    [undefined],
    { a: 1, b: [true, null, "x"], c: { d: { e: [[], {}] } } },
    { method: "add", args: ["sku-42", 3, undefined, { qty: 2 }], meta: { "trace-id": "abc" } },
  ];
  for (const value of values) {
    t.deepEqual(decode(encode(value)), value);
  }
  t.is(decode(encode(undefined)), undefined);
  t.deepEqual(decode(encode({ a: undefined, b: 1 })), { a: undefined, b: 1 });
});

test("codec - round trips dates as timestamps (32, 64 and 96 bit)", (t) => {
  for (const ms of [0, 1_700_000_000_000, 1_700_000_000_123, -1e12, 1e15, -62_135_596_800_000]) {
    const out = decode(encode(new Date(ms)));
    t.true(out instanceof Date);
    t.is((out as Date).getTime(), ms);
  }
  t.deepEqual(decode(encode({ at: new Date(5000) })), { at: new Date(5000) });
});

test("codec - an invalid Date encodes as nil", (t) => {
  t.is(decode(encode(new Date(Number.NaN))), null);
});

test("codec - round trips Uint8Array and Buffer as bin", (t) => {
  for (const input of [new Uint8Array([0, 1, 2, 255]), Buffer.from("bytes ✓"), new Uint8Array(0)]) {
    const encoded = encode({ data: input });
    const out = decode(new Uint8Array(encoded)) as { data: Uint8Array };
    t.true(out.data instanceof Uint8Array);
    t.deepEqual(Array.from(out.data), Array.from(input));
  }
});

test("codec - decoded bin does not alias the input buffer", (t) => {
  const input = new Uint8Array(encode(new Uint8Array([7, 8, 9])));
  const out = decode(input) as Uint8Array;
  input.fill(0);
  t.deepEqual(Array.from(out), [7, 8, 9]);
});

test("codec - encodes plain msgpack without msgpackr extensions", (t) => {
  // Map -> map, Set -> array, objects -> maps (no records), undefined -> fixext1 type 0.
  t.deepEqual(decode(encode(new Map<unknown, unknown>([["a", 1]]))), { a: 1 });
  t.deepEqual(decode(encode(new Set([1, 2]))), [1, 2]);
  // a plain map (msgpackr writes objects with a map16 header unless variableMapSize is set)
  t.deepEqual(Array.from(encode({ a: 1 })), [0xde, 0x00, 0x01, 0xa1, 0x61, 0x01]);
  t.deepEqual(Array.from(encode(undefined)), [0xd4, 0x00, 0x00]);
  t.deepEqual(Array.from(encode(new Date(1000))), [0xd6, 0xff, 0, 0, 0, 1]);
});

test("codec - int64 and uint64 decode as numbers", (t) => {
  t.is(decode(bytes(0xcf, 0, 0, 0, 1, 0, 0, 0, 0)), 2 ** 32);
  t.is(decode(bytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), -1);
  t.is(decode(encode(2n ** 60n)), 2 ** 60);
});

test("codec - int map keys become string properties", (t) => {
  t.deepEqual(decode(bytes(0x82, 0x01, fixstr("a"), 0xff, fixstr("b"))), { "1": "a", "-1": "b" });
  t.deepEqual(decode(bytes(0x81, 0xcd, 0x01, 0x00, 0xc3)), { "256": true });
});

test("codec - forbidden names are fine as values, only keys are refused", (t) => {
  t.deepEqual(decode(bytes(0x81, fixstr("k"), fixstr("__proto__"))), { k: "__proto__" });
  t.deepEqual(decode(bytes(0x92, fixstr("constructor"), fixstr("prototype"))), ["constructor", "prototype"]);
  // near misses are ordinary keys
  t.deepEqual(decode(bytes(0x81, fixstr("__proto_x"), 0x01)), { __proto_x: 1 });
  t.deepEqual(decode(bytes(0x81, fixstr("constructos"), 0x01)), { constructos: 1 });
});

test("codec - DEFAULT_DECODE_LIMITS are 1 MiB, depth 64, 100k elements, and frozen", (t) => {
  t.deepEqual({ ...DEFAULT_DECODE_LIMITS }, { maxBytes: 1024 * 1024, maxDepth: 64, maxKeys: 100_000 });
  t.true(Object.isFrozen(DEFAULT_DECODE_LIMITS));
});

// ---------------------------------------------------------------------------------------------
// Regression payloads, one per hazard in FACTS.md ("Decoding untrusted msgpack")

test("codec - refuses a __proto__ key and leaves Object.prototype alone", (t) => {
  // {"__proto__": {"polluted": true}}
  const err = malformed(t, bytes(0x81, fixstr("__proto__"), 0x81, fixstr("polluted"), 0xc3), "forbidden-key");
  t.is(err.details.offset, 1);
  assertNotPolluted(t);
});

test("codec - refuses a __proto__ key nested deep and written as str8/str16/str32", (t) => {
  const proto = Array.from("__proto__", (c) => c.charCodeAt(0));
  malformed(t, bytes(0x81, fixstr("a"), 0x91, 0x81, 0xd9, 9, proto, 0xc3), "forbidden-key");
  malformed(t, bytes(0x81, 0xda, 0, 9, proto, 0xc3), "forbidden-key");
  malformed(t, bytes(0x81, 0xdb, 0, 0, 0, 9, proto, 0xc3), "forbidden-key");
  // map16 / map32 headers take the same path
  malformed(t, bytes(0xde, 0, 1, fixstr("__proto__"), 0xc3), "forbidden-key");
  malformed(t, bytes(0xdf, 0, 0, 0, 1, fixstr("__proto__"), 0xc3), "forbidden-key");
  assertNotPolluted(t);
});

test("codec - refuses constructor and prototype keys", (t) => {
  // {"constructor": {"prototype": {"polluted": true}}}
  malformed(
    t,
    bytes(0x81, fixstr("constructor"), 0x81, fixstr("prototype"), 0x81, fixstr("polluted"), 0xc3),
    "forbidden-key",
  );
  malformed(t, bytes(0x81, fixstr("prototype"), 0x01), "forbidden-key");
  malformed(t, bytes(0x82, fixstr("ok"), 0x01, fixstr("constructor"), 0x01), "forbidden-key");
  assertNotPolluted(t);
});

test("codec - overlong UTF-8 spellings of __proto__ do not decode to __proto__", (t) => {
  // "_" as the overlong 2-byte sequence c1 9f: invalid UTF-8, so it becomes U+FFFD, never "_".
  const key = [
    0xad,
    0xc1,
    0x9f,
    0xc1,
    0x9f,
    ..."proto".split("").map((c) => c.charCodeAt(0)),
    0xc1,
    0x9f,
    0xc1,
    0x9f,
  ];
  const short = decode(bytes(0x81, key, 0xc3)) as object;
  // A payload over 180 bytes takes msgpackr's native string path instead of the JS one.
  const long = decode(bytes(0x82, fixstr("fill"), 0xd9, 200, new Array(200).fill(0x61), key, 0xc3)) as object;
  for (const out of [short, long]) {
    t.is(Object.getPrototypeOf(out), Object.prototype);
    t.false(Object.keys(out).includes("__proto__"));
  }
  assertNotPolluted(t);
});

test("codec - refuses a structured-clone pointer extension 0x70", (t) => {
  malformed(t, bytes(0xd6, 0x70, 0, 0, 0, 0), "forbidden-extension");
  malformed(t, bytes(0x91, 0xd6, 0x70, 0, 0, 0, 1), "forbidden-extension");
});

test("codec - refuses the CVE-2023-52079 shape (self-referencing structured clone as a map key)", (t) => {
  // map { [id 0: [pointer to id 0]]: nil } -- a cyclic array whose key conversion never ended
  const cyclic = [0xd6, 0x69, 0, 0, 0, 0, 0x91, 0xd6, 0x70, 0, 0, 0, 0];
  malformed(t, bytes(0x81, cyclic, 0xc0), "bad-key-type");
  // the same cycle as a value
  malformed(t, bytes(0x81, fixstr("a"), cyclic), "forbidden-extension");
});

test("codec - refuses an error extension 0x65 naming a global", (t) => {
  // fixext1 'e' then ["Function", "return process", nil]
  malformed(
    t,
    bytes(0xd4, 0x65, 0x00, 0x93, fixstr("Function"), fixstr("return process"), 0xc0),
    "forbidden-extension",
  );
});

test("codec - refuses a record extension 0x72", (t) => {
  // record definition: id 0x40, keys ["a", "b"], then values 1, 2
  malformed(t, bytes(0xd4, 0x72, 0x40, 0x92, fixstr("a"), fixstr("b"), 0x01, 0x02), "forbidden-extension");
  // two-byte record id form
  malformed(t, bytes(0xd5, 0x72, 0x40, 0x00, 0x91, fixstr("a"), 0x01), "forbidden-extension");
  // a positive fixint in the record-reference range is just a number
  t.is(decode(bytes(0x40)), 0x40);
});

test("codec - refuses every other extension type", (t) => {
  const cases: Array<[string, Uint8Array]> = [
    ["bundled strings 0x62", bytes(0xd6, 0x62, 0, 0, 0, 10, 0xa1, 0x61)],
    ["Set 0x73", bytes(0xd4, 0x73, 0x00, 0x91, 0x01)],
    ["RegExp 0x78", bytes(0xd4, 0x78, 0x00, 0x92, fixstr("a+"), fixstr("g"))],
    ["typed array 0x74", bytes(0xc7, 0x05, 0x74, 0x07, 0, 0, 0, 0)],
    ["bigint 0x42", bytes(0xd4, 0x42, 0x01)],
    ["structured clone id 0x69", bytes(0xd6, 0x69, 0, 0, 0, 0, 0xc0)],
    ["application type 1", bytes(0xd4, 0x01, 0x00)],
    ["type 0 with two bytes", bytes(0xd5, 0x00, 0x00, 0x00)],
    ["type 0 with data 1", bytes(0xd4, 0x00, 0x01)],
    ["type 0 as ext8", bytes(0xc7, 0x01, 0x00, 0x00)],
    ["msgpackr invalid-date marker", bytes(0xd4, 0xff, 0xff)],
    ["timestamp of 2 bytes", bytes(0xd5, 0xff, 0x00, 0x00)],
    ["timestamp of 16 bytes", bytes(0xd8, 0xff, new Array(16).fill(0))],
    ["timestamp64 with nanoseconds >= 1e9", bytes(0xd7, 0xff, 0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 1)],
    [
      "timestamp96 with nanoseconds >= 1e9",
      bytes(0xc7, 12, 0xff, 0x3b, 0x9a, 0xca, 0x00, 0, 0, 0, 0, 0, 0, 0, 1),
    ],
    ["ext16 type 0x70", bytes(0xc8, 0x00, 0x01, 0x70, 0x00)],
    ["ext32 type 0x65", bytes(0xc9, 0x00, 0x00, 0x00, 0x01, 0x65, 0x00)],
  ];
  for (const [name, payload] of cases) {
    const err = t.throws(() => decode(payload), { instanceOf: MalformedMessageError }, name);
    t.is(err.details.reason, "forbidden-extension", name);
  }
});

test("codec - accepts timestamps in any ext header with 4, 8 or 12 bytes", (t) => {
  t.deepEqual(decode(bytes(0xd6, 0xff, 0, 0, 0, 1)), new Date(1000));
  t.deepEqual(decode(bytes(0xc7, 4, 0xff, 0, 0, 0, 2)), new Date(2000));
  // timestamp64: 1 ms (1e6 ns << 2) + 3 s
  t.deepEqual(decode(bytes(0xd7, 0xff, 0x00, 0x3d, 0x09, 0x00, 0, 0, 0, 3)), new Date(3001));
  t.deepEqual(decode(bytes(0xc7, 12, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4)), new Date(4000));
});

test("codec - refuses str32/bin32/array32/map32/ext32 declaring 2^32-1 with a few bytes", (t) => {
  const max = [0xff, 0xff, 0xff, 0xff];
  malformed(t, bytes(0xdb, max, "abc"), "length-exceeds-input");
  malformed(t, bytes(0xc6, max, 0x00, 0x01), "length-exceeds-input");
  malformed(t, bytes(0xdd, max, 0xc0, 0xc0), "length-exceeds-input");
  malformed(t, bytes(0xdf, max, fixstr("a"), 0xc0), "length-exceeds-input");
  malformed(t, bytes(0xc9, max, 0xff, 0x00), "length-exceeds-input");
  // 16-bit forms, and a map whose count fits the bytes only at one byte per entry
  malformed(t, bytes(0xdc, 0xff, 0xff, 0xc0), "length-exceeds-input");
  malformed(t, bytes(0x83, 0x01, 0x02, 0x03, 0x04), "length-exceeds-input");
  // nested: the inner array's count is checked against what remains, not the whole input
  malformed(t, bytes(0x92, 0xdc, 0x00, 0x06, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0), "length-exceeds-input");
});

test("codec - refuses 100k-deep nested arrays without overflowing the stack", (t) => {
  const deep = new Uint8Array(100_001).fill(0x91);
  deep[100_000] = 0xc0;
  const err = malformed(t, deep, "too-deep");
  t.is(err.details.offset, 64);
  // deep maps too: {"a": {"a": ...}}
  const maps = new Uint8Array(3 * 50_000 + 1);
  for (let i = 0; i < 50_000; i++) maps.set([0x81, 0xa1, 0x61], i * 3);
  maps[maps.length - 1] = 0xc0;
  malformed(t, maps, "too-deep");
});

test("codec - maxDepth is exact and adjustable", (t) => {
  const nested = (n: number) => bytes(new Array(n).fill(0x91), 0xc0);
  t.notThrows(() => decode(nested(64)));
  t.throws(() => decode(nested(65)), { instanceOf: MalformedMessageError });
  t.notThrows(() => decode(nested(100), { maxDepth: 100 }));
  t.throws(() => decode(nested(3), { maxDepth: 2 }), { instanceOf: MalformedMessageError });
  // empty containers count as a level
  t.throws(() => decode(bytes(0x91, 0x90), { maxDepth: 1 }), { instanceOf: MalformedMessageError });
  t.notThrows(() => decode(bytes(0x01), { maxDepth: 0 }));
});

test("codec - a raised maxDepth that overflows msgpackr still gives MalformedMessageError", (t) => {
  const deep = new Uint8Array(200_001).fill(0x91);
  deep[200_000] = 0xc0;
  try {
    decode(deep, { maxDepth: 1_000_000 });
    t.pass("this stack was deep enough");
  } catch (err) {
    t.true(err instanceof MalformedMessageError);
  }
  // the shared decoder is still usable afterwards
  t.deepEqual(decode(encode({ ok: [1] })), { ok: [1] });
});

test("codec - refuses truncated input", (t) => {
  malformed(t, new Uint8Array(0), "truncated");
  malformed(t, bytes(0x92, 0xcd, 0x00, 0x01), "truncated");
  malformed(t, bytes(0x92, 0x01), "length-exceeds-input");
  malformed(t, bytes(0x81, fixstr("a")), "truncated");
  malformed(t, bytes(0xcb, 0x00, 0x00), "truncated");
  malformed(t, bytes(0xdb, 0x00), "truncated");
  malformed(t, bytes(0xa3, "ab"), "length-exceeds-input");
  // every strict prefix of a valid encoding is refused
  const full = encode({
    a: [1, "two", 3.5, new Date(1), undefined, new Uint8Array([1, 2])],
    b: { c: -70_000 },
  });
  for (let len = 0; len < full.length; len++) {
    t.throws(() => decode(full.subarray(0, len)), { instanceOf: MalformedMessageError }, `prefix ${len}`);
  }
});

test("codec - refuses trailing garbage after the value", (t) => {
  const err = malformed(t, bytes(0x01, 0x00), "trailing-bytes");
  t.is(err.details.offset, 1);
  malformed(t, bytes(encode({ a: 1 }), 0xc1), "trailing-bytes");
  malformed(t, bytes(encode("x"), encode("y")), "trailing-bytes");
});

test("codec - refuses the reserved byte 0xc1", (t) => {
  malformed(t, bytes(0xc1), "reserved-byte");
  malformed(t, bytes(0x92, 0x01, 0xc1), "reserved-byte");
  malformed(t, bytes(0x81, fixstr("a"), 0xc1), "reserved-byte");
});

test("codec - refuses map keys that are not str or int", (t) => {
  const cases: Array<[string, number[]]> = [
    ["map key", [0x81, 0x80, 0xc0]],
    ["array key", [0x81, 0x91, 0x01, 0xc0]],
    ["nil key", [0x81, 0xc0, 0xc0]],
    ["bool key", [0x81, 0xc3, 0xc0]],
    ["float key", [0x81, 0xca, 0, 0, 0, 0, 0xc0]],
    ["bin key", [0x81, 0xc4, 0x01, 0x61, 0xc0]],
    ["timestamp key", [0x81, 0xd6, 0xff, 0, 0, 0, 0, 0xc0]],
    ["0xc1 key", [0x81, 0xc1, 0xc0]],
    ["map key of the second entry", [0x82, 0xa1, 0x61, 0x01, 0x90, 0x01]],
  ];
  for (const [name, payload] of cases) {
    const err = t.throws(() => decode(bytes(payload)), { instanceOf: MalformedMessageError }, name);
    t.is(err.details.reason, "bad-key-type", name);
  }
});

test("codec - refuses more than maxKeys elements in total", (t) => {
  // one array32 of 100 001 nils
  const wide = new Uint8Array(5 + 100_001).fill(0xc0);
  wide.set([0xdd, 0x00, 0x01, 0x86, 0xa1]);
  malformed(t, wide, "too-many-elements");
  // 100 000 is still fine
  const ok = new Uint8Array(5 + 100_000).fill(0xc0);
  ok.set([0xdd, 0x00, 0x01, 0x86, 0xa0]);
  t.is((decode(ok) as unknown[]).length, 100_000);
  // the count is the sum over all containers: 2 + 2 array elements + 1 map entry = 5
  const nested = bytes(0x92, 0x92, 0x01, 0x02, 0x81, fixstr("a"), 0x03);
  t.notThrows(() => decode(nested, { maxKeys: 5 }));
  t.throws(() => decode(nested, { maxKeys: 4 }), { instanceOf: MalformedMessageError });
});

test("codec - oversize payload gives PayloadTooLargeError before any decoding", (t) => {
  // 2 MiB of garbage: the size check runs first, so this is not a MalformedMessageError
  const garbage = new Uint8Array(2 * 1024 * 1024).fill(0xc1);
  const err = t.throws(() => decode(garbage), { instanceOf: PayloadTooLargeError });
  t.is(err.code, "TROUPE_PAYLOAD_TOO_LARGE");
  t.deepEqual(err.details, { size: 2 * 1024 * 1024, limit: 1024 * 1024 });
  // the limit itself is accepted; one byte over is not
  const str = bytes(0xa3, "abc");
  t.is(decode(str, { maxBytes: 4 }), "abc");
  t.throws(() => decode(str, { maxBytes: 3 }), { instanceOf: PayloadTooLargeError });
  // a NaN limit fails closed
  t.throws(() => decode(str, { maxBytes: Number.NaN }), { instanceOf: PayloadTooLargeError });
});

test("codec - refuses input that is not a Uint8Array", (t) => {
  const err = t.throws(() => decode("nope" as unknown as Uint8Array), { instanceOf: MalformedMessageError });
  t.is(err.details.reason, "not-bytes");
});

// ---------------------------------------------------------------------------------------------
// Deterministic fuzz

/** mulberry32: small seeded PRNG, so every run tests the same inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

// Bytes that steer random input into headers, lengths and extensions.
const INTERESTING = [
  0x00, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x91, 0x9f, 0xa0, 0xa9, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6,
  0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcf, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd,
  0xde, 0xdf, 0xe0, 0xff, 0x5f, 0x62, 0x65, 0x69, 0x70, 0x72, 0x73, 0x74, 0x78,
];

test("codec - fuzz: random and mutated bytes only ever decode or throw a typed error", (t) => {
  const rand = prng(0x7f0a9e);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const seeds = [
    { method: "add", args: ["sku", 3, undefined, true], at: new Date(1_700_000_000_123) },
    [1, -1, 2 ** 40, 1.5, "héllo", null, new Uint8Array([1, 2, 3]), { a: { b: { c: [] } } }],
    { a: [[[[1]]]], b: "x".repeat(40), c: { d: false, e: -70_000, f: new Date(-1e12) } },
  ].map((v) => new Uint8Array(encode(v)));

  const outcomes = { ok: 0, malformed: 0, tooLarge: 0, decoderReason: 0 };
  const check = (input: Uint8Array, limits?: { maxBytes?: number; maxDepth?: number; maxKeys?: number }) => {
    try {
      decode(input, limits);
      outcomes.ok++;
    } catch (err) {
      if (err instanceof MalformedMessageError) {
        outcomes.malformed++;
        if (err.details.reason === "decoder") outcomes.decoderReason++;
      } else if (err instanceof PayloadTooLargeError) {
        outcomes.tooLarge++;
      } else {
        t.fail(`unexpected ${String(err)} for ${Buffer.from(input).toString("hex")}`);
        throw err;
      }
    }
  };

  // 20k random byte strings, half uniform, half drawn from interesting bytes
  for (let i = 0; i < 20_000; i++) {
    const len = int(48);
    const input = new Uint8Array(len);
    const biased = i % 2 === 0;
    for (let j = 0; j < len; j++) input[j] = biased && rand() < 0.6 ? pick(INTERESTING) : int(256);
    check(input, i % 7 === 0 ? { maxBytes: 32, maxDepth: 4, maxKeys: 8 } : undefined);
  }

  // 20k mutations of valid encodings: overwrite, insert, delete, truncate, splice
  for (let i = 0; i < 20_000; i++) {
    const base = Array.from(pick(seeds));
    const edits = 1 + int(4);
    for (let e = 0; e < edits; e++) {
      const at = int(base.length + 1);
      const op = int(5);
      const b = rand() < 0.5 ? pick(INTERESTING) : int(256);
      if (op === 0) base[Math.min(at, base.length - 1)] = b;
      else if (op === 1) base.splice(at, 0, b);
      else if (op === 2) base.splice(at, 1);
      else if (op === 3) base.length = Math.min(base.length, at);
      else base.splice(at, 0, ...pick(seeds).subarray(0, int(12)));
    }
    check(Uint8Array.from(base));
  }

  t.log(outcomes);
  t.is(outcomes.ok + outcomes.malformed + outcomes.tooLarge, 40_000);
  t.true(outcomes.ok > 0 && outcomes.malformed > 0 && outcomes.tooLarge > 0, JSON.stringify(outcomes));
  // the pre-scan catches everything msgpackr would choke on: its errors never need wrapping
  t.is(outcomes.decoderReason, 0, JSON.stringify(outcomes));
  assertNotPolluted(t);
});
