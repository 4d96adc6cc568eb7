/** Retry decision, backoff, retry budget, per-type breaker and call retries (`resilientRef`). */
import test from "ava";
import {
  ActorMethodError,
  DeadlineExceededError,
  OverloadedError,
  resilientRef,
  UnknownMethodError,
} from "troupe";
import { throughOpenCircuit } from "../../runtime/durable/index.js";
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

/** A Resilience whose breaker for "Pay" is open, half-opening after `halfOpenAfterMs`. */
async function openCircuit(halfOpenAfterMs: number): Promise<Resilience> {
  const r = new Resilience({ breaker: { minimumRps: 0.1, samplingMs: 10_000, halfOpenAfterMs } });
  for (let i = 0; i < 20; i++) {
    await r.execute("Pay", () => Promise.reject(new DeadlineExceededError("slow"))).catch(() => undefined);
  }
  return r;
}

test("resilience - a stored message waits out its type's open circuit and runs once it half-opens", async (t) => {
  const r = await openCircuit(300);
  t.true(r.isOpen("Pay"));
  let tries = 0;
  let asked = 0;
  const value = await throughOpenCircuit(
    r,
    "Pay",
    async () => {
      tries++;
      return "paid";
    },
    () => {
      asked++;
      return true;
    },
  );
  t.is(value, "paid");
  t.is(tries, 1, "never attempted while the circuit was open");
  t.true(asked >= 1, "it waited at least once");
  t.false(r.isOpen("Pay"), "the trial attempt closed the circuit");
});

test("resilience - a stored message stops waiting for an open circuit when told to, with CircuitOpenError", async (t) => {
  const r = await openCircuit(60_000);
  let asked = 0;
  let tries = 0;
  await t.throwsAsync(
    throughOpenCircuit(
      r,
      "Pay",
      async () => {
        tries++;
        return 1;
      },
      () => ++asked < 3,
    ),
    { instanceOf: CircuitOpenError },
  );
  t.is(asked, 3, "asked after each refused try, gave up on the first no");
  t.is(tries, 0);
  const err = new DeadlineExceededError("a failure of the call itself");
  const other = await openCircuit(60_000);
  await t.throwsAsync(
    throughOpenCircuit(
      other,
      "Other",
      () => Promise.reject(err),
      () => true,
    ),
    { is: err },
  );
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
