/**
 * Hosts enforce: `mesh.host(types, { throttling })` registers with a real control plane (gRPC on
 * loopback, token auth), receives its shares and refuses calls over a cluster-wide limit with
 * ThrottledError, while a caller under another policy is unaffected.
 */
import test from "ava";
import { Actor, inboundTracing, subscribe, ThrottledError } from "troupe";
import type { JobEvent } from "../../runtime/jobs/index.js";
import type { ThrottlePolicy } from "../../runtime/protos/index.js";
import type { SubscriberEvent } from "../../runtime/pubsub/index.js";
import { startMesh } from "../helpers/mesh.js";
import { setPolicies, startPlane, TOKEN, waitFor } from "./helpers.js";

class Echo extends Actor {
  static options = { stateless: true };
  async echo(x: unknown) {
    return x;
  }
}

const NOISY: ThrottlePolicy = {
  name: "noisy-calls",
  match: { callers: ["noisy"], actorTypes: ["Echo"] },
  limit: { ratePerSecond: 200, burst: 20 },
};
const QUIET: ThrottlePolicy = {
  name: "quiet-calls",
  match: { callers: ["quiet"], actorTypes: ["Echo"] },
  limit: { ratePerSecond: 100, burst: 20 },
};

test("host enforcement - a host with the throttling option refuses calls over the cluster-wide limit; another caller's policy is unaffected", async (t) => {
  const { plane } = await startPlane(t);
  await setPolicies(plane.address, [NOISY, QUIET]);
  const { mesh, connectAnother } = await startMesh(t);
  const host = await mesh.host([Echo], { throttling: { controlPlane: plane.address, token: TOKEN } });
  t.truthy(host.enforcer, "the option installs an enforcer");
  // New policies reach a host within 2 s; the margin covers a loaded machine.
  await waitFor(
    () => (host.enforcer?.policies().length ?? 0) === 2,
    20_000,
    "the host's first shares with both policies",
  );

  // Not paced: this caller keeps offering far more than its limit, to measure enforcement.
  const noisy = await connectAnother({ clientId: "noisy", adaptiveRate: false });
  const quiet = await connectAnother({ clientId: "quiet" });
  const { ratePerSecond, burst } = NOISY.limit as { ratePerSecond: number; burst: number };
  // A window of a few seconds' worth of the limit; the offered load is whatever 64 callers without
  // pauses reach, asserted below to be well above the limit (else the test could not fail).
  const windowMs = (3 * 1000 * 200) / ratePerSecond;
  let accepted = 0;
  let refused = 0;
  const unexpected: unknown[] = [];
  const retryHints: number[] = [];
  let quietOk = 0;
  const quietErrors: unknown[] = [];
  const started = performance.now();
  const until = started + windowMs;
  // At least the window, and on until the noisy caller has offered well above its limit: on a
  // starved machine 64 callers may need longer to get there (bounded, and then the check fails).
  const giveUpAt = started + 20 * windowMs;
  const running = () => {
    const now = performance.now();
    return now < giveUpAt && (now < until || refused <= accepted);
  };
  const noisyWorker = async (w: number) => {
    for (let i = 0; running(); i++) {
      try {
        await noisy.ref(Echo, `n${w}-${i % 8}`).echo(i);
        accepted += 1;
      } catch (err) {
        if (err instanceof ThrottledError) {
          refused += 1;
          retryHints.push(err.retryAfterMs);
        } else unexpected.push(err);
      }
    }
  };
  // The quiet caller stays at a quarter of its own limit: one call per 4/limit seconds.
  const quietGapMs = (4 * 1000) / ((QUIET.limit as { ratePerSecond: number }).ratePerSecond ?? 1);
  const quietWorker = async () => {
    let next = performance.now();
    while (running()) {
      try {
        await quiet.ref(Echo, "q").echo(1);
        quietOk += 1;
      } catch (err) {
        quietErrors.push(err);
      }
      next += quietGapMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  };
  await Promise.all([...Array.from({ length: 64 }, (_, w) => noisyWorker(w)), quietWorker()]);
  const elapsedS = (performance.now() - started) / 1000;

  t.log(`noisy: ${accepted} accepted, ${refused} refused in ${elapsedS.toFixed(2)} s; quiet: ${quietOk} ok`);
  t.deepEqual(unexpected, [], "every refusal is a ThrottledError");
  t.true(
    refused > accepted,
    `the noisy caller offered well above its limit (${accepted} ok, ${refused} refused)`,
  );
  const bound = ratePerSecond * elapsedS * 1.1 + burst;
  t.true(accepted <= bound, `accepted ${accepted} calls in ${elapsedS.toFixed(2)} s; the bound is ${bound}`);
  t.true(
    retryHints.every((ms) => ms > 0),
    "every refusal says when to retry",
  );
  t.deepEqual(quietErrors, [], "the quiet caller, under its own policy, is never refused");
  t.true(quietOk > 0);
});

test("host enforcement - without the throttling option no enforcer and no interceptor are installed", async (t) => {
  const { mesh } = await startMesh(t);
  const host = await mesh.host([Echo]);
  t.is(host.enforcer, undefined);
  t.deepEqual(host.inbound, [inboundTracing], "only the built-in tracing, idle without a tracer");
});

test("host enforcement - a malformed control-plane address is a ConfigurationError, before anything starts", async (t) => {
  const { mesh } = await startMesh(t);
  const err = await t.throwsAsync(mesh.host([Echo], { throttling: { controlPlane: "nowhere" } }));
  t.is((err as { code?: string }).code, "TROUPE_CONFIGURATION");
});

test("host enforcement - jobs over a limit are held back in the queue, not failed: all complete, none dead-lettered, no attempt counted", async (t) => {
  const { plane } = await startPlane(t);
  const limit = { ratePerSecond: 5, burst: 1 };
  await setPolicies(plane.address, [
    { name: "echo-jobs", match: { actorTypes: ["Echo"], hops: ["job"] }, limit },
  ]);
  const { mesh } = await startMesh(t);
  const events: JobEvent[] = [];
  const host = await mesh.host([Echo], {
    throttling: { controlPlane: plane.address, token: TOKEN },
    // One attempt only: a held-back delivery counted as an attempt would dead-letter the job.
    jobs: { maxAttempts: 1, initialDelayMs: 100, maxDelayMs: 1000, onEvent: (e) => events.push(e) },
  });
  await waitFor(() => (host.enforcer?.policies().length ?? 0) === 1, 20_000, "the host's first shares");
  // Twice what the limit admits in a second, all at once.
  const n = 2 * limit.ratePerSecond;
  const jobs = await Promise.all(Array.from({ length: n }, (_, i) => mesh.enqueue(Echo, `j${i}`).echo(i)));
  // Each job's budget: the whole batch at the limit's rate, ten times over.
  const results = await Promise.all(
    jobs.map((j) => j.result({ timeoutMs: (10 * 1000 * n) / limit.ratePerSecond })),
  );
  t.deepEqual(
    results,
    Array.from({ length: n }, (_, i) => i),
  );
  const started = events.filter((e) => e.kind === "started");
  t.log(`${n} jobs, ${started.length} deliveries`);
  t.true(started.length > n, "some deliveries were refused and held back");
  t.true(
    started.every((e) => e.attempt === 1),
    "a held-back delivery is not an attempt",
  );
  t.deepEqual(
    events.filter((e) => e.kind === "dead-lettered" || e.kind === "retry"),
    [],
  );
});

class Heard extends Actor {
  static got = new Set<number>();
  @subscribe("throttled.said", { key: () => "one" })
  async onSaid(e: { n: number }) {
    Heard.got.add(e.n);
  }
}

test("host enforcement - events over a limit are held back in the stream, not failed: all handled, none dead-lettered", async (t) => {
  const { plane } = await startPlane(t);
  const limit = { ratePerSecond: 5, burst: 1 };
  await setPolicies(plane.address, [
    { name: "heard-events", match: { actorTypes: ["Heard"], hops: ["event"] }, limit },
  ]);
  const { mesh } = await startMesh(t);
  const events: SubscriberEvent[] = [];
  const host = await mesh.host([Heard], {
    throttling: { controlPlane: plane.address, token: TOKEN },
    // One attempt only: a held-back delivery counted as an attempt would dead-letter the event.
    subscriptions: { maxAttempts: 1, initialDelayMs: 100, maxDelayMs: 1000, onEvent: (e) => events.push(e) },
  });
  await waitFor(() => (host.enforcer?.policies().length ?? 0) === 1, 20_000, "the host's first shares");
  const n = 2 * limit.ratePerSecond;
  for (let i = 0; i < n; i++) await mesh.publish("throttled.said", { n: i });
  // The whole batch at the limit's rate, ten times over.
  await waitFor(() => Heard.got.size === n, (10 * 1000 * n) / limit.ratePerSecond, "every event handled");
  t.is(Heard.got.size, n);
  t.deepEqual(
    events.filter((e) => e.kind === "dead-lettered" || e.kind === "retry"),
    [],
  );
  const handled = events.filter((e) => e.kind === "handled");
  t.true(
    handled.every((e) => e.attempt === 1),
    "a held-back delivery is not an attempt",
  );
});

test("host enforcement - the adaptive client gets every call of a caller over its limit in with fewer refused attempts than retries alone", async (t) => {
  const { plane } = await startPlane(t);
  const limit = { ratePerSecond: 50, burst: 5 };
  await setPolicies(plane.address, [
    { name: "plain", match: { callers: ["plain"], actorTypes: ["Echo"] }, limit },
    { name: "paced", match: { callers: ["paced"], actorTypes: ["Echo"] }, limit },
  ]);
  const { mesh, connectAnother } = await startMesh(t);
  const host = await mesh.host([Echo], { throttling: { controlPlane: plane.address, token: TOKEN } });
  await waitFor(() => (host.enforcer?.policies().length ?? 0) === 2, 20_000, "the host's first shares");
  // Twice what the limit admits in a second, 16 callers at once; each call may take the whole batch's
  // time at the limit, ten times over.
  const n = 2 * limit.ratePerSecond;
  const maxElapsedMs = (10 * 1000 * n) / limit.ratePerSecond;
  const run = async (clientId: string, adaptive: boolean) => {
    const client = await connectAnother({ clientId });
    const retry = { maxAttempts: 1000, maxElapsedMs, initialDelayMs: 10, maxDelayMs: 200, adaptive };
    let next = 0;
    let ok = 0;
    const failures: unknown[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < n; i = next++) {
          try {
            await client.ref(Echo, `${clientId}-${i % 8}`, { retry }).echo(i);
            ok += 1;
          } catch (err) {
            failures.push(err);
          }
        }
      }),
    );
    return { ok, failures, refused: host.enforcer?.counters().get(clientId)?.refused ?? 0 };
  };
  const plain = await run("plain", false);
  const paced = await run("paced", true);
  const kinds = [...new Set(plain.failures.map((e) => (e as { code?: string }).code ?? String(e)))];
  t.log(
    `retries alone: ${plain.ok}/${n} ok (failed: ${kinds.join(", ") || "none"}), ${plain.refused} refused; adaptive: ${paced.ok}/${n} ok, ${paced.refused} refused`,
  );
  t.deepEqual(paced.failures, [], "every call of the adaptive client gets in");
  t.is(paced.ok, n);
  // Measured on a busy 2-core machine: about a quarter (11-12 vs 41-50 over four runs).
  t.true(
    paced.refused * 2 <= plain.refused,
    `the adaptive client is refused at most half as often (${paced.refused} vs ${plain.refused})`,
  );
});

test("host enforcement - calls to a type that throttled are paced by default, without opt-in; adaptiveRate: false opts out", async (t) => {
  const { plane } = await startPlane(t);
  const limit = { ratePerSecond: 50, burst: 5 };
  await setPolicies(plane.address, [
    { name: "default", match: { callers: ["default"], actorTypes: ["Echo"] }, limit },
    { name: "opted-out", match: { callers: ["opted-out"], actorTypes: ["Echo"] }, limit },
  ]);
  const { mesh, connectAnother } = await startMesh(t);
  const host = await mesh.host([Echo], { throttling: { controlPlane: plane.address, token: TOKEN } });
  await waitFor(() => (host.enforcer?.policies().length ?? 0) === 2, 20_000, "the host's first shares");
  // Plain calls (no retry option) from 8 callers, a refused call simply counted: without pacing the
  // callers come straight back after each refusal; with it they wait for their type's slots.
  const n = 2 * limit.ratePerSecond;
  const run = async (clientId: string, adaptiveRate?: boolean) => {
    const client = await connectAnother({
      clientId,
      ...(adaptiveRate === undefined ? {} : { adaptiveRate }),
    });
    let next = 0;
    let ok = 0;
    let throttled = 0;
    const other: unknown[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < n; i = next++) {
          try {
            await client.ref(Echo, `${clientId}-${i % 8}`).echo(i);
            ok += 1;
          } catch (err) {
            if (err instanceof ThrottledError) throttled += 1;
            else other.push(err);
          }
        }
      }),
    );
    return { ok, throttled, other };
  };
  const optedOut = await run("opted-out", false);
  const paced = await run("default");
  t.log(
    `${n} plain calls at twice the limit: adaptiveRate false ${optedOut.ok} ok / ${optedOut.throttled} throttled; default ${paced.ok} ok / ${paced.throttled} throttled`,
  );
  t.deepEqual([...optedOut.other, ...paced.other], []);
  t.true(optedOut.throttled > n / 4, "without pacing, calls at twice the limit are refused often");
  t.true(paced.ok > optedOut.ok, "paced by default: more calls get in");
  t.true(paced.throttled * 2 < optedOut.throttled, "paced by default: far fewer refusals");
});

test("host enforcement - a policy keyed by a user key function counts each key apart (a tier the caller's interceptor sets)", async (t) => {
  const { plane } = await startPlane(t);
  const bucket = { ratePerSecond: 2, burst: 3 };
  await setPolicies(plane.address, [
    {
      name: "per-tier",
      match: { actorTypes: ["Echo"] },
      limit: bucket,
      keyBy: "KEY_BY_FUNCTION",
      keyFunction: "tier",
    },
  ]);
  const { mesh, connectAnother } = await startMesh(t);
  const host = await mesh.host([Echo], {
    throttling: {
      controlPlane: plane.address,
      token: TOKEN,
      keyFunctions: { tier: (turn) => turn.headers?.get("x-tier") },
    },
  });
  await waitFor(() => (host.enforcer?.policies().length ?? 0) === 1, 20_000, "the host's first shares");
  // Two clients whose outbound interceptor stamps their tier on every call.
  const tiered = (tier: string) =>
    connectAnother({
      adaptiveRate: false,
      interceptors: [
        (ctx, next) => {
          ctx.headers["x-tier"] = tier;
          return next();
        },
      ],
    });
  const free = await tiered("free");
  const gold = await tiered("gold");
  let freeOk = 0;
  let refusal: unknown;
  for (let i = 0; i < 50 && !refusal; i++) {
    try {
      await free.ref(Echo, `f${i}`).echo(i);
      freeOk += 1;
    } catch (err) {
      refusal = err;
    }
  }
  t.true(refusal instanceof ThrottledError, "the free tier meets its own bucket's limit");
  t.true(freeOk >= bucket.burst, `the free tier had its burst first (${freeOk} ok)`);
  // The gold tier has a bucket of its own: its first calls are admitted though free's is empty.
  for (let i = 0; i < bucket.burst; i++) t.is(await gold.ref(Echo, `g${i}`).echo(i), i);
  t.is(host.enforcer?.counters().get("per-tier")?.refused, 1);
});
