/**
 * Fuzzing the decoding of received header blocks (runtime/transport/headers.ts): generated blocks
 * of names and values made of arbitrary bytes (with CR, LF, colons, spaces, NUL, DEL and UTF-8
 * fragments over-represented), random bytes, and single-byte mutations of well-formed blocks.
 *
 * - never throws, whatever the bytes;
 * - never slow: an input that took 100 ms or more is run again alone, and fails only if it is slow
 *   every time (a busy machine may pause any one run; an algorithmic hang is slow each time);
 * - never more lenient than nats.js: a block it accepts decodes in nats.js too, to the same fields
 *   and status code (so a block Troupe passes on can never make nats.js throw);
 * - the same answer through a real nats.js message object (the raw header bytes it keeps).
 */
import { MsgHdrsImpl, MsgImpl } from "@nats-io/nats-core/internal";
import test from "ava";
import fc from "fast-check";
import {
  DEFAULT_HEADER_LIMITS,
  decodeHeaderBlock,
  type HeaderBlock,
  headerBlockOf,
} from "../../runtime/transport/headers.js";

const SLOW_MS = 100;
const CR = 13;
const LF = 10;
const COLON = 58;
/** Bytes that break header blocks, or decoders: line breaks, colon, space, NUL, DEL, UTF-8 parts. */
const SPECIAL = [CR, LF, COLON, 32, 9, 0, 127, 0xc3, 0xa9, 0xe2, 0x80, 0xa8, 0xff, 0xfe, 0x7e, 0x21];
const encoder = new TextEncoder();
const STATUS = encoder.encode("NATS/1.0");

const byte = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 97, max: 122 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const bytes = (maxLength: number) => fc.array(byte, { maxLength });

/** A block as nats-server would forward it from an arbitrary sender. */
const generatedBlock = fc
  .record({
    status: fc.oneof(
      fc.constant(""),
      fc.constantFrom(" 503", " 408 Request Timeout", " 100 Idle Heartbeat", " 409 Consumer Deleted"),
      bytes(12),
    ),
    fields: fc.array(fc.tuple(bytes(16), bytes(24)), { maxLength: 8 }),
    crlfEnd: fc.boolean(),
  })
  .map(({ status, fields, crlfEnd }) => {
    const out: number[] = [...STATUS];
    if (typeof status === "string") out.push(...encoder.encode(status));
    else out.push(...status);
    out.push(CR, LF);
    for (const [name, value] of fields) out.push(...name, COLON, ...value, CR, LF);
    if (crlfEnd) out.push(CR, LF);
    return Uint8Array.from(out);
  });

/** A well-formed block with one byte replaced. */
const mutatedBlock = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, b]) => {
  const block = encoder.encode(
    "NATS/1.0\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\nNats-Msg-Id: j-1\r\n\r\n",
  );
  block[at % block.length] = b;
  return block;
});

const anyBlock = fc.oneof(
  { weight: 6, arbitrary: generatedBlock },
  { weight: 2, arbitrary: mutatedBlock },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
);

/** Decodes `block`, timing it; re-runs a slow one alone to tell a pause from a hang. */
function timedDecode(block: Uint8Array): { result: HeaderBlock; ms: number } {
  const t0 = performance.now();
  const result = decodeHeaderBlock(block);
  let ms = performance.now() - t0;
  for (let again = 0; ms >= SLOW_MS && again < 3; again++) {
    const t1 = performance.now();
    decodeHeaderBlock(block);
    ms = Math.min(ms, performance.now() - t1);
  }
  return { result, ms };
}

/** What nats.js's own decoder makes of `block`: its fields and code, or that it throws. */
function natsView(block: Uint8Array): { fields: [string, string[]][]; code: number } | "throws" {
  try {
    const h = MsgHdrsImpl.decode(block);
    return { fields: h.keys().map((k) => [k, h.values(k)]), code: h.code };
  } catch {
    return "throws";
  }
}

function fieldsOf(result: HeaderBlock): [string, string[]][] {
  if (!result.ok || !result.headers) return [];
  const h = result.headers;
  return h.keys().map((k) => [k, [...h.values(k)]]);
}

test("header fuzz - 100,000 generated header blocks: no throw, no slow input, never more lenient than nats.js", (t) => {
  let inputs = 0;
  let accepted = 0;
  let slowest = 0;
  fc.assert(
    fc.property(anyBlock, (block) => {
      inputs++;
      const { result, ms } = timedDecode(block);
      slowest = Math.max(slowest, ms);
      if (ms >= SLOW_MS) return false;
      if (!result.ok) return typeof result.reason === "string" && result.reason.length > 0;
      accepted++;
      // Reading an accepted block never throws either.
      const mine = fieldsOf(result);
      for (const [k] of mine) result.headers?.get(k);
      const theirs = natsView(block);
      if (theirs === "throws") return false;
      return (
        JSON.stringify(theirs.fields) === JSON.stringify(mine) && theirs.code === (result.headers?.code ?? 0)
      );
    }),
    { numRuns: 100_000, seed: 20261202 },
  );
  t.log(`${inputs} inputs, ${accepted} accepted, slowest ${slowest.toFixed(2)} ms`);
  t.true(inputs >= 100_000);
  t.true(accepted > 1000 && accepted < inputs, "both outcomes are exercised");
});

test("header fuzz - through a real nats.js message: the raw header bytes decode the same, and nothing throws", (t) => {
  let inputs = 0;
  fc.assert(
    fc.property(anyBlock, fc.uint8Array({ maxLength: 16 }), (block, payload) => {
      inputs++;
      const data = new Uint8Array(block.length + payload.length);
      data.set(block);
      data.set(payload, block.length);
      const subject = encoder.encode("fuzz.subject");
      const msg = new MsgImpl({ subject, sid: 1, hdr: block.length, size: data.length }, data, {
        publish: () => undefined,
      } as never);
      const viaMsg = headerBlockOf(msg);
      const direct = decodeHeaderBlock(block);
      return viaMsg.ok === direct.ok && JSON.stringify(fieldsOf(viaMsg)) === JSON.stringify(fieldsOf(direct));
    }),
    { numRuns: 20_000, seed: 42 },
  );
  t.true(inputs >= 20_000);
});

test("header fuzz - the blocks that deafened a process, and ones that would stall nats.js's decoder, are refused at once", (t) => {
  const cases: Record<string, Uint8Array> = {
    "a space in a name": encoder.encode("NATS/1.0\r\nbad name: 1\r\n\r\n"),
    "a non-ASCII name": encoder.encode("NATS/1.0\r\nnaïve: 1\r\n\r\n"),
    "a lone LF in a value": encoder.encode("NATS/1.0\r\nx-note: one\ntwo\r\n\r\n"),
    "a line without a colon": encoder.encode("NATS/1.0\r\njust text\r\n\r\n"),
    "no status line": encoder.encode("HTTP/1.1\r\na: 1\r\n\r\n"),
    // Quadratic in nats.js (20,000 names: ~20 s there); linear and bounded here.
    "20,000 distinct names": encoder.encode(
      `NATS/1.0\r\n${Array.from({ length: 20_000 }, (_, i) => `k${i}:1\r\n`).join("")}\r\n`,
    ),
    "257 fields": encoder.encode(
      `NATS/1.0\r\n${Array.from({ length: 257 }, (_, i) => `k${i}:1\r\n`).join("")}\r\n`,
    ),
  };
  for (const [what, block] of Object.entries(cases)) {
    const { result, ms } = timedDecode(block);
    t.false(result.ok, what);
    t.true(ms < SLOW_MS, `${what}: ${ms.toFixed(1)} ms`);
    if (!result.ok) t.log(`${what}: ${result.reason}`);
  }
  const limit = DEFAULT_HEADER_LIMITS.maxFields;
  const most = encoder.encode(
    `NATS/1.0\r\n${Array.from({ length: limit }, (_, i) => `k${i}:1\r\n`).join("")}\r\n`,
  );
  t.true(decodeHeaderBlock(most).ok, `${limit} fields are accepted`);
});

test("header fuzz - well-formed blocks decode to what nats.js decodes", (t) => {
  const cases = [
    "NATS/1.0\r\n\r\n",
    "NATS/1.0 503\r\n\r\n",
    "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\nNats-Pending-Bytes: 0\r\n\r\n",
    "NATS/1.0\r\ntraceparent:  00-abc-def-01  \r\ntracestate: a=1,b=2\r\nx: 1\r\nx: 2\r\n\r\n",
    "NATS/1.0\r\nNats-Msg-Id: a:b:c\r\nempty:\r\n\r\n",
  ];
  for (const text of cases) {
    const block = encoder.encode(text);
    const result = decodeHeaderBlock(block);
    const theirs = natsView(block);
    if (!result.ok || theirs === "throws") {
      t.fail(`${JSON.stringify(text)}: ${result.ok ? "nats.js throws" : result.reason}`);
      continue;
    }
    t.deepEqual(fieldsOf(result), theirs.fields, text);
    t.is(result.headers?.code ?? 0, theirs.code, text);
  }
});
