/**
 * Placement simulator, model only: the assignment Troupe's hosts compute (runtime/placement/
 * rendezvous.ts, the very function), for many hosts and shards, and what the design costs.
 *
 *   node --conditions=troupe-source --import tsx bench/placement-sim.ts [--hosts 1000]
 *        [--shards 100000] [--types 1] [--heartbeat-ms 2000] [--renew-ms 2500] [--json]
 *
 * Reports, for N hosts and S shards (per type, T types):
 * - shards moved when a host joins and when one leaves, against the ideal S/N (target ≤ 1.1×);
 * - steady-state KV writes and deliveries per host per second: the host-lease design (one lease
 *   write per heartbeat; the heartbeats of the two monitored hosts) and, for comparison, the
 *   per-shard leases it replaced (S·T/N renewals per renewal period; every renewal of every host
 *   delivered to every host's lease watch);
 * - deliveries per host caused by a join or a leave (roster record, released and taken fences).
 * The figures follow from the protocol (docs/placement.md, "Cost"); the moves are computed.
 */
import { parseArgs } from "node:util";
import { WATCHED } from "../runtime/placement/monitor.js";
import { assignShards } from "../runtime/placement/rendezvous.js";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "1000" },
    shards: { type: "string", default: "100000" },
    types: { type: "string", default: "1" },
    "heartbeat-ms": { type: "string", default: "2000" },
    "renew-ms": { type: "string", default: "2500" },
    json: { type: "boolean", default: false },
  },
});
const N = Number(values.hosts);
const S = Number(values.shards);
const T = Number(values.types);
const heartbeatMs = Number(values["heartbeat-ms"]);
const renewMs = Number(values["renew-ms"]);

const hostIds = (n: number, from = 0) =>
  Array.from(
    { length: n },
    (_, i) => `h${(((from + i + 1) * 2654435761) >>> 0).toString(16).padStart(8, "0")}`,
  );

function moved(before: string[], after: string[]): number {
  let m = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) m++;
  return m;
}

const hosts = hostIds(N);
let t0 = performance.now();
const base = assignShards("Sim", S, hosts);
const assignMs = performance.now() - t0;
const joined = [...hosts, ...hostIds(1, N)];
t0 = performance.now();
const afterJoin = assignShards("Sim", S, joined);
const leaver = hosts[Math.floor(N / 2)] as string;
const afterLeave = assignShards(
  "Sim",
  S,
  hosts.filter((h) => h !== leaver),
);
const joinMoved = moved(base, afterJoin);
const leaveMoved = moved(base, afterLeave);
const idealJoin = S / (N + 1);
const idealLeave = S / N;

const perSec = 1000;
const result = {
  hosts: N,
  shardsPerType: S,
  types: T,
  assignMs: Math.round(assignMs),
  join: { moved: joinMoved, ideal: Math.round(idealJoin), ratio: joinMoved / idealJoin },
  leave: { moved: leaveMoved, ideal: Math.round(idealLeave), ratio: leaveMoved / idealLeave },
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
    // One roster record, then per moved shard a release and a take, every host watching fences.
    deliveriesPerHostOnJoin: 1 + 2 * joinMoved * T,
    deliveriesPerHostOnLeave: 1 + 2 * leaveMoved * T,
  },
};

if (values.json) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  const f = (x: number) => (Number.isInteger(x) ? x.toLocaleString("en-US") : x.toFixed(2));
  const st = result.steady;
  process.stdout.write(
    [
      `placement model: ${f(N)} hosts, ${f(S)} shards per type, ${T} type(s) (one assignment: ${f(result.assignMs)} ms)`,
      `join:  ${f(joinMoved)} shards moved per type, ideal S/(N+1) = ${f(idealJoin)}, ratio ${f(result.join.ratio)} (target ≤ 1.1)`,
      `leave: ${f(leaveMoved)} shards moved per type, ideal S/N = ${f(idealLeave)}, ratio ${f(result.leave.ratio)} (target ≤ 1.1)`,
      `steady state per host, host leases:     ${f(st.hostLeases.writesPerHostPerSec)} KV writes/s, ${f(st.hostLeases.deliveriesPerHostPerSec)} deliveries/s`,
      `steady state per host, per-shard leases: ${f(st.perShardLeases.writesPerHostPerSec)} KV writes/s, ${f(st.perShardLeases.deliveriesPerHostPerSec)} deliveries/s`,
      `on a join: ${f(result.change.deliveriesPerHostOnJoin)} deliveries per host; on a leave: ${f(result.change.deliveriesPerHostOnLeave)}`,
      "",
    ].join("\n"),
  );
}
