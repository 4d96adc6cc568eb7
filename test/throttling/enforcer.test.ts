import test from "ava";
import { fromWireError, ThrottledError, toWireError } from "../../runtime/errors.js";
import type { Shares__Output } from "../../runtime/protos/index.js";
import {
  LocalEnforcer,
  type Policy,
  TokenBucket,
  throttlingInterceptor,
  validatePolicy,
} from "../../runtime/throttling/index.js";
import { recordingLogger } from "../helpers/logger.js";

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function shares(
  entries: {
    policy: Policy;
    rate?: number;
    burst?: number;
    concurrency?: number;
    keys?: Record<string, number>;
  }[],
  generation = 1,
): Shares__Output {
  return {
    generation,
    policies: entries.map((e) => ({
      policy: e.policy,
      defaultShare: { ratePerSecond: e.rate ?? 0, burst: e.burst ?? 0, maxConcurrency: e.concurrency ?? 0 },
      keys: Object.entries(e.keys ?? {}).map(([key, rate]) => ({
        key,
        share: { ratePerSecond: rate, burst: Math.ceil(rate), maxConcurrency: 0 },
      })),
    })),
  };
}

const call = { actorType: "Cart", method: "add", hop: "call" as const };

test("token bucket - refills at its rate up to its burst", (t) => {
  const c = clock();
  const b = new TokenBucket(10, 5, c.now);
  for (let i = 0; i < 5; i++) t.true(b.tryTake());
  t.false(b.tryTake());
  t.is(b.msUntilAvailable(), 100);
  c.advance(250);
  t.is(b.remaining(), 2);
  c.advance(10_000);
  t.is(b.remaining(), 5, "never above the burst");
});

test("enforcer - without shares every turn is allowed", (t) => {
  const e = new LocalEnforcer();
  t.true(e.decide(call).allowed);
  t.is(e.sharesGeneration, -1);
});

test("enforcer - refuses past the rate share with a ThrottledError saying when to retry", (t) => {
  const c = clock();
  const e = new LocalEnforcer(undefined, c.now);
  const policy = validatePolicy({
    name: "carts",
    match: { actorTypes: ["Cart"] },
    limit: { ratePerSecond: 100 },
  });
  e.applyShares(shares([{ policy, rate: 10, burst: 2 }]));
  t.true(e.decide(call).allowed);
  t.true(e.decide(call).allowed);
  const refused = e.decide(call);
  t.false(refused.allowed);
  if (refused.allowed) return;
  t.true(refused.error instanceof ThrottledError);
  t.is(refused.error.code, "TROUPE_THROTTLED");
  t.true(refused.error.retryable);
  t.is(refused.error.retryAfterMs, 100);
  t.deepEqual(
    {
      policy: refused.error.details.policy,
      limit: refused.error.details.limit,
      remaining: refused.error.details.remaining,
    },
    { policy: "carts", limit: 100, remaining: 0 },
  );
  c.advance(100);
  t.true(e.decide(call).allowed);
  t.deepEqual(e.takeUsage(), [{ policy: "carts", key: "", allowed: 3, refused: 1, inFlight: 0 }]);
  t.deepEqual(e.takeUsage(), [], "counts reset after a report");
  t.deepEqual(e.counters().get("carts"), { allowed: 3, refused: 1 }, "metrics counters do not reset");
});

test("enforcer - per-key shares: each caller has its own bucket", (t) => {
  const c = clock();
  const e = new LocalEnforcer(undefined, c.now);
  const policy = validatePolicy({ name: "per-caller", limit: { ratePerSecond: 1 }, keyBy: "KEY_BY_CALLER" });
  e.applyShares(shares([{ policy, rate: 1, burst: 1, keys: { vip: 5 } }]));
  t.true(e.decide({ ...call, caller: "a" }).allowed);
  t.false(e.decide({ ...call, caller: "a" }).allowed);
  t.true(e.decide({ ...call, caller: "b" }).allowed, "another caller is not affected");
  let vip = 0;
  while (e.decide({ ...call, caller: "vip" }).allowed) vip += 1;
  t.is(vip, 5, "a key with its own share uses it");
});

test("enforcer - concurrency shares free a slot on release, once", (t) => {
  const e = new LocalEnforcer();
  const policy = validatePolicy({ name: "slots", limit: { maxConcurrency: 4 } });
  e.applyShares(shares([{ policy, concurrency: 2 }]));
  const first = e.decide(call);
  const second = e.decide(call);
  t.true(first.allowed && second.allowed);
  const third = e.decide(call);
  t.false(third.allowed);
  if (!third.allowed) t.is(third.error.details.scope, "concurrency");
  if (first.allowed) {
    first.release();
    first.release();
  }
  t.true(e.decide(call).allowed);
  t.false(e.decide(call).allowed, "a second release did not free a second slot");
});

test("enforcer - every matching policy must admit; tokens are taken only when all do", (t) => {
  const c = clock();
  const e = new LocalEnforcer(undefined, c.now);
  const wide = validatePolicy({ name: "wide", limit: { ratePerSecond: 100 } });
  const narrow = validatePolicy({ name: "narrow", match: { methods: ["add"] }, limit: { ratePerSecond: 1 } });
  e.applyShares(
    shares([
      { policy: wide, rate: 3, burst: 3 },
      { policy: narrow, rate: 1, burst: 1 },
    ]),
  );
  t.true(e.decide(call).allowed);
  t.false(e.decide(call).allowed, "narrow refuses");
  t.true(e.decide({ ...call, method: "get" }).allowed, "wide still had tokens: narrow's refusal took none");
  t.true(e.decide({ ...call, method: "get" }).allowed);
  t.false(e.decide({ ...call, method: "get" }).allowed);
});

test("enforcer - new shares keep bucket levels; an invalid share is skipped and logged", (t) => {
  const c = clock();
  const { logger, at } = recordingLogger();
  const e = new LocalEnforcer(logger, c.now);
  const policy = validatePolicy({ name: "p", limit: { ratePerSecond: 10 } });
  e.applyShares(shares([{ policy, rate: 10, burst: 2 }]));
  t.true(e.decide(call).allowed);
  t.true(e.decide(call).allowed);
  e.applyShares(
    shares(
      [
        { policy, rate: 20, burst: 4 },
        { policy: { ...policy, name: "BAD NAME" }, rate: 1 },
      ],
      2,
    ),
  );
  t.false(e.decide(call).allowed, "a reshape does not refill the bucket");
  t.deepEqual(e.policies(), ["p"]);
  t.is(e.sharesGeneration, 2);
  t.is(at("error").length, 1);
});

test("throttled error - crosses the wire as the same class with its retry-after and policy", (t) => {
  const sent = new ThrottledError("over the limit", {
    details: { policy: "free-tier", scope: "rate", limit: 10, remaining: 0, retryAfterMs: 250 },
  });
  const received = fromWireError(JSON.parse(JSON.stringify(toWireError(sent))));
  t.true(received instanceof ThrottledError);
  t.is(received.code, "TROUPE_THROTTLED");
  t.true(received.retryable);
  t.is((received as ThrottledError).retryAfterMs, 250);
  t.deepEqual(received.details, sent.details);
  t.is(
    new ThrottledError("", { details: { retryAfterMs: "soon" } }).retryAfterMs,
    0,
    "nonsense reads as unknown",
  );
});

test("interceptor - refuses a turn over the limit before it runs, frees the slot when it ends", async (t) => {
  const e = new LocalEnforcer();
  const policy = validatePolicy({
    name: "acme-slots",
    match: { tenants: ["acme"] },
    limit: { maxConcurrency: 1 },
  });
  e.applyShares(shares([{ policy, concurrency: 1 }]));
  const intercept = throttlingInterceptor(e);
  const headers = (tenant: string) => ({
    get: (name: string) => (name === "x-tenant" ? tenant : undefined),
    has: (name: string) => name === "x-tenant",
    keys: () => ["x-tenant"],
  });
  const turn = {
    kind: "call" as const,
    actorType: "Cart",
    actorId: "c1",
    method: "add",
    caller: "web",
    headers: headers("acme"),
    deadline: performance.now() + 1000,
  };
  let finish: () => void = () => {};
  let ran = 0;
  const first = intercept(turn, () => {
    ran += 1;
    return new Promise<void>((resolve) => {
      finish = resolve;
    });
  });
  await t.throwsAsync(
    intercept(turn, async () => {
      ran += 1;
    }),
    { instanceOf: ThrottledError },
  );
  t.is(ran, 1, "the refused turn did not run");
  await intercept({ ...turn, headers: headers("globex") }, async () => {
    ran += 1;
  });
  t.is(ran, 2, "another tenant is not limited");
  finish();
  await first;
  await intercept(turn, async () => {
    ran += 1;
  });
  t.is(ran, 3, "the slot was freed when the first turn ended");
  await t.throwsAsync(
    intercept(turn, async () => {
      throw new Error("handler failed");
    }),
    { message: "handler failed" },
  );
  await intercept(turn, async () => {
    ran += 1;
  });
  t.is(ran, 4, "a failed turn frees its slot too");
});
