/**
 * Fuzzing the call, reply, tell and keepalive envelopes (runtime/messaging/envelope.ts): decoders
 * get mutated valid envelopes and give a valid envelope or a typed error; replies and keepalives
 * never throw; the error reply of any thrown value is encodable (issue 12, item 4: odd throws left
 * callers waiting for their deadline).
 */
import test from "ava";
import { ActorMethodError, TroupeError } from "../../runtime/errors.js";
import { encode } from "../../runtime/messaging/codec.js";
import {
  type CallEnvelope,
  decodeCall,
  decodeReply,
  encodeCall,
  encodeError,
  encodeKeepalive,
  encodeResult,
  keepaliveEveryMs,
  MAX_ACTOR_ID_LENGTH,
  MAX_METHOD_LENGTH,
} from "../../runtime/messaging/envelope.js";
import { mutate, number, same, text, value } from "./generators.js";
import { fuzz, Rng, seedFor, show } from "./harness.js";

function call(rng: Rng): CallEnvelope {
  const c: CallEnvelope = {
    actorId: text(rng, 20) || "a",
    method: text(rng, 10, false) || "m",
    timeoutMs: rng.int(120_000),
    args: Array.from({ length: rng.int(4) }, () => value(rng, 3)),
  };
  if (rng.chance(0.3)) c.oneWay = true;
  return c;
}

function assertCall(c: CallEnvelope): void {
  const ok =
    typeof c.actorId === "string" &&
    c.actorId.length >= 1 &&
    c.actorId.length <= MAX_ACTOR_ID_LENGTH &&
    typeof c.method === "string" &&
    c.method.length >= 1 &&
    c.method.length <= MAX_METHOD_LENGTH &&
    typeof c.timeoutMs === "number" &&
    Number.isFinite(c.timeoutMs) &&
    c.timeoutMs >= 0 &&
    Array.isArray(c.args) &&
    (c.oneWay === undefined || c.oneWay === true);
  if (!ok) throw new Error(`decodeCall returned an invalid envelope: ${show(c)}`);
}

test("fuzz envelopes - a call or tell survives encode then decode", (t) => {
  fuzz(
    t,
    "envelope.call.roundtrip",
    20_000,
    (rng) => call(rng),
    (c) => {
      const back = decodeCall(encodeCall(c));
      if (!same(back, c)) throw new Error(`changed on the way: ${show(back)}`);
    },
    () => false,
  );
});

test("fuzz envelopes - decodeCall of mutated envelopes gives a valid envelope or a typed error", (t) => {
  const poolRng = new Rng(seedFor("envelope.call.pool"));
  const pool = Array.from({ length: 300 }, () => encodeCall(call(poolRng)));
  // Near misses too: wrong versions, lengths and field types.
  pool.push(encode([2, "a", "m", 1, []]), encode([1, "a", "m", -1, []]), encode([1, "a", "m", 1, [], 2]));
  pool.push(
    encode([1, "", "m", 1, []]),
    encode([1, "a", "m", Number.POSITIVE_INFINITY, []]),
    encode([1, "a", "m", 1, {}]),
  );
  fuzz(
    t,
    "envelope.call.mutated",
    120_000,
    (rng) => mutate(rng, rng.pick(pool), pool),
    (b) => assertCall(decodeCall(b)),
  );
});

test("fuzz envelopes - decodeReply never throws: a value, or a typed error", (t) => {
  const poolRng = new Rng(seedFor("envelope.reply.pool"));
  const pool = [
    ...Array.from({ length: 150 }, () => encodeResult(value(poolRng, 3))),
    ...Array.from({ length: 100 }, () =>
      encodeError(new ActorMethodError(text(poolRng, 30), { details: { n: 1 } })),
    ),
    encodeKeepalive(2000),
  ];
  fuzz(
    t,
    "envelope.reply.mutated",
    60_000,
    (rng) => mutate(rng, rng.pick(pool), pool),
    (b) => {
      const r = decodeReply(b);
      if (!r.ok && !(r.error instanceof TroupeError))
        throw new Error(`reply error of class ${String(r.error)}`);
    },
    () => false,
  );
});

test("fuzz envelopes - keepaliveEveryMs never throws: an interval or -1", (t) => {
  const poolRng = new Rng(seedFor("envelope.keepalive.pool"));
  const pool = [
    ...Array.from({ length: 50 }, () => encodeKeepalive(1 + poolRng.int(60_000))),
    encodeResult(1),
    encodeError(new Error("x")),
  ];
  fuzz(
    t,
    "envelope.keepalive.mutated",
    60_000,
    (rng) => mutate(rng, rng.pick(pool), pool),
    (b) => {
      const every = keepaliveEveryMs(b);
      if (every !== -1 && !(Number.isFinite(every) && every > 0))
        throw new Error(`keepalive interval ${every}`);
    },
    () => false,
  );
});

/** Things handlers throw that are hard to describe (issue 12, item 4), and ordinary ones. */
function thrown(rng: Rng): unknown {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  switch (rng.int(12)) {
    case 0:
      return Object.create(null);
    case 1:
      return {
        toString() {
          throw new Error("toString refuses");
        },
      };
    case 2: {
      const e = new Error("x");
      Object.defineProperty(e, "message", {
        get() {
          throw new Error("message getter refuses");
        },
      });
      return e;
    }
    case 3:
      return new ActorMethodError("cyclic details", { details: cyclic as never });
    case 4:
      return new ActorMethodError("huge bigint", {
        details: { big: 10n ** BigInt(100 + rng.int(400)) } as never,
      });
    case 5:
      return Symbol(text(rng));
    case 6:
      return new Proxy(
        {},
        {
          get() {
            throw new Error("proxy refuses");
          },
          getPrototypeOf() {
            throw new Error("proxy refuses");
          },
        },
      );
    case 7:
      return number(rng);
    case 8:
      return value(rng, 3);
    case 9: {
      const e = new TypeError(text(rng, 40));
      (e as { code?: unknown }).code = rng.chance(0.5) ? text(rng) : cyclic;
      return e;
    }
    case 10:
      return Object.assign(new Error(text(rng)), { cause: cyclic });
    default:
      return new Error(text(rng, 40));
  }
}

test("fuzz envelopes - the error reply of anything thrown is encodable and decodes to a typed error (issue 12, item 4)", (t) => {
  fuzz(
    t,
    "envelope.error.thrown",
    // Few: a cyclic value costs a stack overflow (milliseconds on a busy machine) each.
    1_000,
    (rng) => thrown(rng),
    (err) => {
      const r = decodeReply(encodeError(err));
      if (r.ok || !(r.error instanceof TroupeError)) throw new Error("not an error reply");
    },
    () => false,
  );
});

test("envelopes - regression: odd throws get an error reply that names what could be read (issue 12, item 4)", (t) => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const cases: [string, unknown, string][] = [
    ["null prototype", Object.create(null), "TROUPE_ACTOR_METHOD_FAILED"],
    [
      "throwing toString",
      {
        toString: () => {
          throw new Error("no");
        },
      },
      "TROUPE_ACTOR_METHOD_FAILED",
    ],
    [
      "cyclic details",
      new ActorMethodError("cyclic", { details: cyclic as never }),
      "TROUPE_ACTOR_METHOD_FAILED",
    ],
    [
      "BigInt details",
      new ActorMethodError("big", { details: { big: 10n ** 400n } as never }),
      "TROUPE_ACTOR_METHOD_FAILED",
    ],
  ];
  for (const [what, err, code] of cases) {
    const r = decodeReply(encodeError(err));
    t.false(r.ok, what);
    if (!r.ok) {
      t.is(r.error.code, code, what);
      t.true(r.error instanceof ActorMethodError, what);
    }
  }
  const withMessage = decodeReply(encodeError(new ActorMethodError("kept", { details: cyclic as never })));
  t.is(!withMessage.ok ? withMessage.error.message : "", "kept");
});

test("envelopes - a result or call whose encoding encodes another envelope (a getter) gets both right", (t) => {
  // The envelopes are encoded from reused arrays; user code the encoder runs (a getter) and that
  // encodes an envelope of its own must not see or disturb them.
  let innerReply: Uint8Array | undefined;
  let innerCall: Uint8Array | undefined;
  const result = {
    get outer() {
      innerReply = encodeResult("inner");
      innerCall = encodeCall({ actorId: "b", method: "n", timeoutMs: 5, args: ["inner"] });
      return true;
    },
  };
  t.deepEqual(decodeReply(encodeResult(result)), { ok: true, value: { outer: true } });
  t.deepEqual(decodeReply(innerReply as Uint8Array), { ok: true, value: "inner" });
  t.deepEqual(decodeCall(innerCall as Uint8Array), {
    actorId: "b",
    method: "n",
    timeoutMs: 5,
    args: ["inner"],
  });

  let nested: Uint8Array | undefined;
  const arg = {
    get a() {
      nested = encodeCall({ actorId: "c", method: "o", timeoutMs: 7, args: [] });
      return 1;
    },
  };
  const outer = decodeCall(encodeCall({ actorId: "a", method: "m", timeoutMs: 9, args: [arg] }));
  t.deepEqual(outer, { actorId: "a", method: "m", timeoutMs: 9, args: [{ a: 1 }] });
  t.deepEqual(decodeCall(nested as Uint8Array), { actorId: "c", method: "o", timeoutMs: 7, args: [] });
  // The arrays were emptied after use: the next envelopes carry nothing of these.
  t.deepEqual(decodeReply(encodeResult(undefined)), { ok: true, value: undefined });
  t.deepEqual(decodeCall(encodeCall({ actorId: "d", method: "p", timeoutMs: 1, args: [] })), {
    actorId: "d",
    method: "p",
    timeoutMs: 1,
    args: [],
  });
});
