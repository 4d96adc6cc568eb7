import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { NatsServerUnavailableError } from "../errors.js";
import { findNatsServer, NATS_SERVER_INSTALL_HINT } from "./find-nats-server.js";
import { type Jsz, monitorGet, monitorJson } from "./monitoring.js";
import { removeOnExit } from "./orphan-guard.js";
import { type ClusterConfig, type LeafNodesConfig, renderConfig } from "./server-config.js";
import {
  type ExitInfo,
  type Ports,
  type Run,
  raceTimeout,
  readPortsFile,
  spawnServer,
  TERMINATING,
  TIMED_OUT,
  waitForProcessState,
} from "./server-process.js";

/** Every listener binds here: the launcher never exposes a server beyond this machine. */
const HOST = "127.0.0.1";
const POLL_MS = 25;

export interface NatsServerOptions {
  /**
   * Folder for the config, ports file and JetStream store. Created if missing and kept by
   * `cleanup()` (e.g. `troupe dev`'s persistent folder). Default: a fresh temp folder that
   * `cleanup()` removes.
   */
  dir?: string;
  /** Client port. Default -1: the server picks a free one (never 4222 unless asked for). */
  port?: number;
  /** Enable JetStream with its store in `dir`. Default true. */
  jetstream?: boolean;
  /** `max_payload` in bytes (server default 1 MiB). */
  maxPayload?: number;
  /** `server_name`; must be unique within a cluster. */
  serverName?: string;
  /** Cluster membership; used by `startNatsCluster`. */
  cluster?: ClusterConfig;
  /** JetStream domain, e.g. an edge site's (`$JS.<domain>.API`); see `startEdgeSite`. */
  jetstreamDomain?: string;
  /** Leaf-node listener (hub) and/or remotes (leaf). Reserve fixed ports with `reservePorts`. */
  leafnodes?: LeafNodesConfig;
  /** Enables the MQTT listener on this port (needs JetStream and `serverName`). */
  mqttPort?: number;
  /** Echo the server's log to this process's stderr, prefixed with the server name. */
  debug?: boolean;
  /** Raw config text appended to the generated file (authorization, tls, accounts...). */
  extraConfig?: string;
  /** Path of the executable. Default: {@link findNatsServer}. */
  bin?: string;
  /** How long (re)starting may take before it fails. Default 20 000 ms. */
  readyTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before it sends SIGKILL. Default 5 000 ms. */
  stopGraceMs?: number;
}

/**
 * Lifecycle of the current process: `paused` after `kill("SIGSTOP")`, `exited` after stop, a kill
 * or a crash (a later `restart()` makes it `running` again).
 */
export type NatsServerState = "running" | "paused" | "stopping" | "exited";

/** A nats-server child process on 127.0.0.1. Ports and folders stay the same across restarts. */
export interface NatsServer {
  /** Client URL, e.g. `nats://127.0.0.1:41873`. */
  readonly url: string;
  /** Client port. */
  readonly port: number;
  /** Monitoring base URL, e.g. `http://127.0.0.1:39517` (append `/varz`, `/jsz`...). */
  readonly monitorUrl: string;
  /** Route port when clustered. */
  readonly clusterPort: number | undefined;
  /** The configured JetStream `store_dir` (the server keeps its data in `<storeDir>/jetstream`). */
  readonly storeDir: string;
  /** The folder holding config, ports file and store. */
  readonly dir: string;
  /** Pid of the current (or last) process; changes on restart. */
  readonly pid: number;
  readonly serverName: string | undefined;
  readonly state: NatsServerState;
  /** SIGTERM, wait for exit, SIGKILL after the grace period. Idempotent. */
  stop(): Promise<void>;
  /**
   * Sends a signal without any cleanup, for fault tests. For SIGKILL (default), SIGTERM, SIGINT
   * and SIGQUIT it resolves once the process has exited; SIGSTOP pauses and SIGCONT resumes.
   * No-op when the process has already exited.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Stops the server if it runs, then starts it again on the same client, monitoring and route
   * ports with the same store, and waits until it is ready. Clients reconnect; JetStream data
   * survives.
   */
  restart(): Promise<void>;
  /** `stop()`, then removes `dir` unless the caller provided it. Idempotent. */
  cleanup(): Promise<void>;
  /** The monitoring `/jsz` answer (`streams: true` adds per-account stream details). */
  jsz(opts?: { streams?: boolean }): Promise<Jsz>;
  /** The last lines the current process logged. */
  recentLog(): string;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a real nats-server on free loopback ports and waits until it is ready (monitoring
 * `/healthz?js-enabled-only=true` answers 200).
 *
 * @throws NatsServerUnavailableError when the binary is missing, the server exits during startup
 *   (`details.reason`: `"not-found"`, `"address-in-use"`, `"exited"`) or is not ready in time
 *   (`"timeout"`); the message ends with the server's last log lines.
 *
 * @example
 * ```ts
 * await using server = await startNatsServer();
 * const nc = await connect({ servers: server.url });
 * await server.restart(); // same port, same JetStream store
 * ```
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = opts.bin ?? findNatsServer();
  const ownsDir = opts.dir === undefined;
  const dir =
    opts.dir === undefined ? await mkdtemp(path.join(os.tmpdir(), "troupe-nats-")) : path.resolve(opts.dir);
  if (!ownsDir) await mkdir(dir, { recursive: true });
  const forgetDir = ownsDir ? removeOnExit(dir) : undefined;
  const server = new LocalNatsServer(bin, dir, forgetDir, opts);
  try {
    await server.launch();
  } catch (err) {
    await server.cleanup().catch((cleanupErr: unknown) => {
      process.emitWarning(
        `troupe: cleaning up a nats-server that failed to start failed: ${String(cleanupErr)}`,
      );
    });
    throw err;
  }
  return server;
}

class LocalNatsServer implements NatsServer {
  readonly storeDir: string;
  private run: Run | undefined;
  private ports: Ports | undefined;
  private stopping: Promise<void> | undefined;
  private cleanedUp: Promise<void> | undefined;

  constructor(
    private readonly bin: string,
    readonly dir: string,
    /** Set when `dir` is ours to remove: forgets it in the exit hook. */
    private readonly forgetDir: (() => void) | undefined,
    private readonly opts: NatsServerOptions,
  ) {
    this.storeDir = path.join(dir, "jetstream-store");
  }

  get url(): string {
    return `nats://${HOST}:${this.port}`;
  }
  get port(): number {
    return this.knownPorts().client;
  }
  get monitorUrl(): string {
    return `http://${HOST}:${this.knownPorts().monitor}`;
  }
  get clusterPort(): number | undefined {
    return this.knownPorts().cluster;
  }
  get pid(): number {
    return this.run?.child.pid ?? -1;
  }
  get serverName(): string | undefined {
    return this.opts.serverName;
  }
  get state(): NatsServerState {
    const run = this.run;
    if (!run || run.exit) return "exited";
    if (this.stopping) return "stopping";
    return run.paused ? "paused" : "running";
  }

  /** Writes the config, spawns the process and waits until it is ready. */
  async launch(): Promise<void> {
    const confPath = path.join(this.dir, "nats-server.conf");
    const jetstream = this.opts.jetstream ?? true;
    await writeFile(
      confPath,
      renderConfig({
        host: HOST,
        port: this.ports?.client ?? this.opts.port ?? -1,
        httpPort: this.ports?.monitor ?? -1,
        portsFileDir: this.dir,
        storeDir: jetstream ? this.storeDir : undefined,
        serverName: this.opts.serverName,
        maxPayload: this.opts.maxPayload,
        cluster: this.opts.cluster,
        jetstreamDomain: this.opts.jetstreamDomain,
        leafnodes: this.opts.leafnodes,
        mqttPort: this.opts.mqttPort,
        extraConfig: this.opts.extraConfig,
      }),
    );
    const run = spawnServer(this.bin, confPath, this.opts.serverName ?? "nats-server", this.opts.debug);
    this.run = run;
    const healthPath = jetstream ? "/healthz?js-enabled-only=true" : "/healthz";
    this.ports = await this.waitReady(run, healthPath);
  }

  private async waitReady(run: Run, healthPath: string): Promise<Ports> {
    const timeoutMs = this.opts.readyTimeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    let ports: Ports | undefined;
    let lastProblem = "no ports file yet";
    for (;;) {
      if (run.exit) throw this.startupExitError(run, run.exit);
      if (Date.now() > deadline) {
        run.child.kill("SIGKILL");
        await run.exited;
        throw this.unavailable(
          `nats-server was not ready within ${timeoutMs} ms (last problem: ${lastProblem})`,
          "timeout",
          run,
        );
      }
      ports ??= await readPortsFile(this.dir, run.child.pid);
      if (ports) {
        try {
          const res = await monitorGet(`http://${HOST}:${ports.monitor}${healthPath}`, 1_000);
          if (res.status === 200) return ports;
          lastProblem = `healthz answered ${res.status}: ${res.body.trim()}`;
        } catch (err) {
          lastProblem = `healthz: ${err instanceof Error ? err.message : String(err)}`;
        }
      }
      await sleep(POLL_MS);
    }
  }

  private startupExitError(run: Run, exit: ExitInfo): NatsServerUnavailableError {
    if (exit.spawnError) {
      return new NatsServerUnavailableError(
        `${NATS_SERVER_INSTALL_HINT} Running "${this.bin}" failed: ${exit.spawnError.message}`,
        { cause: exit.spawnError, details: { reason: "not-found", natsServerBin: this.bin } },
      );
    }
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    const inUse = run.log.includes("address already in use");
    return this.unavailable(
      `nats-server exited during startup (${how})${inUse ? ": a port it needs is already in use" : ""}`,
      inUse ? "address-in-use" : "exited",
      run,
    );
  }

  private unavailable(message: string, reason: string, run: Run): NatsServerUnavailableError {
    return new NatsServerUnavailableError(
      `${message}\n--- last nats-server log lines ---\n${run.log.text()}`,
      {
        details: { reason, dir: this.dir, serverName: this.opts.serverName },
      },
    );
  }

  private knownPorts(): Ports {
    if (!this.ports) throw new NatsServerUnavailableError("nats-server has not started yet");
    return this.ports;
  }

  stop(): Promise<void> {
    const run = this.run;
    if (!run || run.exit) return Promise.resolve();
    this.stopping ??= this.terminate(run).finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async terminate(run: Run): Promise<void> {
    run.child.kill("SIGTERM");
    if (run.paused) run.child.kill("SIGCONT");
    const graceMs = this.opts.stopGraceMs ?? 5_000;
    if ((await raceTimeout(run.exited, graceMs)) === TIMED_OUT) {
      run.child.kill("SIGKILL");
      await run.exited;
    }
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const run = this.run;
    if (!run || run.exit) return;
    run.child.kill(signal);
    if (signal === "SIGSTOP") {
      run.paused = true;
      // A signal is delivered asynchronously: resolve once the process is really stopped, so a
      // fault test's next step never races the pause.
      await waitForProcessState(run.child.pid, (state) => state === "T" || state === "t");
    } else if (signal === "SIGCONT") {
      run.paused = false;
      await waitForProcessState(run.child.pid, (state) => state !== "T" && state !== "t");
    } else if (TERMINATING.has(signal)) {
      if (run.paused) run.child.kill("SIGCONT");
      await run.exited;
    }
  }

  async restart(): Promise<void> {
    if (this.cleanedUp) {
      throw new NatsServerUnavailableError("restart() after cleanup(): this server is gone", {
        details: { reason: "cleaned-up", dir: this.dir },
      });
    }
    await this.stop();
    await this.launch();
  }

  cleanup(): Promise<void> {
    this.cleanedUp ??= (async () => {
      await this.stop();
      if (this.forgetDir) {
        await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
        this.forgetDir();
      }
    })();
    return this.cleanedUp;
  }

  jsz(opts: { streams?: boolean } = {}): Promise<Jsz> {
    return monitorJson<Jsz>(`${this.monitorUrl}/jsz${opts.streams ? "?streams=true" : ""}`);
  }

  recentLog(): string {
    return this.run?.log.text() ?? "";
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.cleanup();
  }
}
