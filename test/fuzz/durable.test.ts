/**
 * Fuzzing what durable streams store: the job envelope, the job outcome and the dead letter
 * (runtime/messaging/job-envelope.ts, runtime/durable/dead-letter.ts), and events in msgpack and in JSON (runtime/pubsub/event.ts). Stored
 * messages are read by every host in turn, so a decoder that crashed on one would stop them all.
 */
import test from "ava";
import { type DeadLetter, decodeDeadLetter, encodeDeadLetter } from "../../runtime/durable/index.js";
import { MalformedMessageError } from "../../runtime/errors.js";
import { encode } from "../../runtime/messaging/codec.js";
import { MAX_ACTOR_ID_LENGTH, MAX_METHOD_LENGTH } from "../../runtime/messaging/envelope.js";
import {
  decodeJob,
  decodeOutcome,
  encodeJob,
  encodeOutcome,
  isJobId,
  type JobEnvelope,
  newJobId,
} from "../../runtime/messaging/index.js";
import {
  CONTENT_TYPE_HEADER,
  decodeEvent,
  encodeEvent,
  JSON_CONTENT_TYPE,
} from "../../runtime/pubsub/event.js";
import type { MessageHeaders } from "../../runtime/transport/transport.js";
import { mutate, number, same, text, value } from "./generators.js";
import { fuzz, Rng, seedFor, show } from "./harness.js";

function job(rng: Rng): JobEnvelope {
  return {
    jobId: newJobId(),
    actorId: text(rng, 20) || "a",
    method: text(rng, 10, false) || "m",
    args: Array.from({ length: rng.int(4) }, () => value(rng, 3)),
    timeoutMs: 1 + rng.int(3_600_000),
    maxAttempts: rng.int(10),
    keepResult: rng.chance(0.8),
  };
}

function assertJob(j: JobEnvelope): void {
  const ok =
    isJobId(j.jobId) &&
    typeof j.actorId === "string" &&
    j.actorId.length >= 1 &&
    j.actorId.length <= MAX_ACTOR_ID_LENGTH &&
    typeof j.method === "string" &&
    j.method.length >= 1 &&
    j.method.length <= MAX_METHOD_LENGTH &&
    Array.isArray(j.args) &&
    typeof j.timeoutMs === "number" &&
    j.timeoutMs > 0 &&
    Number.isInteger(j.maxAttempts) &&
    j.maxAttempts >= 0 &&
    typeof j.keepResult === "boolean";
  if (!ok) throw new Error(`decodeJob returned an invalid job: ${show(j)}`);
}

test("fuzz durable - a job survives encode then decode; one whose arguments hold a forbidden key is refused by name", (t) => {
  fuzz(
    t,
    "job.roundtrip",
    10_000,
    (rng) => {
      const j = job(rng);
      // Issue 12, item 5: a `constructor` key in the arguments (as JSON.parse makes it) was stored,
      // then dead-lettered without its job id. Enqueue now runs exactly this decode first.
      if (rng.chance(0.1))
        j.args.push(JSON.parse(`{"${rng.pick(["constructor", "__proto__", "prototype"])}": 1}`));
      return j;
    },
    (j) => {
      const poisoned = j.args.some(
        (a) =>
          a &&
          typeof a === "object" &&
          !Array.isArray(a) &&
          Object.keys(a).some((k) => k === "constructor" || k === "__proto__" || k === "prototype"),
      );
      try {
        const back = decodeJob(encodeJob(j));
        if (poisoned) throw new Error("a forbidden key was decoded");
        if (!same(back, j)) throw new Error(`changed on the way: ${show(back)}`);
      } catch (err) {
        if (poisoned && err instanceof MalformedMessageError && err.details.reason === "forbidden-key")
          return;
        throw err;
      }
    },
    () => false,
  );
});

test("fuzz durable - decodeJob of mutated jobs gives a valid job or a typed error", (t) => {
  const poolRng = new Rng(seedFor("job.pool"));
  const pool = Array.from({ length: 300 }, () => encodeJob(job(poolRng)));
  pool.push(
    encode([1, "bad id!", "a", "m", [], 1, 0]),
    encode([1, newJobId(), "a", "m", [], 1, 0, 2]),
    encode([1, newJobId(), "a", "m", [], 0, 0, 1]),
    encode([1, newJobId(), "a", "m", [], 1, -1, 1]),
  );
  fuzz(
    t,
    "job.mutated",
    100_000,
    (rng) => mutate(rng, rng.pick(pool), pool),
    (b) => assertJob(decodeJob(b)),
  );
});

test("fuzz durable - decodeOutcome of mutated results gives an outcome or a typed error", (t) => {
  const poolRng = new Rng(seedFor("outcome.pool"));
  const pool = Array.from({ length: 200 }, () =>
    poolRng.chance(0.5)
      ? encodeOutcome({
          ok: true,
          value: value(poolRng, 3),
          attempts: 1 + poolRng.int(5),
          finishedAtMs: Date.now(),
        })
      : encodeOutcome({
          ok: false,
          error: { code: "TROUPE_TERMINAL", message: text(poolRng, 30), details: { n: number(poolRng) } },
          attempts: 1 + poolRng.int(5),
          finishedAtMs: Date.now(),
        }),
  );
  fuzz(
    t,
    "outcome.mutated",
    30_000,
    (rng) => mutate(rng, rng.pick(pool), pool),
    (b) => {
      const o = decodeOutcome(b);
      if (typeof o.attempts !== "number" || (!o.ok && (typeof o.error !== "object" || o.error === null))) {
        throw new Error(`invalid outcome: ${show(o)}`);
      }
    },
  );
});

function deadLetter(rng: Rng): DeadLetter {
  return {
    v: 1,
    reason: rng.pick(["attempts-exhausted", "terminal", "expired", "malformed"] as const),
    jobId: newJobId(),
    type: "Mailer",
    actorId: text(rng, 10) || "a",
    method: "send",
    error: { code: "TROUPE_ACTOR_METHOD_FAILED", message: text(rng, 40), details: {} },
    attempts: 1 + rng.int(5),
    enqueuedAtMs: Date.now(),
    failedAtMs: Date.now(),
    host: "h",
    originalSubject: "t.jobs.Mailer.x",
    originalSeq: 1 + rng.int(1000),
    originalHeaders: { "nats-msg-id": "x" },
    data: encodeJob(job(rng)),
  };
}

test("fuzz durable - decodeDeadLetter of mutated records gives a record or a typed error", (t) => {
  const poolRng = new Rng(seedFor("dead-letter.pool"));
  const pool = Array.from({ length: 100 }, () => encodeDeadLetter(deadLetter(poolRng)));
  fuzz(
    t,
    "dead-letter.mutated",
    20_000,
    (rng) => mutate(rng, rng.pick(pool), pool),
    (b) => {
      const d = decodeDeadLetter(b);
      if (d.v !== 1 || typeof d.type !== "string" || !(d.data instanceof Uint8Array)) {
        throw new Error(`invalid dead letter: ${show(d)}`);
      }
    },
  );
});

const jsonHeaders: MessageHeaders = {
  get: (k) => (k === CONTENT_TYPE_HEADER ? JSON_CONTENT_TYPE : ""),
  has: (k) => k === CONTENT_TYPE_HEADER,
  keys: () => [CONTENT_TYPE_HEADER],
};

function noForbiddenKeys(v: unknown, depth = 0): void {
  if (!v || typeof v !== "object" || v instanceof Uint8Array || v instanceof Date || depth > 200) return;
  for (const k of Object.keys(v)) {
    if (k === "__proto__" || k === "constructor" || k === "prototype") throw new Error(`event kept key ${k}`);
    noForbiddenKeys((v as Record<string, unknown>)[k], depth + 1);
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== Array.prototype)
    throw new Error("event with a foreign prototype");
}

test("fuzz durable - decodeEvent of mutated msgpack events gives an event or a typed error", (t) => {
  const poolRng = new Rng(seedFor("event.msgpack.pool"));
  const pool = Array.from({ length: 300 }, () => encodeEvent(value(poolRng, 4)));
  fuzz(
    t,
    "event.msgpack.mutated",
    30_000,
    (rng) => mutate(rng, rng.pick(pool), pool),
    (b) => noForbiddenKeys(decodeEvent(b, undefined)),
  );
});

const JSON_PIECES = [
  '{"',
  '":',
  "[",
  "]",
  "{",
  "}",
  ",",
  '"__proto__"',
  '"constructor"',
  '"prototype"',
  "1e999",
  "-0",
  "null",
  "true",
  '"\\u0000"',
  '"\\ud800"',
  "\\",
  " ",
];

test("fuzz durable - decodeEvent of mutated JSON events gives an event without prototype keys, or a typed error", (t) => {
  const poolRng = new Rng(seedFor("event.json.pool"));
  const pool = Array.from({ length: 200 }, () => JSON.stringify(value(poolRng, 4)) ?? "null");
  pool.push('{"__proto__": {"polluted": true}}', '{"a": {"constructor": {"prototype": {"polluted": true}}}}');
  fuzz(
    t,
    "event.json.mutated",
    40_000,
    (rng) => {
      let s = rng.pick(pool);
      for (let e = 1 + rng.int(3); e > 0; e--) {
        const at = rng.int(s.length + 1);
        s = rng.chance(0.5)
          ? s.slice(0, at) + rng.pick(JSON_PIECES) + s.slice(at)
          : s.slice(0, at) + s.slice(at + 1 + rng.int(4));
      }
      return Buffer.from(s, "utf8");
    },
    (b) => noForbiddenKeys(decodeEvent(b, jsonHeaders)),
  );
});
