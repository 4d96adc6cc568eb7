/**
 * Idle cost of placement: one host serving 5 placed types (64 and 1,024 shards each by default)
 * with the default placement timings, doing nothing but staying in the mesh. For each shard count
 * it starts its own nats-server (never 127.0.0.1:4222), waits until every shard is owned, then
 * measures over a window:
 * - the host's CPU per second (this process: it runs nothing else during the window);
 * - JetStream writes per second (every stream's last sequence, from the server's /jsz): the KV
 *   writes placement makes;
 * - messages per second the host's connection sent and received (the server's /connz).
 *
 *   node --conditions=troupe-source --import tsx bench/placement-idle.ts [--shards 64,1024]
 *        [--types 5] [--window-ms 10000] [--json]
 *
 * It uses only the public API, so the same file measures an older checkout (docs/benchmarks.md).
 */
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { connect, consoleLogger } from "troupe";
import { monitorJson, startNatsServer } from "troupe/testing";
import { placedType } from "./lib/actors.js";

const { values } = parseArgs({
  options: {
    shards: { type: "string", default: "64,1024" },
    types: { type: "string", default: "5" },
    "window-ms": { type: "string", default: "10000" },
    json: { type: "boolean", default: false },
    /** Writes a V8 CPU profile of each measured window to `<dir>/idle-<shards>.cpuprofile`. */
    profile: { type: "string" },
  },
});
const shardCounts = values.shards.split(",").map(Number);
const typeCount = Number(values.types);
const windowMs = Number(values["window-ms"]);

interface Jsz {
  account_details?: { stream_detail?: { state?: { last_seq?: number } }[] }[];
}
interface Connz {
  connections?: { name?: string; in_msgs: number; out_msgs: number }[];
}

async function streamWrites(monitorUrl: string): Promise<number> {
  const jsz = await monitorJson<Jsz>(`${monitorUrl}/jsz?streams=true`);
  let sum = 0;
  for (const a of jsz.account_details ?? [])
    for (const s of a.stream_detail ?? []) sum += s.state?.last_seq ?? 0;
  return sum;
}

async function connectionMsgs(monitorUrl: string, name: string): Promise<{ in: number; out: number }> {
  const connz = await monitorJson<Connz>(`${monitorUrl}/connz?limit=1000`);
  const c = connz.connections?.find((x) => x.name === name);
  return { in: c?.in_msgs ?? 0, out: c?.out_msgs ?? 0 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(shards: number) {
  const server = await startNatsServer();
  try {
    const name = `placement-idle-${shards}`;
    const mesh = await connect({ servers: server.url, name, logger: consoleLogger("warn") });
    const types = Array.from({ length: typeCount }, (_, i) => placedType(`Idle${i}x${shards}`, shards));
    const host = await mesh.host(types, { name, jobs: false });
    const owned = () => Object.values(host.shards()).reduce((n, s) => n + s.length, 0);
    const end = Date.now() + 120_000;
    while (owned() < typeCount * shards) {
      if (Date.now() > end) throw new Error(`only ${owned()} of ${typeCount * shards} shards owned`);
      await sleep(100);
    }
    await sleep(3000); // let start-up work (watch replays, first renewals) settle
    const w0 = await streamWrites(server.monitorUrl);
    const m0 = await connectionMsgs(server.monitorUrl, name);
    const session = values.profile ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
    }
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(windowMs);
    const cpu = process.cpuUsage(c0);
    if (session && values.profile) {
      const { profile } = await session.post("Profiler.stop");
      await writeFile(path.join(values.profile, `idle-${shards}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    }
    const secs = (performance.now() - t0) / 1000;
    const w1 = await streamWrites(server.monitorUrl);
    const m1 = await connectionMsgs(server.monitorUrl, name);
    await host.drain();
    await mesh.close();
    return {
      types: typeCount,
      shardsPerType: shards,
      cpuMsPerSec: (cpu.user + cpu.system) / 1000 / secs,
      kvWritesPerSec: (w1 - w0) / secs,
      sentPerSec: (m1.in - m0.in) / secs,
      receivedPerSec: (m1.out - m0.out) / secs,
    };
  } finally {
    await server.cleanup();
  }
}

const rows = [];
for (const s of shardCounts) rows.push(await measure(s));
if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
else {
  for (const r of rows) {
    process.stdout.write(
      `${r.types} types × ${r.shardsPerType} shards: CPU ${r.cpuMsPerSec.toFixed(2)} ms/s, KV writes ${r.kvWritesPerSec.toFixed(2)}/s, host sent ${r.sentPerSec.toFixed(1)} msg/s, received ${r.receivedPerSec.toFixed(1)} msg/s\n`,
    );
  }
}
process.exit(0);
