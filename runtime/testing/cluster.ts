import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigurationError, NatsServerUnavailableError } from "../errors.js";
import { findNatsServer } from "./find-nats-server.js";
import { reservePorts } from "./free-port.js";
import { monitorJson } from "./monitoring.js";
import { type NatsServer, type NatsServerOptions, startNatsServer } from "./nats-server.js";
import { removeOnExit } from "./orphan-guard.js";

const HOST = "127.0.0.1";
const POLL_MS = 100;
/** Fresh route ports are tried this often when one was taken between reservation and start. */
const PORT_ATTEMPTS = 3;

export interface NatsClusterOptions
  extends Pick<
    NatsServerOptions,
    "jetstream" | "maxPayload" | "debug" | "extraConfig" | "bin" | "readyTimeoutMs" | "stopGraceMs"
  > {
  /** Number of nodes. Default 3 (the smallest JetStream cluster that survives losing a node). */
  size?: number;
  /** Cluster name. Default: a random `troupe-xxxxxxxx`. */
  name?: string;
  /** Folder holding one sub-folder per node (`n1`, `n2`...). Default: a temp folder `cleanup()` removes. */
  dir?: string;
}

/** A loopback nats-server cluster; nodes are named `n1`, `n2`... */
export interface NatsCluster {
  readonly name: string;
  readonly nodes: NatsServer[];
  /** Client URLs, one per node. */
  readonly urls: string[];
  /** The client URLs joined with commas, for a `servers` option. */
  readonly servers: string;
  /**
   * Waits until every running node (not exited, not SIGSTOPped) names the same JetStream meta
   * leader and that leader is one of them (a node keeps naming a dead leader until the next
   * election, so agreement alone is not enough). Resolves with the leader's node.
   */
  waitForMetaLeader(opts?: { timeoutMs?: number }): Promise<NatsServer>;
  /** Stops every node. */
  stop(): Promise<void>;
  /** Stops every node and removes the cluster's folder unless the caller provided it. */
  cleanup(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a cluster of real nats-servers on loopback (JetStream on by default) and waits until
 * every node is healthy and, with JetStream, the meta group has a leader every node agrees on.
 *
 * Route ports are reserved up front (JetStream clusters need explicit routes) from outside the
 * ephemeral range, and every node keeps its client, monitoring and route ports across
 * `restart()`, so a restarted node rejoins with its store.
 *
 * @throws NatsServerUnavailableError when a node cannot start or no meta leader is elected in time.
 *
 * @example
 * ```ts
 * await using cluster = await startNatsCluster({ size: 3 });
 * const nc = await connect({ servers: cluster.urls });
 * const leader = await cluster.waitForMetaLeader();
 * await leader.kill();                 // SIGKILL
 * await cluster.waitForMetaLeader();   // a new leader among the other two
 * await leader.restart();              // rejoins
 * ```
 */
export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  if (!Number.isInteger(size) || size < 1) {
    throw new ConfigurationError(`cluster size must be a positive integer, got ${size}`);
  }
  const bin = opts.bin ?? findNatsServer();
  const name = opts.name ?? `troupe-${randomUUID().slice(0, 8)}`;
  const ownsDir = opts.dir === undefined;
  const dir =
    opts.dir === undefined
      ? await mkdtemp(path.join(os.tmpdir(), "troupe-nats-cluster-"))
      : path.resolve(opts.dir);
  if (!ownsDir) await mkdir(dir, { recursive: true });
  const forgetDir = ownsDir ? removeOnExit(dir) : undefined;

  let nodes: NatsServer[] | undefined;
  try {
    nodes = await startNodes({ ...opts, bin }, size, name, dir);
  } catch (err) {
    if (forgetDir) {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      forgetDir();
    }
    throw err;
  }
  const cluster = new LocalNatsCluster(name, nodes, dir, forgetDir, opts.readyTimeoutMs ?? 30_000);
  try {
    if (opts.jetstream ?? true) await cluster.waitForMetaLeader();
    else await cluster.waitForRoutes();
  } catch (err) {
    await cluster.cleanup();
    throw err;
  }
  return cluster;
}

async function startNodes(
  opts: NatsClusterOptions & { bin: string },
  size: number,
  name: string,
  dir: string,
): Promise<NatsServer[]> {
  for (let attempt = 1; ; attempt++) {
    const routePorts = await reservePorts(size, HOST);
    const results = await Promise.allSettled(
      routePorts.map((port, i) =>
        startNatsServer({
          jetstream: opts.jetstream,
          maxPayload: opts.maxPayload,
          debug: opts.debug,
          extraConfig: opts.extraConfig,
          bin: opts.bin,
          readyTimeoutMs: opts.readyTimeoutMs,
          stopGraceMs: opts.stopGraceMs,
          dir: path.join(dir, `n${i + 1}`),
          serverName: `n${i + 1}`,
          cluster: {
            name,
            port,
            routes: routePorts.filter((p) => p !== port).map((p) => `nats-route://${HOST}:${p}`),
          },
        }),
      ),
    );
    const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    if (started.length === size) return started;
    await Promise.all(started.map((node) => node.cleanup()));
    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
    const portClash = failures.every(
      (e) => e instanceof NatsServerUnavailableError && e.details.reason === "address-in-use",
    );
    if (!portClash || attempt >= PORT_ATTEMPTS) throw failures[0];
  }
}

class LocalNatsCluster implements NatsCluster {
  private cleanedUp: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly nodes: NatsServer[],
    private readonly dir: string,
    /** Set when `dir` is ours to remove: forgets it in the exit hook. */
    private readonly forgetDir: (() => void) | undefined,
    private readonly readyTimeoutMs: number,
  ) {}

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  get servers(): string {
    return this.urls.join(",");
  }

  async waitForMetaLeader(opts: { timeoutMs?: number } = {}): Promise<NatsServer> {
    const timeoutMs = opts.timeoutMs ?? this.readyTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    let seen = "nothing yet";
    for (;;) {
      const running = this.nodes.filter((n) => n.state === "running");
      const leaders = await Promise.all(
        running.map((n) =>
          n.jsz().then(
            (jsz) => jsz.meta_cluster?.leader ?? "",
            (err: unknown) => `(${err instanceof Error ? err.message : String(err)})`,
          ),
        ),
      );
      const leader = running.find((n) => n.serverName === leaders[0]);
      if (leader && leaders.every((l) => l === leaders[0])) return leader;
      seen = running.map((n, i) => `${n.serverName}: ${leaders[i] || "(none)"}`).join(", ");
      if (Date.now() > deadline) {
        throw new NatsServerUnavailableError(
          `no JetStream meta leader agreed on by the running nodes within ${timeoutMs} ms (leaders seen: ${seen})`,
          { details: { reason: "no-meta-leader", cluster: this.name } },
        );
      }
      await sleep(POLL_MS);
    }
  }

  /** Waits until every running node has a route to every other running node (core NATS clusters). */
  async waitForRoutes(): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      const running = this.nodes.filter((n) => n.state === "running");
      const counts = await Promise.all(
        running.map((n) =>
          monitorJson<{ num_routes: number }>(`${n.monitorUrl}/routez`).then(
            (r) => r.num_routes,
            (err: unknown) => `(${err instanceof Error ? err.message : String(err)})`,
          ),
        ),
      );
      if (counts.every((c) => typeof c === "number" && c >= running.length - 1)) return;
      if (Date.now() > deadline) {
        throw new NatsServerUnavailableError(
          `cluster routes not connected within ${this.readyTimeoutMs} ms (routes per node: ${counts.join(", ")})`,
          { details: { reason: "no-routes", cluster: this.name } },
        );
      }
      await sleep(POLL_MS);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  cleanup(): Promise<void> {
    this.cleanedUp ??= (async () => {
      await Promise.all(this.nodes.map((n) => n.cleanup()));
      if (this.forgetDir) {
        await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
        this.forgetDir();
      }
    })();
    return this.cleanedUp;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.cleanup();
  }
}
