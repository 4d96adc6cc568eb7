/**
 * Throttling's cost on the hot path: Troupe Echo at concurrency 64, twice, in two separate meshes
 * (own prefixes, own caller and host processes): once with no throttling (the baseline), once with
 * the host enforcing a policy that matches every Echo call and never triggers (a rate of 1e9/s),
 * with shares from a real control plane (in its own process, token auth). Every call of the second
 * side goes through the throttling interceptor's synchronous admission check (the host's only
 * interceptor, so no chain runs) and `LocalEnforcer.decide` (glob match, token bucket take).
 * Target ≥ 0.95× the baseline (issue 14).
 */

import { measureCpu } from "../lib/cpu.js";
import type { CommandTable } from "../lib/ipc.js";
import { finishRow, type RowSpec, type Side } from "../lib/report.js";
import { interleavedRounds, type SideRunner } from "../lib/rounds.js";
import { type BenchContext, type Scenario, workerOf } from "../lib/scenario.js";
import type { LoopResult } from "../lib/stats.js";

const CONCURRENCY = 64;
const TOKEN = "bench-control-token-0123456789";
const PREFIX = "throttleon";

const ROW: RowSpec = {
  id: "throttle.c64",
  title: "throttling: Echo c=64 under a policy that never triggers vs no policy",
  target: { text: "ops ≥ 0.95× no policy", metric: "opsRatio", limit: 0.95, direction: "min" },
};

let stopPlane: (() => Promise<void>) | undefined;

/** Worker side: a control plane on a free loopback port with one never-triggering Echo policy. */
async function startPlane(a: { url: string }): Promise<string> {
  const { startControlPlane } = await import("../../services/control-plane/index.js");
  const { connectControlPlane } = await import("../../runtime/throttling/index.js");
  const plane = await startControlPlane({
    port: 0,
    bind: "127.0.0.1",
    nats: { servers: a.url },
    prefix: PREFIX,
    tokens: [TOKEN],
  });
  stopPlane = () => plane.stop();
  const connection = connectControlPlane({ address: plane.address, token: TOKEN });
  const policy = {
    name: "never-triggers",
    match: { actorTypes: ["Echo"] },
    limit: { ratePerSecond: 1e9 },
  };
  await new Promise<void>((resolve, reject) =>
    connection.throttle.SetPolicy({ policy }, connection.metadata(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  connection.close();
  return plane.address;
}

async function run(ctx: BenchContext): Promise<void> {
  const { warmupMs, durationMs } = ctx.settings;
  await ctx.withWorkers({ plane: {}, hostOff: {}, callerOff: {}, hostOn: {}, callerOn: {} }, async (w) => {
    const plane = workerOf(w, "plane");
    const hostOff = workerOf(w, "hostOff");
    const callerOff = workerOf(w, "callerOff");
    const hostOn = workerOf(w, "hostOn");
    const callerOn = workerOf(w, "callerOn");
    await Promise.all([hostOn, callerOn].map((p) => p.call("init", { url: ctx.url, prefix: PREFIX })));
    const address = await plane.call<string>("throttle.plane", { url: ctx.url });
    await hostOff.call("host", { types: ["Echo"] });
    await hostOn.call("host", {
      types: ["Echo"],
      options: { throttling: { controlPlane: address, token: TOKEN } },
    });
    const end = performance.now() + 30_000;
    while ((await hostOn.call<string[]>("hostThrottlePolicies")).length === 0) {
      if (performance.now() > end) throw new Error("the host got no throttle shares within 30 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    const side = (on: boolean): SideRunner => ({
      run: async (round): Promise<Side> => {
        const label = on
          ? "Troupe, host enforcing a never-triggering policy"
          : "Troupe, no policy (baseline)";
        ctx.log(`${ROW.id}: ${label}${ctx.settings.rounds > 1 ? ` (round ${round + 1})` : ""}`);
        const caller = on ? callerOn : callerOff;
        const { result: r, cpuUsPerOp } = await measureCpu(
          { client: caller, server: on ? hostOn : hostOff },
          ctx.natsPid,
          () =>
            caller.call<LoopResult>("rr.call", {
              impl: "troupe",
              target: "echo",
              concurrency: CONCURRENCY,
              warmupMs,
              durationMs,
              idPrefix: on ? "throttled" : "plain",
            }),
          (res) => res.totalOps,
        );
        return {
          label,
          impl: "troupe",
          ...(on ? {} : { baseline: true }),
          opsPerSec: r.opsPerSec,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          count: r.ops,
          cpuUsPerOp,
        };
      },
    });
    const [on, off] = await interleavedRounds([side(true), side(false)], ctx.settings.rounds);
    if (!on || !off) throw new Error("throttle: a side is missing");
    ctx.record(finishRow(ROW, [on, off]));
    await plane.call("throttle.stopPlane");
  });
}

export const throttling: Scenario = {
  name: "throttle",
  rows: [ROW],
  run,
  commands: {
    "throttle.plane": startPlane,
    "throttle.stopPlane": async () => {
      await stopPlane?.();
      stopPlane = undefined;
    },
  } as CommandTable,
};
