/**
 * Parent <-> worker plumbing. The bench parent spawns each side of a scenario (caller, Troupe host,
 * raw responder) as its own Node process running `bench/worker.ts` and drives it with small
 * request/response commands over the IPC channel. Measurement traffic never goes over IPC: only
 * "start", "stop", "report" style commands do.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const WORKER_PATH = fileURLToPath(new URL("../worker.ts", import.meta.url));
const REPO_ROOT = path.resolve(path.dirname(WORKER_PATH), "..");
const BUILT_REGISTER = fileURLToPath(new URL("./built-register.mjs", import.meta.url));

/** Node flags of a worker that runs the TypeScript sources (runtime and bench) through tsx. */
const SOURCE_NODE_ARGS = ["--conditions=troupe-source", "--import", "tsx"];

interface CallMessage {
  id: number;
  cmd: string;
  args: unknown;
}

type ReplyMessage = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

interface ReadyMessage {
  ready: true;
}

export interface SpawnOptions {
  /** Extra Node flags (e.g. `--expose-gc`, `--cpu-prof`). */
  nodeArgs?: string[];
  /** Passed to the worker as its environment additions. */
  env?: Record<string, string>;
  /**
   * A tsc build of the runtime and the bench (`tsc -p tsconfig.bench.json --outDir DIR`): the
   * worker runs `DIR/bench/worker.js`, plain JavaScript, with `troupe` resolved into DIR. Without
   * it the worker runs the TypeScript sources through tsx.
   */
  build?: string;
}

/** A worker process seen from the parent. */
export class WorkerProc {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exitError: Error | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly role: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitError = new Error(
          `bench worker "${role}" exited (${signal ? `signal ${signal}` : `code ${code}`})`,
        );
        for (const p of this.pending.values()) p.reject(this.exitError);
        this.pending.clear();
        resolve();
      });
    });
    child.on("message", (raw: unknown) => {
      const msg = raw as ReplyMessage;
      const waiting = this.pending.get(msg.id);
      if (!waiting) return;
      this.pending.delete(msg.id);
      if (msg.ok) waiting.resolve(msg.value);
      else waiting.reject(new Error(`${role}: ${msg.error}`));
    });
  }

  /** Spawns `bench/worker.ts <role>` (or its build) and waits until it says it is ready for commands. */
  static async spawn(role: string, options: SpawnOptions = {}): Promise<WorkerProc> {
    const build = options.build;
    const [loader, script] = build
      ? [["--import", BUILT_REGISTER], path.join(build, "bench", "worker.js")]
      : [SOURCE_NODE_ARGS, WORKER_PATH];
    const child = spawn(process.execPath, [...loader, ...(options.nodeArgs ?? []), script, role], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, ...options.env, ...(build ? { TROUPE_BENCH_BUILT: build } : {}) },
    });
    const worker = new WorkerProc(role, child);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: unknown) => {
        if ((m as ReadyMessage).ready) {
          child.off("message", onMessage);
          resolve();
        }
      };
      child.on("message", onMessage);
      child.once("error", reject);
      void worker.exited.then(() => reject(worker.exitError));
    });
    return worker;
  }

  /** Runs `cmd` in the worker and resolves with what it returned. */
  call<T = unknown>(cmd: string, args: unknown = {}): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const msg: CallMessage = { id, cmd, args };
      this.child.send(msg);
    });
  }

  /** Asks the worker to close its connections and exit; kills it if it does not within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exitError) return;
    this.call("exit").catch(() => {});
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exitError) this.child.kill("SIGKILL");
  }
}

/** Spawns several workers at once and stops them all in `finally`, even when one fails to start. */
export async function withWorkers<T>(
  specs: Record<string, SpawnOptions>,
  body: (workers: Record<string, WorkerProc>) => Promise<T>,
): Promise<T> {
  const entries = Object.entries(specs);
  const started = await Promise.allSettled(entries.map(([role, opts]) => WorkerProc.spawn(role, opts)));
  const workers: Record<string, WorkerProc> = {};
  for (const [i, s] of started.entries()) {
    if (s.status === "fulfilled") workers[(entries[i] as [string, SpawnOptions])[0]] = s.value;
  }
  try {
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return await body(workers);
  } finally {
    await Promise.all(Object.values(workers).map((w) => w.stop()));
  }
}

// ---------------------------------------------------------------------------------------------
// Worker side

export type CommandHandler = (args: never) => unknown;
export type CommandTable = Record<string, CommandHandler>;

/** Serves commands from the parent over IPC; exits when the parent goes away. */
export function serveCommands(commands: CommandTable): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error("bench/worker.ts must be started by bench/run.ts (it needs an IPC channel)");
  process.on("disconnect", () => process.exit(1));
  process.on("message", (raw: unknown) => {
    const msg = raw as CallMessage;
    const handler = commands[msg.cmd];
    const reply = (r: ReplyMessage) => {
      if (process.connected) send(r);
    };
    if (!handler) {
      reply({ id: msg.id, ok: false, error: `unknown command ${msg.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => (handler as (a: unknown) => unknown)(msg.args))
      .then(
        (value) => reply({ id: msg.id, ok: true, value: value ?? null }),
        (err: unknown) =>
          reply({
            id: msg.id,
            ok: false,
            error: err instanceof Error ? (err.stack ?? err.message) : String(err),
          }),
      );
  });
  send({ ready: true } satisfies ReadyMessage);
}
