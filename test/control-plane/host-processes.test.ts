/**
 * Cluster-wide throttling with real processes: a control plane (real gRPC on loopback, token auth),
 * three `mesh.host(..., { throttling })` host processes, and clients in the test process. A caller
 * offering 10x its 200/s limit for 10 s (the issue's test; at least 3x on a machine too busy to
 * offer 10x) gets no more than the limit +10% (and one burst) through across the three hosts; a
 * caller under another policy is unaffected.
 */
import test from "ava";
import { ThrottledError } from "troupe";
import type { ThrottlePolicy } from "../../runtime/protos/index.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { startServer } from "../helpers/nats.js";
import { Echo } from "../placement/fixtures/actors.js";
import { client, spawnHost, uniquePrefix } from "../placement/helpers.js";
import { startPlane, TOKEN, unary } from "./helpers.js";

const NOISY = {
  name: "noisy-calls",
  match: { callers: ["noisy"], actorTypes: ["Echo"] },
  limit: { ratePerSecond: 200, burst: 20 },
} satisfies ThrottlePolicy;
const QUIET = {
  name: "quiet-calls",
  match: { callers: ["quiet"], actorTypes: ["Echo"] },
  limit: { ratePerSecond: 100, burst: 20 },
} satisfies ThrottlePolicy;

interface Status {
  hosts: { hostId: string }[];
  policies: {
    policy: string;
    keys: { key: string; shares: { hostId: string; ratePerSecond: number }[] }[];
  }[];
}

test("host processes - three hosts keep a caller at 10x its cluster-wide limit within the limit; another caller's policy is unaffected", async (t) => {
  const { plane } = await startPlane(t);
  const api = connectControlPlane({ address: plane.address, token: TOKEN });
  t.teardown(() => api.close());
  const c = api.throttle;
  for (const policy of [NOISY, QUIET]) await unary(c.SetPolicy.bind(c), { policy }, api.metadata());

  const server = await startServer(t, { jetstream: true });
  const prefix = uniquePrefix();
  const hosts = ["h1", "h2", "h3"].map((name) =>
    spawnHost(t, {
      servers: server.url,
      prefix,
      name,
      jobs: false,
      throttling: { controlPlane: plane.address, token: TOKEN },
    }),
  );
  const ids = await Promise.all(hosts.map((h) => h.ready));
  // Every host has its share of both policies (the control plane's view of what it sent).
  let status: Status | undefined;
  const shared = (policy: string) => {
    const p = status?.policies.find((x) => x.policy === policy);
    const holders = new Set(p?.keys.flatMap((k) => k.shares.map((s) => s.hostId)) ?? []);
    return ids.every((id) => holders.has(id));
  };
  const deadline = performance.now() + 30_000;
  while (!(shared(NOISY.name) && shared(QUIET.name))) {
    if (performance.now() > deadline)
      throw new Error(`no shares on all three hosts: ${JSON.stringify(status)}`);
    status = await unary<{ policy: string }, Status>(c.GetStatus.bind(c), { policy: "" }, api.metadata());
    if (!(shared(NOISY.name) && shared(QUIET.name))) await new Promise((r) => setTimeout(r, 200));
  }

  // Not paced (adaptiveRate false): this caller keeps offering far more than its limit.
  const noisy = await client(t, server.url, prefix, { clientId: "noisy", adaptiveRate: false });
  const quiet = await client(t, server.url, prefix, { clientId: "quiet" });
  const { ratePerSecond, burst } = NOISY.limit;
  // The issue's window: 10 s (TROUPE_THROTTLE_TEST_WINDOW_MS overrides it); the bound below scales
  // with the time measured.
  const windowMs = Number(process.env.TROUPE_THROTTLE_TEST_WINDOW_MS) || 10_000;
  // 10x the limit, the issue's figure: 128 unpaced callers offer that on a 2-core machine at load
  // ~12 once warmed up (the first second of start-up is slower); past the window the run goes on
  // until the offered load averages 10x, for at most another window. A machine loaded harder than
  // that (CI beside CPU burners) cannot offer it: the run then still has to have saturated the
  // limit (3x at least) for the bound on what got through to mean anything, and logs what it
  // offered. TROUPE_THROTTLE_TEST_STRICT=1 requires the 10x.
  const offeredFactor = 10;
  const requiredFactor = process.env.TROUPE_THROTTLE_TEST_STRICT === "1" ? offeredFactor : 3;
  const workers = 128;
  const perHost = new Map<string, number>();
  let accepted = 0;
  let refused = 0;
  const unexpected: unknown[] = [];
  const zeroHints: number[] = [];
  let quietOk = 0;
  const quietErrors: unknown[] = [];
  const started = performance.now();
  const until = started + windowMs;
  const giveUpAt = until + windowMs;
  const running = () => {
    const now = performance.now();
    if (now < until) return true;
    const offered = accepted + refused;
    return now < giveUpAt && offered < (offeredFactor * ratePerSecond * (now - started)) / 1000;
  };
  const noisyWorker = async (w: number) => {
    for (let i = 0; running(); i++) {
      try {
        const on = await noisy.ref(Echo, `n${w}-${i % 8}`).whoami();
        accepted += 1;
        perHost.set(on, (perHost.get(on) ?? 0) + 1);
      } catch (err) {
        if (err instanceof ThrottledError) {
          refused += 1;
          if (!(err.retryAfterMs > 0)) zeroHints.push(err.retryAfterMs);
        } else unexpected.push(err);
      }
    }
  };
  const quietGapMs = (4 * 1000) / QUIET.limit.ratePerSecond;
  const quietWorker = async () => {
    let next = performance.now();
    while (running()) {
      try {
        await quiet.ref(Echo, "q").whoami();
        quietOk += 1;
      } catch (err) {
        quietErrors.push(err);
      }
      next += quietGapMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  };
  await Promise.all([...Array.from({ length: workers }, (_, w) => noisyWorker(w)), quietWorker()]);
  const elapsedS = (performance.now() - started) / 1000;

  const offeredX = (accepted + refused) / (ratePerSecond * elapsedS);
  t.log(
    `noisy: offered ${offeredX.toFixed(1)}x the limit; ${accepted} accepted (${[...perHost].map(([h, n]) => `${h} ${n}`).join(", ")}), ${refused} refused in ${elapsedS.toFixed(2)} s; quiet: ${quietOk} ok`,
  );
  t.deepEqual(unexpected, [], "every refusal is a ThrottledError");
  if (offeredX < offeredFactor) t.log(`below the issue's ${offeredFactor}x: this machine is busy`);
  t.true(
    offeredX >= requiredFactor,
    `the noisy caller offered ${requiredFactor}x its limit or more: ${offeredX.toFixed(1)}x (${accepted} ok, ${refused} refused)`,
  );
  t.true(perHost.size >= 2, "the accepted calls were spread over several hosts");
  const bound = ratePerSecond * elapsedS * 1.1 + burst;
  t.true(accepted <= bound, `accepted ${accepted} calls in ${elapsedS.toFixed(2)} s; the bound is ${bound}`);
  t.deepEqual(zeroHints, [], "every refusal says when to retry");
  t.deepEqual(quietErrors, [], "the quiet caller, under its own policy, is never refused");
  t.true(quietOk > 0);
});
