/**
 * Placement's background cost and its behaviour on change (issue 17), as rows of `npm run bench`.
 * Troupe against itself and against the targets; there is no raw nats.js equivalent.
 *
 * - `placement.idle`: 3 host processes, each serving 5 placed types with default placement
 *   timings and nothing else (no job consumers), once with 64 and once with 1,024 shards per
 *   type. After every shard is owned and a settling pause, an idle window: CPU per host per second
 *   (each host process's user + system time). The row's ratio is the 1,024-shard CPU over the
 *   64-shard CPU: the target says it does not grow with shards.
 * - `placement.steady`: the same windows, per host per second: KV writes (the last sequence of the
 *   mesh's KV streams, from the server's /jsz, divided over the hosts) and messages the server
 *   delivered to the host's connection (/connz: watch deliveries of monitored heartbeats, write
 *   acknowledgements, stream-info replies). Target: ≤ 1 KV write per host per second.
 * - `placement.takeover`: 3 host processes serving a type of 16 shards; the one holding the most is
 *   killed with SIGKILL, and a caller process calls an actor of each of its shards (each attempt at
 *   most 500 ms) until every one has answered. Target: `hostTtlMs` + 2 s.
 * - `placement.moves`: the model (runtime/placement/assigner.ts, no server): shards moved when one
 *   host joins or leaves, mean over several host sets, as a multiple of the ideal S/(N+1) and S/N.
 *   Target: ≤ 1.1×.
 *
 * Full mode keeps these to about two minutes; `--heavy` lengthens the windows, runs 3 takeover
 * rounds and the model at 1,000 hosts × 100,000 shards.
 */
import type { Host, PlacementOptions } from "troupe";
import { monitorJson } from "troupe/testing";
import { shardOf } from "../../runtime/placement/shard.js";
import { placedType } from "../lib/actors.js";
import type { CommandTable, WorkerProc } from "../lib/ipc.js";
import { measureMoves } from "../lib/placement-moves.js";
import { finishRow, type RowSpec, type Side } from "../lib/report.js";
import { type BenchContext, type Scenario, workerOf } from "../lib/scenario.js";
import { mesh } from "../lib/worker-env.js";

const TYPES = 5;
const HOSTS = 3;
const TAKEOVER_SHARDS = 16;
const TAKEOVER_PREFIX = "placement_kill";
/** Placement's default timings (docs/placement.md, "Tunables"). */
const DEFAULT_HOST_TTL_MS = 10_000;
const DEFAULT_HEARTBEAT_MS = 2_000;

const IDLE: RowSpec = {
  id: "placement.idle",
  title: "placement: idle CPU per host, 5 types",
  target: {
    text: "1,024 / 64 shards ≤ 1.5× (shard-independent)",
    metric: "cpuRatio",
    limit: 1.5,
    direction: "max",
  },
};
const STEADY: RowSpec = {
  id: "placement.steady",
  title: "placement: KV writes and deliveries per host, steady state",
  target: { text: "≤ 1 KV write/s per host", metric: "kvWritesPerSec", limit: 1, direction: "max" },
};
const TAKEOVER: RowSpec = {
  id: "placement.takeover",
  title: "placement: takeover after SIGKILL",
  target: { text: "all served ≤ hostTtlMs + 2 s", metric: "takeoverRatio", limit: 1, direction: "max" },
};
const MOVES: RowSpec = {
  id: "placement.moves",
  title: "placement: shards moved on a join / leave (model)",
  target: { text: "≤ 1.1 × S/N", metric: "movesRatio", limit: 1.1, direction: "max" },
};

// ---------------------------------------------------------------------------------------------
// Worker side

let host: Host | undefined;

interface HostArgs {
  types: string[];
  shards: number;
  placement?: PlacementOptions;
}

interface ServedArgs {
  type: string;
  shards: number;
  ids: string[];
}

const commands: CommandTable = {
  "placement.host": async (a: HostArgs) => {
    const m = await mesh();
    host = await m.host(
      a.types.map((t) => placedType(t, a.shards)),
      {
        name: process.argv[2] ?? "placement-host",
        jobs: false,
        ...(a.placement ? { placement: a.placement } : {}),
      },
    );
  },
  /** Shards this host serves, by type. */
  "placement.held": () => {
    const out: Record<string, number[]> = {};
    for (const [type, held] of Object.entries(host?.shards() ?? {})) {
      out[type] = held.filter((h) => h.state === "serving").map((h) => h.shard);
    }
    return out;
  },
  /** Calls every id until each has answered; milliseconds from this command's start to each answer. */
  "placement.callUntilServed": async (a: ServedArgs): Promise<number[]> => {
    const t0 = performance.now();
    const m = await mesh();
    const cls = placedType(a.type, a.shards);
    return Promise.all(
      a.ids.map(async (id) => {
        for (;;) {
          try {
            await (m.ref(cls, id, { timeoutMs: 500 }) as unknown as { touch(): Promise<boolean> }).touch();
            return performance.now() - t0;
          } catch {
            // Not served yet (no responders, the dead host, a deadline): try again.
          }
        }
      }),
    );
  },
};

// ---------------------------------------------------------------------------------------------
// Parent side

interface Jsz {
  account_details?: { stream_detail?: { name: string; state?: { last_seq?: number } }[] }[];
}
interface Connz {
  connections?: { name?: string; in_msgs: number; out_msgs: number }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes so far to the mesh's KV streams (hosts, roster, fences, state). */
async function kvWrites(monitorUrl: string, prefix: string): Promise<number> {
  const jsz = await monitorJson<Jsz>(`${monitorUrl}/jsz?streams=true`);
  let sum = 0;
  for (const a of jsz.account_details ?? [])
    for (const s of a.stream_detail ?? [])
      if (s.name.startsWith(`KV_${prefix}_`)) sum += s.state?.last_seq ?? 0;
  return sum;
}

/** Messages each named connection sent to the server (`in`) and the server delivered to it (`out`). */
async function connMsgs(monitorUrl: string, names: string[]): Promise<{ in: number; out: number }[]> {
  const connz = await monitorJson<Connz>(`${monitorUrl}/connz?limit=4096`);
  return names.map((n) => {
    const c = connz.connections?.find((x) => x.name === n);
    if (!c) throw new Error(`no connection named ${n} at the server`);
    return { in: c.in_msgs, out: c.out_msgs };
  });
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const count = (held: Record<string, number[]>) => Object.values(held).reduce((n, s) => n + s.length, 0);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

interface IdleSide {
  shards: number;
  cpuMsPerSec: number;
  kvWritesPerSec: number;
  deliveriesPerSec: number;
  sentPerSec: number;
  seconds: number;
}

async function idleWindow(ctx: BenchContext, shards: number): Promise<IdleSide> {
  const roles = Array.from({ length: HOSTS }, (_, i) => `placement-idle${shards}-${i}`);
  return ctx.withWorkers(Object.fromEntries(roles.map((r) => [r, {}])), async (w) => {
    const hosts = roles.map((r) => workerOf(w, r));
    const types = Array.from({ length: TYPES }, (_, i) => `Idle${shards}x${i}`);
    ctx.log(`placement.idle: ${HOSTS} hosts × ${TYPES} types × ${shards} shards`);
    const placement = ctx.settings.placementTimings;
    await Promise.all(
      hosts.map((h) => h.call("placement.host", { types, shards, ...(placement ? { placement } : {}) })),
    );
    await waitUntil(`every shard of ${TYPES} × ${shards} owned`, async () => {
      const held = await Promise.all(hosts.map((h) => h.call<Record<string, number[]>>("placement.held")));
      return held.reduce((n, x) => n + count(x), 0) === TYPES * shards;
    });
    // Let start-up work settle (watch replays, the first renewals and monitor rounds).
    await sleep(ctx.settings.placementSettleMs);
    const names = roles.map((r) => `bench-${r}`);
    const cpu = (hs: WorkerProc[]) => Promise.all(hs.map((h) => h.call<{ cpuUs: number }>("cpu")));
    const [c0, m0, w0] = await Promise.all([
      cpu(hosts),
      connMsgs(ctx.monitorUrl, names),
      kvWrites(ctx.monitorUrl, "placement"),
    ]);
    const t0 = performance.now();
    await sleep(ctx.settings.placementWindowMs);
    const [c1, m1, w1] = await Promise.all([
      cpu(hosts),
      connMsgs(ctx.monitorUrl, names),
      kvWrites(ctx.monitorUrl, "placement"),
    ]);
    const seconds = (performance.now() - t0) / 1000;
    const perHost = (f: (i: number) => number) => mean(hosts.map((_, i) => f(i))) / seconds;
    return {
      shards,
      seconds,
      cpuMsPerSec: perHost((i) => ((c1[i]?.cpuUs ?? 0) - (c0[i]?.cpuUs ?? 0)) / 1000),
      kvWritesPerSec: (w1 - w0) / HOSTS / seconds,
      deliveriesPerSec: perHost((i) => (m1[i]?.out ?? 0) - (m0[i]?.out ?? 0)),
      sentPerSec: perHost((i) => (m1[i]?.in ?? 0) - (m0[i]?.in ?? 0)),
    };
  });
}

function idleRows(ctx: BenchContext, measured: IdleSide[]): void {
  const [low, high] = measured as [IdleSide, IdleSide];
  const label = (s: IdleSide, base: boolean) =>
    `${TYPES} × ${s.shards.toLocaleString("en-US")} shards${base ? " (baseline)" : ""}`;
  const idleSide = (s: IdleSide, base: boolean): Side => ({
    label: label(s, base),
    impl: "troupe",
    ...(base ? { baseline: true } : {}),
    count: HOSTS,
    cpuMsPerSec: s.cpuMsPerSec,
    note: `${s.cpuMsPerSec.toFixed(2)} ms CPU/s per host (mean of ${HOSTS}, ${s.seconds.toFixed(0)} s idle)`,
  });
  ctx.record(finishRow(IDLE, [idleSide(high, false), idleSide(low, true)]));
  const steadySide = (s: IdleSide, base: boolean): Side => ({
    label: label(s, base),
    impl: "troupe",
    ...(base ? { baseline: true } : {}),
    count: HOSTS,
    kvWritesPerSec: s.kvWritesPerSec,
    deliveriesPerSec: s.deliveriesPerSec,
    note: `per host: ${s.kvWritesPerSec.toFixed(2)} KV writes/s, ${s.deliveriesPerSec.toFixed(2)} msgs delivered/s, ${s.sentPerSec.toFixed(2)} msgs sent/s`,
  });
  ctx.record(finishRow(STEADY, [steadySide(high, false), steadySide(low, true)]));
}

async function takeoverRound(
  ctx: BenchContext,
  round: number,
): Promise<{ shards: number; allMs: number; firstMs: number }> {
  const roles = Array.from({ length: HOSTS }, (_, i) => `placement-takeover-${i}`);
  const type = `Takeover${round}`;
  return ctx.withWorkers(
    { ...Object.fromEntries(roles.map((r) => [r, {}])), "placement-caller": {} },
    async (w) => {
      const hosts = roles.map((r) => workerOf(w, r));
      const caller = workerOf(w, "placement-caller");
      const placement = ctx.settings.placementTimings;
      // Its own mesh (prefix): the idle rows' roster and fences stay out of its way.
      await Promise.all(
        [...hosts, caller].map((h) => h.call("init", { url: ctx.url, prefix: TAKEOVER_PREFIX })),
      );
      await Promise.all(
        hosts.map((h) =>
          h.call("placement.host", {
            types: [type],
            shards: TAKEOVER_SHARDS,
            ...(placement ? { placement } : {}),
          }),
        ),
      );
      let held: number[][] = [];
      await waitUntil(`every shard of ${type} owned`, async () => {
        held = (await Promise.all(hosts.map((h) => h.call<Record<string, number[]>>("placement.held")))).map(
          (x) => x[type] ?? [],
        );
        return held.reduce((n, s) => n + s.length, 0) === TAKEOVER_SHARDS;
      });
      const victim = held.reduce((best, s, i) => (s.length > (held[best] ?? []).length ? i : best), 0);
      const shards = held[victim] ?? [];
      const ids = shards.map((shard) => {
        for (let i = 0; ; i++) if (shardOf(`to${i}`, TAKEOVER_SHARDS) === shard) return `to${i}`;
      });
      hosts[victim]?.kill();
      const served = await caller.call<number[]>("placement.callUntilServed", {
        type,
        shards: TAKEOVER_SHARDS,
        ids,
      });
      return { shards: shards.length, allMs: Math.max(...served), firstMs: Math.min(...served) };
    },
  );
}

async function run(ctx: BenchContext): Promise<void> {
  const s = ctx.settings;
  if (ctx.wants(IDLE.id) || ctx.wants(STEADY.id)) {
    const measured: IdleSide[] = [];
    for (const shards of s.placementShards) measured.push(await idleWindow(ctx, shards));
    idleRows(ctx, measured);
  }
  if (ctx.wants(TAKEOVER.id)) {
    const rounds = [];
    for (let r = 0; r < s.takeoverRounds; r++) {
      ctx.log(`placement.takeover: round ${r + 1} of ${s.takeoverRounds}`);
      rounds.push(await takeoverRound(ctx, r));
    }
    const ttl = s.placementTimings?.hostTtlMs ?? DEFAULT_HOST_TTL_MS;
    const heartbeat = s.placementTimings?.heartbeatEveryMs ?? DEFAULT_HEARTBEAT_MS;
    const targetMs = ttl + 2_000;
    const sorted = [...rounds].sort((a, b) => a.allMs - b.allMs);
    const median = sorted[Math.floor(sorted.length / 2)] as (typeof rounds)[number];
    ctx.record(
      finishRow(TAKEOVER, [
        {
          label: `1 of ${HOSTS} hosts killed, ${TAKEOVER_SHARDS} shards (hostTtlMs ${ttl}, heartbeat ${heartbeat} ms)`,
          impl: "troupe",
          count: rounds.length,
          allServedMs: median.allMs,
          targetMs,
          note: rounds
            .map(
              (r) =>
                `${r.shards} shards: first ${(r.firstMs / 1000).toFixed(2)} s, all ${(r.allMs / 1000).toFixed(2)} s`,
            )
            .join("; "),
        },
      ]),
    );
  }
  if (ctx.wants(MOVES.id)) {
    const { hosts, shards, trials } = s.placementMoves;
    ctx.log(`placement.moves: ${hosts} hosts × ${shards} shards, ${trials} host sets (model)`);
    const m = measureMoves(hosts, shards, trials, "Bench");
    ctx.record(
      finishRow(MOVES, [
        {
          label: `${hosts.toLocaleString("en-US")} hosts × ${shards.toLocaleString("en-US")} shards, ${trials} host sets`,
          impl: "troupe",
          count: trials,
          movesRatio: Math.max(m.join.meanRatio, m.leave.meanRatio),
          note: `join ${m.join.meanRatio.toFixed(2)}× of S/(N+1) (max ${m.join.maxRatio.toFixed(2)}×), leave ${m.leave.meanRatio.toFixed(2)}× of S/N (max ${m.leave.maxRatio.toFixed(2)}×); CPU per type ${m.cpuMs.join.toFixed(1)} ms a join, ${m.cpuMs.leave.toFixed(1)} ms a leave`,
        },
      ]),
    );
  }
}

export const placement: Scenario = {
  name: "placement",
  rows: [IDLE, STEADY, TAKEOVER, MOVES],
  run,
  commands,
};
