/**
 * Placement simulator, in two modes.
 *
 * Real-server mode (`--real`): hundreds of simulated hosts running the real placement code in a few
 * processes against a real nats-server (bench/lib/placement-sim-real.ts says what it measures):
 * KV writes, deliveries and CPU per host in a steady state, moves and settling time on a join and a
 * leave, time from a host's death to all its shards owned again, and a rolling restart of every
 * host (`--rolling N`: of the first N only).
 *
 *   node --conditions=troupe-source --import tsx bench/placement-sim.ts --real [--hosts 200]
 *        [--procs 4] [--types 2] [--shards 1024] [--steady-s 30] [--rolling N] [--start-batch 16]
 *        [--heartbeat-ms 2000] [--host-ttl-ms 10000] [--renew-ms 2500] [--json]
 *
 * Model-only mode (the default): the assignment Troupe's hosts compute (runtime/placement/
 * rendezvous.ts, kept up to date by assigner.ts), for many hosts and shards, and what the design
 * costs.
 *
 *   node --conditions=troupe-source --import tsx bench/placement-sim.ts [--hosts 1000]
 *        [--shards 100000] [--types 1] [--trials 10] [--sizes 3x64,10x64,...]
 *        [--heartbeat-ms 2000] [--renew-ms 2500] [--json]
 *
 * Reports, for N hosts and S shards (per type, T types):
 * - the CPU a host spends on the assignment of one type: the first one, then per join and leave;
 * - shards moved when a host joins and when one leaves, against the ideal S/(N+1) and S/N (target
 *   ≤ 1.1×): the mean and the largest over `--trials` different joiners and leavers, for the main
 *   size and for each of `--sizes` (`<hosts>x<shards>`), with the load cap and the loads it gave;
 * - steady-state KV writes and deliveries per host per second: the host-lease design (one lease
 *   write per heartbeat; the heartbeats of the two monitored hosts) and, for comparison, the
 *   per-shard leases it replaced (S·T/N renewals per renewal period; every renewal of every host
 *   delivered to every host's lease watch);
 * - deliveries per host caused by a join or a leave (roster record, released and taken fences, to
 *   the hosts of the type only: each watches its own types' fences).
 * The figures follow from the protocol (docs/placement.md, "Cost"); the moves are computed.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { WATCHED } from "../runtime/placement/monitor.js";
import { type MoveReport, measureMoves } from "./lib/placement-moves.js";
import { runReal } from "./lib/placement-sim-real.js";

const { values } = parseArgs({
  options: {
    real: { type: "boolean", default: false },
    hosts: { type: "string" },
    shards: { type: "string" },
    types: { type: "string" },
    procs: { type: "string", default: "4" },
    "start-batch": { type: "string", default: "16" },
    "steady-s": { type: "string", default: "30" },
    rolling: { type: "string" },
    "host-ttl-ms": { type: "string", default: "10000" },
    trials: { type: "string", default: "10" },
    sizes: { type: "string", default: "3x64,4x64,10x64,10x256,20x1024,50x1024,100x10000" },
    "heartbeat-ms": { type: "string", default: "2000" },
    "renew-ms": { type: "string", default: "2500" },
    json: { type: "boolean", default: false },
  },
});
if (values.real) {
  const load = () => loadavg().map((x) => x.toFixed(1));
  const loadAtStart = load();
  const result = await runReal({
    hosts: Number(values.hosts ?? 200),
    procs: Number(values.procs),
    types: Number(values.types ?? 2),
    shards: Number(values.shards ?? 1024),
    placement: {
      heartbeatEveryMs: Number(values["heartbeat-ms"]),
      hostTtlMs: Number(values["host-ttl-ms"]),
      renewEveryMs: Number(values["renew-ms"]),
    },
    steadyMs: Number(values["steady-s"]) * 1000,
    rolling: Number(values.rolling ?? values.hosts ?? 200),
    startBatch: Number(values["start-batch"]),
    log: (line) => {
      if (!values.json) process.stdout.write(`${line}\n`);
    },
  });
  const loadAverage = { atStart: loadAtStart, atEnd: load() };
  if (values.json) process.stdout.write(`${JSON.stringify({ ...result, loadAverage }, null, 2)}\n`);
  else
    process.stdout.write(
      `load average (1, 5, 15 min): at the start ${loadAtStart.join(" ")}, at the end ${loadAverage.atEnd.join(" ")}\n`,
    );
  process.exit(result.failures.length === 0 ? 0 : 1);
}

const N = Number(values.hosts ?? 1000);
const S = Number(values.shards ?? 100000);
const T = Number(values.types ?? 1);
const trials = Number(values.trials);
const heartbeatMs = Number(values["heartbeat-ms"]);
const renewMs = Number(values["renew-ms"]);
const sizes = values.sizes
  .split(",")
  .filter((x) => x.trim() !== "")
  .map((x) => x.split("x").map(Number) as [number, number]);
/** Trials per size of the sweep: enough for the mean to mean something. */
const SWEEP_TRIALS = 50;

const main = measureMoves(N, S, trials);
const sweep = sizes.map(([hosts, shards]) => measureMoves(hosts, shards, Math.max(trials, SWEEP_TRIALS)));
const joinMoved = main.join.meanMoved;
const leaveMoved = main.leave.meanMoved;

const perSec = 1000;
const result = {
  hosts: N,
  shardsPerType: S,
  types: T,
  assignCpuMs: main.cpuMs,
  moves: main,
  sizes: sweep,
  steady: {
    hostLeases: {
      writesPerHostPerSec: perSec / heartbeatMs,
      deliveriesPerHostPerSec: (Math.min(WATCHED, N - 1) * perSec) / heartbeatMs,
    },
    perShardLeases: {
      writesPerHostPerSec: ((S * T) / N) * (perSec / renewMs) + perSec / heartbeatMs,
      deliveriesPerHostPerSec: S * T * (perSec / renewMs) + N * (perSec / heartbeatMs),
    },
  },
  change: {
    // One roster record, then per moved shard a release and a take, to every host of the type.
    deliveriesPerHostOnJoin: Math.round(1 + 2 * joinMoved * T),
    deliveriesPerHostOnLeave: Math.round(1 + 2 * leaveMoved * T),
  },
};

if (values.json) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  const f = (x: number) => (Number.isInteger(x) ? x.toLocaleString("en-US") : x.toFixed(2));
  const st = result.steady;
  const moves = (m: MoveReport) =>
    `${f(m.hosts)} hosts × ${f(m.shards)} shards: join ${f(m.join.meanRatio)}× (max ${f(m.join.maxRatio)}×, beyond the joiner's ${f(m.join.excessRatio)}×), ` +
    `leave ${f(m.leave.meanRatio)}× (max ${f(m.leave.maxRatio)}×, beyond the leaver's ${f(m.leave.excessRatio)}×); ` +
    `loads ${f(m.minLoad)}..${f(m.maxLoad)} (cap ${f(m.cap)}, mean ${f(m.shards / m.hosts)})`;
  process.stdout.write(
    [
      `placement model: ${f(N)} hosts, ${f(S)} shards per type, ${T} type(s)`,
      `assignment CPU per type: first ${f(main.cpuMs.build)} ms (every host × shard scored), then ${f(main.cpuMs.join)} ms per join and ${f(main.cpuMs.leave)} ms per leave (incremental)`,
      `join:  ${f(joinMoved)} shards moved per type (mean of ${trials}), ideal S/(N+1) = ${f(main.join.ideal)}, ratio ${f(main.join.meanRatio)}, largest ${f(main.join.maxRatio)} (target ≤ 1.1)`,
      `leave: ${f(leaveMoved)} shards moved per type (mean of ${trials}), ideal S/N = ${f(main.leave.ideal)}, ratio ${f(main.leave.meanRatio)}, largest ${f(main.leave.maxRatio)} (target ≤ 1.1)`,
      `steady state per host, host leases:     ${f(st.hostLeases.writesPerHostPerSec)} KV writes/s, ${f(st.hostLeases.deliveriesPerHostPerSec)} deliveries/s`,
      `steady state per host, per-shard leases: ${f(st.perShardLeases.writesPerHostPerSec)} KV writes/s, ${f(st.perShardLeases.deliveriesPerHostPerSec)} deliveries/s`,
      `on a join: ${f(result.change.deliveriesPerHostOnJoin)} deliveries per host of the type; on a leave: ${f(result.change.deliveriesPerHostOnLeave)}`,
      `moves as multiples of the ideal, mean over the trials (${SWEEP_TRIALS} per size, ${trials} for the first):`,
      ...[main, ...sweep].map((m) => `  ${moves(m)}`),
      "",
    ].join("\n"),
  );
}
