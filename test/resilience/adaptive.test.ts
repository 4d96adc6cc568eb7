import test from "ava";
import { ThrottledError } from "../../runtime/errors.js";
import {
  AdaptiveRateLimiter,
  callWithRetry,
  fullJitterDelayMs,
  RETRY_AFTER_JITTER,
  Resilience,
  retryDelayMs,
} from "../../runtime/resilience/index.js";
import { TokenBucket } from "../../runtime/throttling/index.js";

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms), set: (ms: number) => (now = ms) };
}

test("retry delay - a retry-after is honoured with jitter on top, never less", (t) => {
  const err = new ThrottledError("slow down", { details: { retryAfterMs: 200, policy: "p" } });
  t.is(
    retryDelayMs(err, 1, {}, () => 0),
    200,
  );
  t.is(
    retryDelayMs(err, 1, {}, () => 0.999_999),
    Math.ceil(200 + 0.999_999 * 200 * RETRY_AFTER_JITTER),
  );
  const small = new ThrottledError("", { details: { retryAfterMs: 4 } });
  t.is(
    retryDelayMs(small, 1, {}, () => 0.5),
    9,
    "at least 10 ms of spread",
  );
});

test("retry delay - without a retry-after it is full-jitter backoff", (t) => {
  const plain = new ThrottledError("no hint");
  const random = () => 0.5;
  t.is(
    retryDelayMs(plain, 3, { initialDelayMs: 100 }, random),
    fullJitterDelayMs(3, { initialDelayMs: 100 }, random),
  );
  t.is(
    retryDelayMs(new Error("x"), 1, {}, () => 0.25),
    fullJitterDelayMs(1, {}, () => 0.25),
  );
  const nonsense = new ThrottledError("", { details: { retryAfterMs: -5 } });
  t.is(
    retryDelayMs(nonsense, 1, {}, () => 0),
    0,
  );
});

test("adaptive rate - stays out of the way until the first throttle", (t) => {
  const c = clock();
  const limiter = new AdaptiveRateLimiter({ now: c.now });
  for (let i = 0; i < 1000; i++) {
    t.is(limiter.acquireDelayMs(), 0);
    limiter.onSuccess();
    c.advance(1);
  }
  t.is(limiter.rate, undefined);
  t.true(limiter.measuredRate > 900, `measured ${limiter.measuredRate}`);
});

test("adaptive rate - a throttle cuts the rate multiplicatively; successes bring it back, then beyond", (t) => {
  const c = clock();
  const limiter = new AdaptiveRateLimiter({ now: c.now });
  for (let i = 0; i < 2000; i++) {
    limiter.acquireDelayMs();
    c.advance(10); // 100/s
  }
  const before = limiter.measuredRate;
  limiter.onThrottle();
  t.true(
    Math.abs((limiter.rate ?? 0) - 0.7 * before) < 1,
    `rate ${limiter.rate} after a throttle at ${before}/s`,
  );
  limiter.onThrottle();
  t.true((limiter.rate ?? 0) < 0.7 * before, "a second throttle cuts again");

  const low = limiter.rate ?? 0;
  // The client sends as fast as the limiter lets it, and every send succeeds: the rate climbs
  // back to where the throttles began, then probes beyond it.
  let recoveredAtMs: number | undefined;
  const start = c.now();
  for (let ms = 0; ms < 20_000; ms++) {
    c.advance(1);
    if (limiter.tryAcquire()) limiter.onSuccess();
    if (recoveredAtMs === undefined && (limiter.rate ?? 0) >= 0.95 * before) recoveredAtMs = c.now() - start;
  }
  t.truthy(recoveredAtMs, `rate went from ${low} back to ${before}`);
  t.true((limiter.rate ?? 0) > before, `then beyond: ${limiter.rate}`);
});

/**
 * A client that wants 1000 sends/s against a server admitting 100/s (burst 100), for 10 simulated
 * seconds, one attempt per millisecond at most (without the limiter every millisecond): how many
 * attempts are refused?
 */
function simulate(adaptive: boolean): { accepted: number; refused: number } {
  const c = clock();
  const server = new TokenBucket(100, 100, c.now);
  const limiter = new AdaptiveRateLimiter({ now: c.now });
  let accepted = 0;
  let refused = 0;
  for (let ms = 0; ms < 10_000; ms++) {
    c.set(ms);
    if (adaptive && !limiter.tryAcquire()) continue;
    if (server.tryTake()) {
      accepted += 1;
      limiter.onSuccess();
    } else {
      refused += 1;
      limiter.onThrottle();
    }
  }
  return { accepted, refused };
}

test("adaptive rate - a client at 10x its limit sends little more than its limit", (t) => {
  const plain = simulate(false);
  const adaptive = simulate(true);
  t.log(`without adaptive rate: ${plain.accepted} accepted, ${plain.refused} refused`);
  t.log(`with adaptive rate:    ${adaptive.accepted} accepted, ${adaptive.refused} refused`);
  t.true(plain.refused > 8000);
  t.true(adaptive.accepted >= 0.8 * plain.accepted, "the limit is still used");
  t.true(adaptive.refused * 10 < plain.refused, "far fewer refused attempts");
});

test("call retry - a throttled call is retried no sooner than its retry-after, within maxElapsed", async (t) => {
  const resilience = new Resilience();
  const retryAfterMs = 60;
  const attempts: number[] = [];
  const result = await callWithRetry(
    resilience,
    "Cart",
    async () => {
      attempts.push(performance.now());
      if (attempts.length < 3) throw new ThrottledError("over", { details: { retryAfterMs, policy: "p" } });
      return "done";
    },
    { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 1 },
  );
  t.is(result, "done");
  t.is(attempts.length, 3);
  for (let i = 1; i < attempts.length; i++) {
    const gap = (attempts[i] ?? 0) - (attempts[i - 1] ?? 0);
    // timers may fire up to a millisecond early on some platforms; the backoff alone would be ≤ 1 ms
    t.true(gap >= retryAfterMs - 2, `retry ${i} came ${gap} ms after the throttle`);
  }

  // A retry-after beyond what is left of maxElapsed is not waited for: the error comes back at once.
  let calls = 0;
  await t.throwsAsync(
    callWithRetry(
      resilience,
      "Cart",
      async () => {
        calls += 1;
        throw new ThrottledError("over", { details: { retryAfterMs: 60_000 } });
      },
      { maxAttempts: 5, maxElapsedMs: 1000 },
    ),
    { instanceOf: ThrottledError },
  );
  t.is(calls, 1);
});

test("adaptive rate - a burst of refusals of sends reserved before a throttle lowers the rate once; an unmeasured sender starts from the refusal's limit", (t) => {
  const c = clock();
  const limiter = new AdaptiveRateLimiter({ now: c.now });
  // Sends made without the limiter (tells before the first refusal): no measured rate.
  limiter.onThrottle(0, 40);
  t.is(limiter.rate, 28, "0.7 x the limit the refusal named");
  // Twenty sends reserved at once at that rate: they go out over the next ~0.7 s.
  const sentAt = Array.from({ length: 20 }, () => c.now() + limiter.acquireDelayMs());
  c.advance(5);
  limiter.onThrottle(sentAt[0]);
  const once = limiter.rate ?? 0;
  t.true(once < 28);
  for (const at of sentAt.slice(1, -1)) limiter.onThrottle(at);
  t.is(limiter.rate, once, "the rest of the round's refusals lower it no further");
  // A send reserved after that round went out is a new round: its refusal lowers the rate again.
  c.advance(2000);
  limiter.onThrottle(c.now());
  t.true((limiter.rate ?? 0) < once);
});
