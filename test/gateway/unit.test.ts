import test from "ava";
import { jsonDepth, parseJson } from "../../services/gateway/body.js";
import { deadlineOf, parseDuration } from "../../services/gateway/deadline.js";
import { BadRequestError } from "../../services/gateway/errors.js";

test("deadline - Request-Timeout takes ms or a unit, wins over the query, and is capped", (t) => {
  t.is(parseDuration("250", "x"), 250);
  t.is(parseDuration("250ms", "x"), 250);
  t.is(parseDuration("1.5s", "x"), 1500);
  t.is(parseDuration("2m", "x"), 120_000);
  t.is(deadlineOf("300", "900", 10_000, 60_000), 300);
  t.is(deadlineOf(undefined, "900", 10_000, 60_000), 900);
  t.is(deadlineOf(undefined, undefined, 10_000, 60_000), 10_000);
  t.is(deadlineOf("10m", undefined, 10_000, 60_000), 60_000);
  for (const bad of ["", "soon", "-5", "0", "5h", "1e3", "9999999999"]) {
    t.throws(() => parseDuration(bad, "Request-Timeout"), { instanceOf: BadRequestError }, bad);
  }
});

test("body - JSON depth counts brackets outside strings only", (t) => {
  t.is(jsonDepth('{"a":[1,{"b":2}]}'), 3);
  t.is(jsonDepth('"[[[[[["'), 0);
  t.is(jsonDepth('["\\"[[[", [1]]'), 2);
  t.throws(() => parseJson(new TextEncoder().encode("[".repeat(65) + "]".repeat(65)), 64), {
    instanceOf: BadRequestError,
  });
  t.deepEqual(parseJson(new TextEncoder().encode('{"__proto__":{"polluted":1},"ok":1}'), 64), { ok: 1 });
  t.is(({} as Record<string, unknown>).polluted, undefined);
});
