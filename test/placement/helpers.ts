/**
 * Host processes and a load generator for the placement tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecutionContext } from "ava";
import { type ConnectOptions, connect, consoleLogger, type Mesh } from "troupe";
import { listHosts, listShards, type ShardRow } from "../../runtime/cli/ls.js";
import type { PlacementOptions } from "../../runtime/placement/options.js";
import { assignShards } from "../../runtime/placement/rendezvous.js";
import { shardOf } from "../../runtime/placement/shard.js";
import { startServer } from "../helpers/nats.js";
import { TALLY_SHARDS, Tally, type TallyReply } from "./fixtures/actors.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = path.join(root, "test/placement/fixtures/host.ts");

/** Short leases so faults resolve in seconds (never asserted on: tests only wait with margins). */
export const FAST: PlacementOptions = {
  renewEveryMs: 600,
  safetyMarginMs: 900,
  heartbeatEveryMs: 500,
  hostTtlMs: 2500,
};

export interface HostProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the host id once it serves. */
  readonly ready: Promise<string>;
  readonly exited: Promise<number | null>;
  /** Parsed JSON log lines (stderr) of the process. */
  readonly logs: Record<string, unknown>[];
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM (graceful drain) and wait for the exit. */
  drain(): Promise<number | null>;
}

let seq = 0;
export const uniquePrefix = () => `pl${process.pid}x${++seq}`;

export interface SpawnOptions {
  servers: string;
  prefix: string;
  name: string;
  placement?: PlacementOptions;
  replicas?: number;
  /** The host's `keepaliveEveryMs` (default: the runtime's). */
  keepaliveEveryMs?: number;
  /** Whether the host runs a job runner for its types (default true). */
  jobs?: boolean;
  /** The host enforces this control plane's throttle policies (default: no throttling). */
  throttling?: { controlPlane: string; token: string };
}

export function spawnHost(t: ExecutionContext, opts: SpawnOptions): HostProcess {
  const child = spawn(process.execPath, ["--conditions=troupe-source", "--import", "tsx", FIXTURE], {
    cwd: root,
    env: {
      ...process.env,
      NATS_URL: opts.servers,
      TROUPE_PREFIX: opts.prefix,
      HOST_NAME: opts.name,
      PLACEMENT: JSON.stringify(opts.placement ?? FAST),
      REPLICAS: String(opts.replicas ?? 1),
      KEEPALIVE_EVERY_MS: opts.keepaliveEveryMs === undefined ? "" : String(opts.keepaliveEveryMs),
      JOBS: opts.jobs === false ? "0" : "1",
      CONTROL_PLANE: opts.throttling?.controlPlane ?? "",
      CONTROL_TOKEN: opts.throttling?.token ?? "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  const echo = process.env.TROUPE_TEST_ECHO === "1";
  lines(child.stderr, (line) => {
    if (echo) process.stderr.write(`[${opts.name}] ${line}\n`);
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line });
    }
  });
  const ready = new Promise<string>((resolve, reject) => {
    lines(child.stdout, (line) => {
      try {
        const ev = JSON.parse(line) as { event?: string; id?: string };
        if (ev.event === "ready" && ev.id) resolve(ev.id);
      } catch {
        // not ours
      }
    });
    child.once("exit", (code) => {
      const tail = logs
        .slice(-5)
        .map((l) => JSON.stringify(l).slice(0, 600))
        .join("\n");
      reject(new Error(`${opts.name} exited (${code}) before it was ready; last log lines:\n${tail}`));
    });
  });
  ready.catch(() => undefined);
  const startTimer = setTimeout(() => {
    if (alive) child.kill("SIGKILL");
  }, 60_000);
  void ready.then(
    () => clearTimeout(startTimer),
    () => clearTimeout(startTimer),
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then(() => clearTimeout(startTimer));
  let alive = true;
  void exited.then(() => {
    alive = false;
  });
  t.teardown(() => {
    if (!alive) return;
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    return exited.then(() => undefined);
  });
  return {
    name: opts.name,
    child,
    ready,
    exited,
    logs,
    signal: (sig) => {
      if (alive) child.kill(sig);
    },
    drain: () => {
      if (alive) child.kill("SIGTERM");
      return exited;
    },
  };
}

function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buf += chunk;
    let i = buf.indexOf("\n");
    while (i >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) onLine(line);
      i = buf.indexOf("\n");
    }
  });
}

/** A client-only mesh connection for the test process. */
export async function client(
  t: ExecutionContext,
  servers: string,
  prefix: string,
  options: ConnectOptions = {},
): Promise<Mesh> {
  const mesh = await connect({ servers, prefix, logger: consoleLogger("silent"), ...options });
  t.teardown(() => mesh.close());
  return mesh;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` is true; fails after `timeoutMs` (a generous bound, never a speed assertion). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      ok = await Promise.race([
        Promise.resolve(check()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`a check of "${what}" hung for 20 s`)), 20_000);
        }),
      ]);
    } catch (err) {
      if (err instanceof Error && err.message.includes("hung")) throw err;
      ok = false;
    } finally {
      clearTimeout(timer);
    }
    if (ok) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Shard leases of Tally, by holder name. */
export async function tallyShards(mesh: Mesh): Promise<ShardRow[]> {
  return (await listShards(mesh.transport, mesh.subjects)).filter((s) => s.type === "Tally");
}

export function byHolder(rows: ShardRow[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const r of rows) m.set(r.hostName, [...(m.get(r.hostName) ?? []), r.shard]);
  return m;
}

/**
 * The start of most placement tests: a nats-server, host processes `names` (all with `host`
 * options), a client mesh of the test process (`client` options), and the Tally shards held by
 * exactly those hosts.
 */
export async function startHosts(
  t: ExecutionContext,
  names: string[],
  options: { host?: Omit<SpawnOptions, "servers" | "prefix" | "name">; client?: ConnectOptions } = {},
): Promise<{
  servers: string;
  prefix: string;
  /** The host process named `name`. */
  host(name: string): HostProcess;
  mesh: Mesh;
  rows: ShardRow[];
}> {
  const servers = (await startServer(t)).url;
  const prefix = uniquePrefix();
  const hosts = names.map((name) => spawnHost(t, { servers, prefix, name, ...options.host }));
  await Promise.all(hosts.map((h) => h.ready));
  const mesh = await client(t, servers, prefix, options.client);
  const rows = await waitForShards(mesh, names);
  const host = (name: string) => {
    const h = hosts[names.indexOf(name)];
    if (!h) throw new Error(`no host named ${name}`);
    return h;
  };
  return { servers, prefix, host, mesh, rows };
}

/** The first of `<prefix>0`, `<prefix>1`... (up to `candidates`) whose Tally shard `host` holds in `rows`. */
export function tallyIdOn(rows: ShardRow[], host: string, prefix: string, candidates = 200): string {
  const shards = new Set(byHolder(rows).get(host));
  for (let i = 0; i < candidates; i++)
    if (shards.has(shardOf(`${prefix}${i}`, TALLY_SHARDS))) return `${prefix}${i}`;
  throw new Error(`no id on host ${host}`);
}

/** Waits until `host` logged that a `slowAdd` turn started (of actor `id`, when given). */
export function slowTurnStarted(host: HostProcess, id?: string): Promise<void> {
  return waitFor(`the slow turn${id ? ` of ${id}` : ""} started on ${host.name}`, () =>
    host.logs.some((l) => l.msg === "slowAdd started" && (id === undefined || l.actorId === id)),
  );
}

/**
 * Waits until all TALLY_SHARDS Tally shards are held as the assignment over exactly `hosts` (names) says
 * (runtime/placement/rendezvous.ts): placement has settled on that set of hosts.
 */
export async function waitForShards(mesh: Mesh, hosts: string[], timeoutMs = 40_000): Promise<ShardRow[]> {
  let rows: ShardRow[] = [];
  await waitFor(
    `${TALLY_SHARDS} Tally shards held as assigned over ${hosts.join(", ")}`,
    async () => {
      const records = await listHosts(mesh.transport, mesh.subjects);
      const ids = hosts.map((name) => records.find((r) => r.name === name && r.status === "serving")?.id);
      if (ids.some((id) => id === undefined)) return false;
      const want = assignShards("Tally", TALLY_SHARDS, ids as string[]);
      rows = await tallyShards(mesh);
      return rows.length === TALLY_SHARDS && rows.every((r) => r.hostId === want[r.shard]);
    },
    timeoutMs,
  );
  return rows;
}

export interface LoadOptions {
  ids: string[];
  workers: number;
  /** Per-attempt deadline. */
  timeoutMs: number;
  /** Retry a failed operation (same op id) until acknowledged. Default true. */
  retry?: boolean;
}

/**
 * Increments counters continuously. Every operation has an id and is retried with the same id
 * until acknowledged, so with Tally's idempotent `add` each counter's final value must equal
 * the number of operations acknowledged for it: exactly.
 */
export class Load {
  readonly acked = new Map<string, number>();
  readonly failures: { id: string; op: string; error: string }[] = [];
  /** Last answering host per actor id, and the ack counter value when it answered. */
  readonly lastHost = new Map<string, { host: string; ackNo: number }>();
  readonly hostsSeen = new Set<string>();
  totalAcked = 0;
  private running = true;
  private readonly loops: Promise<void>[] = [];

  constructor(
    t: ExecutionContext,
    private readonly mesh: Mesh,
    private readonly opts: LoadOptions,
  ) {
    t.teardown(() => {
      this.running = false;
    });
    for (let w = 0; w < opts.workers; w++) this.loops.push(this.loop(w));
  }

  private async loop(w: number): Promise<void> {
    for (let n = 0; this.running; n++) {
      const id = this.opts.ids[(w + n * this.opts.workers) % this.opts.ids.length] as string;
      const op = `w${w}-${n}`;
      for (;;) {
        try {
          const r: TallyReply = await this.mesh.ref(Tally, id, { timeoutMs: this.opts.timeoutMs }).add(op);
          this.acked.set(id, (this.acked.get(id) ?? 0) + 1);
          this.totalAcked++;
          this.lastHost.set(id, { host: r.host, ackNo: this.totalAcked });
          this.hostsSeen.add(r.host);
          break;
        } catch (err) {
          this.failures.push({
            id,
            op,
            error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
          });
          if (!this.running && this.mesh.transport.isClosed) return;
          await sleep(50);
          if (this.opts.retry === false) break;
        }
      }
    }
  }

  /** Stops issuing new operations; resolves once every started one is acknowledged. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** Checks every counter against the acknowledged operations; returns mismatches. */
export async function verifyCounters(mesh: Mesh, load: Load): Promise<string[]> {
  const bad: string[] = [];
  for (const id of new Set(load.acked.keys())) {
    const r = await mesh.ref(Tally, id, { timeoutMs: 20_000 }).get();
    if (r.value !== load.acked.get(id) || r.ops.length !== r.value) {
      bad.push(`${id}: value ${r.value}, acknowledged ${load.acked.get(id)}, ops ${r.ops.length}`);
    }
  }
  return bad;
}
