/**
 * The placement simulator against a real nats-server (bench/placement-sim.ts --real): `hosts`
 * simulated hosts spread over `procs` processes (bench/lib/placement-sim-hosts.ts, the real
 * placement code), then, in order:
 * 1. steady state: KV writes, watch deliveries and other KV requests per host per second, and CPU
 *    per host, over `steadyMs` once every shard is owned as assigned;
 * 2. a join, then a leave (a graceful drain): fence owner changes against the ideal `T·S/(N+1)`
 *    and `T·S/N`, and the time until every shard is owned as assigned again;
 * 3. a death (a host stopped at once, its lease left to expire): the time until every shard it
 *    owned is owned by another host (target `hostTtlMs + 2 s`);
 * 4. a rolling restart of `rolling` hosts, one at a time (drained, then a new host started in its
 *    place), each step waited out: total and per-step time, owner changes against the moves the
 *    assignment made.
 * The driver watches the shards bucket (every fence) and knows every host id; "owned as
 * assigned" = every fence names the host the assignment (runtime/placement/assigner.ts) gives.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { connect, consoleLogger } from "troupe";
import { startNatsServer } from "troupe/testing";
import { Assigner } from "../../runtime/placement/assigner.js";
import { type PlacementOptions, parseFence } from "../../runtime/placement/index.js";

export interface RealOptions {
  hosts: number;
  procs: number;
  types: number;
  shards: number;
  placement: Required<Pick<PlacementOptions, "heartbeatEveryMs" | "hostTtlMs" | "renewEveryMs">>;
  steadyMs: number;
  rolling: number;
  /** Hosts started at once (a fleet coming up). */
  startBatch: number;
  log: (line: string) => void;
}

interface HostStats {
  slot: number;
  id: string;
  writes: number;
  deliveries: number;
  requests: number;
  lapses: number;
}

interface Worker {
  child: ChildProcess;
  send(cmd: Record<string, unknown>): void;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runReal(o: RealOptions) {
  const server = await startNatsServer();
  const prefix = `sim${process.pid}`;
  const waiting = new Map<string, (ev: Record<string, unknown>) => void>();
  /** Commands that failed, but for starts (retried, counted in startRetries). */
  const failures: string[] = [];
  const workers: Worker[] = Array.from({ length: o.procs }, (_, w) => {
    const child = spawn(
      process.execPath,
      ["--conditions=troupe-source", "--import", "tsx", path.join(here, "placement-sim-hosts.ts")],
      {
        cwd: root,
        env: {
          ...process.env,
          NATS_URL: server.url,
          TROUPE_PREFIX: prefix,
          SIM: JSON.stringify({ types: o.types, shards: o.shards, placement: o.placement }),
        },
        stdio: ["pipe", "pipe", "inherit"],
      },
    );
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const ev = JSON.parse(line) as Record<string, unknown>;
      if (ev.event === "failed" && ev.op !== "start") failures.push(`${ev.op} ${ev.slot}: ${ev.error}`);
      const key =
        ev.event === "stats"
          ? `stats/${w}`
          : ev.event === "failed"
            ? `failed-${ev.op}/${ev.slot}`
            : `${ev.event}/${ev.slot}`;
      waiting.get(key)?.(ev);
    });
    return { child, send: (cmd) => child.stdin?.write(`${JSON.stringify(cmd)}\n`) };
  });
  const workerOf = (slot: number) => workers[slot % o.procs] as Worker;
  /** The next event with this key (see the worker's stdout above). */
  const expect = (key: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      waiting.set(key, (ev) => {
        waiting.delete(key);
        resolve(ev);
      });
    });
  const ask = (w: Worker, cmd: Record<string, unknown>, key: string) => {
    const answer = expect(key);
    w.send(cmd);
    return answer;
  };
  /** `op` on host `slot`: its event, or an error with what the worker reported. */
  const command = async (op: string, slot: number, done: string) => {
    const ev = await Promise.race([
      expect(`failed-${op}/${slot}`),
      ask(workerOf(slot), { op, slot }, `${done}/${slot}`),
    ]);
    waiting.delete(`failed-${op}/${slot}`);
    if (ev.event === "failed") throw new Error(`${op} of host ${slot} failed: ${String(ev.error)}`);
    return ev;
  };
  const live = new Map<number, string>();
  let startRetries = 0;
  const start = async (slot: number) => {
    // A start can time out on a starved machine (a KV request, the roster replay): try again.
    for (let attempt = 1; ; attempt++) {
      try {
        live.set(slot, (await command("start", slot, "started")).id as string);
        return;
      } catch (err) {
        if (attempt === 5) throw err;
        startRetries++;
        o.log(`${err instanceof Error ? err.message : String(err)}; starting it again`);
      }
    }
  };
  const drain = async (slot: number) => {
    await command("drain", slot, "drained");
    live.delete(slot);
  };
  const kill = async (slot: number) => {
    await command("kill", slot, "killed");
    live.delete(slot);
  };
  const stats = async () => {
    const evs = await Promise.all(workers.map((w, i) => ask(w, { op: "stats" }, `stats/${i}`)));
    return {
      cpuMs: evs.reduce((a, e) => a + (e.cpuMs as number), 0),
      hosts: evs.flatMap((e) => e.hosts as HostStats[]),
    };
  };

  // Every fence, as the driver's own watch sees it.
  const mesh = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
  const typeNames = Array.from({ length: o.types }, (_, i) => `Sim${i}`);
  const owner = new Map<string, string>();
  let ownerChanges = 0;
  const shardsBucket = await mesh.transport.keyValue(mesh.subjects.shardsBucket());
  const watch = await shardsBucket.watch();
  void (async () => {
    for await (const c of watch) {
      const holder = c.operation === "put" ? parseFence(c.value, c.revision).owner : undefined;
      if (!holder) continue;
      const was = owner.get(c.key);
      if (was !== undefined && was !== holder.hostId) ownerChanges++;
      owner.set(c.key, holder.hostId);
    }
  })();
  const assigners = typeNames.map((t) => new Assigner(t, o.shards));
  const assignment = () => assigners.map((a) => a.assign([...live.values()]));
  const converged = () => {
    const want = assignment();
    return typeNames.every((t, i) =>
      (want[i] as string[]).every((h, shard) => owner.get(mesh.subjects.shardFenceKey(t, shard)) === h),
    );
  };
  const waitUntil = async (what: string, check: () => boolean, timeoutMs = 600_000) => {
    const from = performance.now();
    while (!check()) {
      if (performance.now() - from > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
    return performance.now() - from;
  };
  const moves = (before: string[][], after: string[][]) =>
    before.reduce((n, a, i) => n + a.filter((h, s) => h !== (after[i] as string[])[s]).length, 0);

  try {
    // Start the hosts, a batch at a time (as a fleet would come up).
    const cpuBeforeStart = (await stats()).cpuMs;
    const t0 = performance.now();
    for (let next = 0; next < o.hosts; next += o.startBatch) {
      await Promise.all(
        Array.from({ length: Math.min(o.startBatch, o.hosts - next) }, (_, i) => start(next + i)),
      );
      o.log(`${live.size} hosts started (${Math.round(performance.now() - t0)} ms)`);
    }
    const startedMs = performance.now() - t0;
    const settleMs = await waitUntil("the first assignment", converged);
    // CPU of the host processes from the first start to the settled assignment: what taking the
    // shards cost (fence writes, and every host's handling of every fence change it received).
    const startCpuMs = (await stats()).cpuMs - cpuBeforeStart;
    o.log(
      `${o.hosts} hosts started in ${Math.round(startedMs)} ms, settled ${Math.round(settleMs)} ms later; host processes' CPU until settled ${Math.round(startCpuMs)} ms`,
    );

    // 1. Steady state (one heartbeat first, so every watch has replayed what it started with).
    await sleep(2 * o.placement.heartbeatEveryMs);
    const s0 = await stats();
    const w0 = performance.now();
    const changes0 = ownerChanges;
    await sleep(o.steadyMs);
    const s1 = await stats();
    const seconds = (performance.now() - w0) / 1000;
    const lapsesOf = (s: { hosts: HostStats[] }) => s.hosts.reduce((n, h) => n + h.lapses, 0);
    const per = (k: "writes" | "deliveries" | "requests") => {
      const rates = s1.hosts.map((h) => {
        const before = s0.hosts.find((x) => x.id === h.id);
        return (h[k] - (before?.[k] ?? 0)) / seconds;
      });
      return { mean: rates.reduce((a, b) => a + b, 0) / rates.length, max: Math.max(...rates) };
    };
    const steady = {
      seconds,
      writesPerHostPerSec: per("writes"),
      deliveriesPerHostPerSec: per("deliveries"),
      otherRequestsPerHostPerSec: per("requests"),
      cpuMsPerHostPerSec: (s1.cpuMs - s0.cpuMs) / seconds / s1.hosts.length,
      ownerChanges: ownerChanges - changes0,
      leaseLapses: lapsesOf(s1) - lapsesOf(s0),
    };
    o.log(
      `steady: ${steady.writesPerHostPerSec.mean.toFixed(2)} writes/s per host (max ${steady.writesPerHostPerSec.max.toFixed(2)}), ${steady.deliveriesPerHostPerSec.mean.toFixed(2)} deliveries/s (max ${steady.deliveriesPerHostPerSec.max.toFixed(2)}), ${steady.otherRequestsPerHostPerSec.mean.toFixed(2)} other KV requests/s, ${steady.cpuMsPerHostPerSec.toFixed(2)} ms CPU/s per host, ${steady.ownerChanges} owner changes, ${steady.leaseLapses} lease lapses`,
    );

    // 2. A join, then a leave.
    const change = async (what: string, act: () => Promise<void>, ideal: number) => {
      const before = assignment();
      const c0 = ownerChanges;
      const from = performance.now();
      await act();
      await waitUntil(what, converged);
      const ms = performance.now() - from;
      const moved = ownerChanges - c0;
      const assigned = moves(before, assignment());
      return { ms, moved, assigned, ideal, ratio: moved / ideal };
    };
    const n = live.size;
    const join = await change("the join", () => start(o.hosts), (o.types * o.shards) / (n + 1));
    o.log(
      `join: ${join.moved} owner changes (${join.ratio.toFixed(2)}× ideal), settled in ${Math.round(join.ms)} ms`,
    );
    const leave = await change("the leave", () => drain(o.hosts), (o.types * o.shards) / n);
    o.log(
      `leave: ${leave.moved} owner changes (${leave.ratio.toFixed(2)}× ideal), settled in ${Math.round(leave.ms)} ms`,
    );

    // 3. A death: every shard of the dead host owned elsewhere.
    // The host holding the most shards (with few shards per host, some hold none).
    const held = new Map<string, string[]>();
    for (const [key, h] of owner) held.set(h, [...(held.get(h) ?? []), key]);
    const [victim, victimId] = [...live].reduce((a, b) =>
      (held.get(b[1])?.length ?? 0) > (held.get(a[1])?.length ?? 0) ? b : a,
    );
    const victimKeys = held.get(victimId) ?? [];
    const killedAt = performance.now();
    await kill(victim);
    const deathMs = await waitUntil("the dead host's shards taken over", () =>
      victimKeys.every((k) => owner.get(k) !== victimId),
    );
    await waitUntil("the assignment after the death", converged);
    const death = {
      shards: victimKeys.length,
      servedAgainMs: deathMs,
      settledMs: performance.now() - killedAt,
    };
    o.log(
      `death: ${death.shards} shards owned again after ${Math.round(deathMs)} ms (target ${o.placement.hostTtlMs + 2000})`,
    );
    await start(victim);
    await waitUntil("the replacement of the dead host", converged);

    // 4. Rolling restart.
    const rolling = {
      hosts: Math.min(o.rolling, o.hosts),
      ms: 0,
      stepMs: [] as number[],
      moved: 0,
      assigned: 0,
    };
    const r0 = performance.now();
    for (let slot = 0; slot < rolling.hosts; slot++) {
      const before = assignment();
      const c0 = ownerChanges;
      const from = performance.now();
      await drain(slot);
      const without = assignment();
      await start(slot);
      await waitUntil(`rolling restart step ${slot}`, converged);
      rolling.stepMs.push(performance.now() - from);
      rolling.moved += ownerChanges - c0;
      rolling.assigned += moves(before, without) + moves(without, assignment());
    }
    rolling.ms = performance.now() - r0;
    const leaseLapses = lapsesOf(await stats());
    o.log(
      `rolling restart of ${rolling.hosts}: ${Math.round(rolling.ms)} ms, ${rolling.moved} owner changes (assignment moved ${rolling.assigned}); lease lapses of the hosts alive at the end: ${leaseLapses}`,
    );
    return {
      hosts: o.hosts,
      procs: o.procs,
      types: o.types,
      shardsPerType: o.shards,
      placement: o.placement,
      startedMs: startedMs,
      startCpuMs,
      steady,
      join,
      leave,
      death,
      rolling: {
        hosts: rolling.hosts,
        ms: rolling.ms,
        meanStepMs: rolling.ms / Math.max(1, rolling.hosts),
        maxStepMs: Math.max(...rolling.stepMs),
        moved: rolling.moved,
        assigned: rolling.assigned,
      },
      leaseLapses,
      startRetries,
      failures,
    };
  } finally {
    watch.stop();
    for (const w of workers) w.child.stdin?.end();
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((r) => {
            const timer = setTimeout(() => w.child.kill("SIGKILL"), 10_000);
            w.child.once("exit", () => {
              clearTimeout(timer);
              r();
            });
          }),
      ),
    );
    await mesh.close();
    await server.cleanup();
  }
}
