/** Retry decision, backoff, retry budget, per-type breaker and call retries (`resilientRef`). */
import test from "ava";
import {
  ActorMethodError,
  DeadlineExceededError,
  OverloadedError,
  resilientRef,
  UnknownMethodError,
} from "troupe";
import { TerminalError } from "../../runtime/jobs/index.js";
import {
  CircuitOpenError,
  fullJitterDelayMs,
  Resilience,
  RetryBudget,
  retryDecision,
} from "../../runtime/resilience/index.js";
import { startMesh } from "../helpers/mesh.js";
import { seen, Work } from "./fixtures/actors.js";

test.beforeEach(() => seen.reset());

test("resilience - the retry decision comes from the error's type", (t) => {
  t.is(retryDecision(new DeadlineExceededError("x"), "terminal"), "retry");
  t.is(retryDecision(new OverloadedError("x"), "terminal"), "retry");
  t.is(retryDecision(new UnknownMethodError("x"), "retry"), "terminal");
  t.is(retryDecision(new TerminalError("x"), "retry"), "terminal");
  t.is(retryDecision(new ActorMethodError("x"), "retry"), "retry", "jobs retry a handler's error");
  t.is(retryDecision(new ActorMethodError("x"), "terminal"), "terminal", "calls do not");
  t.is(retryDecision(new Error("socket"), "terminal"), "retry");
});

test("resilience - full jitter stays within the doubling, capped ceiling", (t) => {
  const o = { initialDelayMs: 100, maxDelayMs: 1000 };
  t.is(
    fullJitterDelayMs(1, o, () => 0.999999),
    99,
  );
  t.is(
    fullJitterDelayMs(3, o, () => 0.999999),
    399,
  );
  t.is(
    fullJitterDelayMs(30, o, () => 0.999999),
    999,
  );
  t.is(
    fullJitterDelayMs(5, o, () => 0),
    0,
  );
});

test("resilience - the retry budget allows `ratio` retries per first attempt beyond its floor", (t) => {
  let now = 0;
  const budget = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 2 }, () => now);
  t.true(budget.tryRetry());
  t.true(budget.tryRetry());
  t.false(budget.tryRetry(), "floor spent, nothing earned");
  for (let i = 0; i < 20; i++) budget.recordAttempt();
  t.true(budget.tryRetry());
  t.true(budget.tryRetry());
  t.false(budget.tryRetry(), "20 attempts at 10% earn 2 retries");
  now += 1000;
  t.true(budget.tryRetry(), "the floor refills with time");
});

test("resilience - a type's breaker opens on retryable failures and then fails fast", async (t) => {
  const r = new Resilience({ breaker: { minimumRps: 0.1, samplingMs: 10_000, halfOpenAfterMs: 60_000 } });
  for (let i = 0; i < 20; i++) {
    await r.execute("Pay", () => Promise.reject(new DeadlineExceededError("slow"))).catch(() => undefined);
  }
  t.true(r.isOpen("Pay"));
  await t.throwsAsync(
    r.execute("Pay", () => Promise.resolve(1)),
    { instanceOf: CircuitOpenError },
  );
  t.false(r.isOpen("Other"), "one breaker per type");
  t.is(await r.execute("Other", () => Promise.resolve(2)), 2);
});

test("resilience - resilientRef retries retryable errors, not the handler's own", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Work]);
  const work = resilientRef(mesh, Work, "r1", {
    retry: { maxAttempts: 5, initialDelayMs: 10, maxDelayMs: 50 },
  });
  t.is(await work.busy("b", 2), 3, "two OverloadedErrors, then an answer");
  await t.throwsAsync(work.broken("x"), { instanceOf: ActorMethodError });
  t.is(seen.runs.get("x"), 1, "a handler's error is not retried for calls");
  await t.throwsAsync(
    resilientRef(mesh, Work, "r2", { retry: { maxAttempts: 2, initialDelayMs: 1 } }).busy("c", 5),
    { instanceOf: OverloadedError },
  );
  t.is(seen.runs.get("c"), 2, "maxAttempts counts the first attempt");
});
