import test from "ava";
import { type DeadLetter, SLIM_ERROR_MESSAGE_CHARS, slimDeadLetter } from "../../runtime/durable/index.js";

const base: DeadLetter = {
  v: 1,
  reason: "attempts-exhausted",
  type: "Work",
  error: { code: "X", message: "short" },
  attempts: 3,
  enqueuedAtMs: 1,
  failedAtMs: 2,
  host: "h",
  originalSubject: "troupe.jobs.Work.1",
  originalSeq: 7,
  originalHeaders: { "Nats-Msg-Id": "j1" },
  data: new Uint8Array([1, 2, 3]),
};

test("dead letter slimming - drops the stack, cuts a long message, drops large details, keeps the original bytes", (t) => {
  const slim = slimDeadLetter({
    ...base,
    error: {
      code: "X",
      message: "m".repeat(5_000),
      stack: "Error: m\n    at somewhere",
      details: { blob: "d".repeat(5_000) },
    },
  });
  t.deepEqual(slim.omitted, [
    "error.stack",
    `error.message past ${SLIM_ERROR_MESSAGE_CHARS} characters`,
    "error.details",
  ]);
  t.is(slim.error.stack, undefined);
  t.is(slim.error.details, undefined);
  t.is(slim.error.message, `${"m".repeat(SLIM_ERROR_MESSAGE_CHARS)}…`);
  t.is(slim.data, base.data, "the original bytes are never cut");
  t.deepEqual(slim.originalHeaders, base.originalHeaders);
});

test("dead letter slimming - small details and a short message stay", (t) => {
  const slim = slimDeadLetter({
    ...base,
    error: { code: "X", message: "short", details: { remoteName: "RangeError" } },
  });
  t.deepEqual(slim.omitted, []);
  t.deepEqual(slim.error, { code: "X", message: "short", details: { remoteName: "RangeError" } });
});
