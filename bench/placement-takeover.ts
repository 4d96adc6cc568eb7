/**
 * Takeover after a SIGKILL: the time from killing a host process to every shard it held answering
 * calls again from the others (target: `hostTtlMs` + 2 s). Each round starts its own nats-server
 * (never 127.0.0.1:4222) and `--hosts` host processes (test/placement/fixtures/host.ts: Tally, 16
 * shards) with the default placement timings unless `--host-ttl-ms`/`--heartbeat-ms` say
 * otherwise, waits until every shard is owned, kills one host with SIGKILL, then calls an actor of
 * each of its shards in a loop (each attempt at most 500 ms) until every one has answered.
 *
 *   node --conditions=troupe-source --import tsx bench/placement-takeover.ts [--hosts 3]
 *        [--rounds 3] [--host-ttl-ms 10000] [--heartbeat-ms 2000] [--json]
 *
 * A figure for docs/benchmarks.md, never asserted in a test.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connect, consoleLogger } from "troupe";
import { startNatsServer } from "troupe/testing";
import { listShards } from "../runtime/cli/ls.js";
import { shardOf } from "../runtime/placement/shard.js";
import { Tally } from "../test/placement/fixtures/actors.js";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    "host-ttl-ms": { type: "string", default: "10000" },
    "heartbeat-ms": { type: "string", default: "2000" },
    json: { type: "boolean", default: false },
  },
});
const hostCount = Number(values.hosts);
const rounds = Number(values.rounds);
const placement = {
  hostTtlMs: Number(values["host-ttl-ms"]),
  heartbeatEveryMs: Number(values["heartbeat-ms"]),
};
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURE = path.join(root, "test/placement/fixtures/host.ts");
const SHARDS = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnHost(
  servers: string,
  prefix: string,
  name: string,
): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ["--conditions=troupe-source", "--import", "tsx", FIXTURE], {
    cwd: root,
    env: {
      ...process.env,
      NATS_URL: servers,
      TROUPE_PREFIX: prefix,
      HOST_NAME: name,
      PLACEMENT: JSON.stringify(placement),
      JOBS: "0",
    },
    stdio: ["ignore", "pipe", "ignore"],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes('"ready"')) resolve();
    });
    child.once("exit", (code) => reject(new Error(`host ${name} exited with ${code}`)));
  });
  return { child, ready };
}

async function round(n: number) {
  const server = await startNatsServer();
  const prefix = `takeover${process.pid}x${n}`;
  const hosts = Array.from({ length: hostCount }, (_, i) => spawnHost(server.url, prefix, `h${i}`));
  const mesh = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
  try {
    await Promise.all(hosts.map((h) => h.ready));
    const tally = async () =>
      (await listShards(mesh.transport, mesh.subjects)).filter((r) => r.type === "Tally");
    const end = Date.now() + 120_000;
    let rows = await tally();
    while (rows.length < SHARDS || new Set(rows.map((r) => r.hostName)).size < hostCount) {
      if (Date.now() > end) throw new Error("placement did not settle");
      await sleep(200);
      rows = await tally();
    }
    const victim = rows[0]?.hostName as string;
    const victimShards = rows.filter((r) => r.hostName === victim).map((r) => r.shard);
    // One actor id per victim shard.
    const ids = victimShards.map((shard) => {
      for (let i = 0; ; i++) if (shardOf(`to${i}`, SHARDS) === shard) return `to${i}`;
    });
    const killedAt = performance.now();
    hosts[Number(victim.slice(1))]?.child.kill("SIGKILL");
    const servedAfter = await Promise.all(
      ids.map(async (id, i) => {
        for (let attempt = 0; ; attempt++) {
          try {
            await mesh.ref(Tally, id, { timeoutMs: 500 }).add(`op${n}-${i}-${attempt}`);
            return performance.now() - killedAt;
          } catch {
            // Not served yet (no responders, the dead host, a deadline): try again.
          }
        }
      }),
    );
    return {
      shards: victimShards.length,
      allServedMs: Math.max(...servedAfter),
      firstServedMs: Math.min(...servedAfter),
    };
  } finally {
    for (const h of hosts) h.child.kill("SIGKILL");
    await mesh.close();
    await server.cleanup();
  }
}

const results = [];
for (let n = 0; n < rounds; n++) results.push(await round(n));
const target = placement.hostTtlMs + 2000;
if (values.json)
  process.stdout.write(`${JSON.stringify({ placement, hosts: hostCount, target, results }, null, 2)}\n`);
else {
  process.stdout.write(
    `takeover after SIGKILL (${hostCount} hosts, Tally × ${SHARDS} shards, hostTtlMs ${placement.hostTtlMs}, heartbeat ${placement.heartbeatEveryMs} ms; target ${target} ms):\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `  ${r.shards} shards of the killed host: first answered after ${Math.round(r.firstServedMs)} ms, all after ${Math.round(r.allServedMs)} ms (${(r.allServedMs / target).toFixed(2)}× the target)\n`,
    );
  }
}
process.exit(0);
