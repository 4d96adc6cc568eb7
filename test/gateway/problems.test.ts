import test from "ava";
import {
  ActorMethodError,
  DeadlineExceededError,
  fromWireError,
  OverloadedError,
  registeredErrorCodes,
  TerminalError,
} from "../../runtime/errors.js";
import { JobDeadLetteredError, JobFailedError } from "../../runtime/jobs/errors.js";
import { PublishFailedError } from "../../runtime/pubsub/errors.js";
import { GATEWAY_ERRORS, problemOf, STATUS_BY_CODE } from "../../services/gateway/index.js";

test("status mapping - every registered Troupe error code and every gateway error has a row", (t) => {
  const codes = [
    ...registeredErrorCodes(),
    ...GATEWAY_ERRORS.map((cls) => new cls("").code),
    new JobFailedError("", new TerminalError("")).code,
    new JobDeadLetteredError("", new TerminalError("")).code,
    new PublishFailedError("").code,
  ];
  t.true(codes.length > 25);
  for (const code of codes) t.truthy(STATUS_BY_CODE[code], `${code} has a status`);
});

test("status mapping - a TROUPE_THROTTLED wire error becomes 429 with Retry-After and RateLimit headers", (t) => {
  const err = fromWireError({
    code: "TROUPE_THROTTLED",
    message: "client alice is over its limit",
    details: { retryAfterMs: 1500, policy: "per-client", limit: 100, remaining: 0, windowMs: 60_000 },
  });
  const p = problemOf(err, "/v1/actors/Cart/c1/add", "req-1");
  t.is(p.status, 429);
  t.is(p.headers["retry-after"], "2");
  t.is(p.headers["ratelimit-policy"], '"per-client";q=100;w=60');
  t.is(p.headers.ratelimit, '"per-client";r=0;t=2');
  t.is(p.body.code, "TROUPE_THROTTLED");
  t.is(p.body.type, "urn:troupe:problem:TROUPE_THROTTLED");
  t.is(p.body.detail, "client alice is over its limit");
});

test("status mapping - a policy name that is not a token is not echoed into a header", (t) => {
  const err = fromWireError({
    code: "TROUPE_THROTTLED",
    message: "x",
    details: { retryAfterMs: 10, policy: 'evil"\r\nset-cookie: a', limit: 5, remaining: 1 },
  });
  const p = problemOf(err, "/", "r");
  t.is(p.headers["ratelimit-policy"], '"default";q=5');
  t.is(p.headers["retry-after"], "1");
});

test("status mapping - 503 carries Retry-After, 504 for deadlines, handler errors hide their message", (t) => {
  const overloaded = problemOf(new OverloadedError("mailbox full"), "/", "r");
  t.is(overloaded.status, 503);
  t.is(overloaded.headers["retry-after"], "1");
  t.is(problemOf(new DeadlineExceededError("late"), "/", "r").status, 504);
  const crash = problemOf(
    new ActorMethodError("secret internals", { details: { remoteName: "PgError" } }),
    "/",
    "r",
  );
  t.is(crash.status, 500);
  t.false(JSON.stringify(crash.body).includes("secret"));
  t.false(JSON.stringify(crash.body).includes("PgError"));
  const internal = problemOf(new Error("boom at /srv/app.js:12"), "/", "r");
  t.is(internal.status, 500);
  t.is(internal.body.code, "GATEWAY_INTERNAL");
  t.false(JSON.stringify(internal.body).includes("boom"));
});

test("status mapping - a TerminalError subclass with its own code is a 422", (t) => {
  class OutOfStock extends TerminalError {
    override readonly code = "SHOP_OUT_OF_STOCK";
  }
  t.is(problemOf(new OutOfStock("none left"), "/", "r").status, 422);
});
