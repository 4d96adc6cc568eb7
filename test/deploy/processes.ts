/** `troupe <command>` child processes (from the sources, or from a built folder) for the deploy tests. */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecutionContext } from "ava";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface TroupeProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** Every line it wrote, stdout and stderr. */
  readonly output: string[];
  /** Resolves with the first match of `pattern` in a line; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  /** Node arguments before the script; default: run the TypeScript sources through tsx. */
  nodeArgs?: string[];
  /** The troupe entry script; default bin/troupe.js of this checkout. */
  bin?: string;
  cwd?: string;
}

export function spawnTroupe(t: ExecutionContext, args: string[], options: SpawnOptions = {}): TroupeProcess {
  const nodeArgs = options.nodeArgs ?? ["--conditions=troupe-source", "--import", "tsx"];
  const child = spawn(
    process.execPath,
    [...nodeArgs, options.bin ?? path.join(root, "bin/troupe.js"), ...args],
    {
      cwd: options.cwd ?? root,
      env: { ...process.env, TROUPE_LOG_LEVEL: "info", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output: string[] = [];
  const waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  let alive = true;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then(() => {
    alive = false;
  });
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line) continue;
      output.push(line);
      if (process.env.TROUPE_TEST_ECHO === "1") process.stderr.write(`[troupe ${args[0]}] ${line}\n`);
      for (const w of [...waiters]) {
        const m = w.pattern.exec(line);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  t.teardown(async () => {
    if (!alive) return;
    child.kill("SIGKILL");
    await exited;
  });
  return {
    child,
    exited,
    output,
    waitFor(pattern) {
      for (const line of output) {
        const m = pattern.exec(line);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then((code) =>
          reject(
            new Error(
              `troupe ${args.join(" ")} exited (${code}) before ${pattern}:\n${output.slice(-15).join("\n")}`,
            ),
          ),
        );
      });
    },
    kill(signal = "SIGTERM") {
      if (alive) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `check` until it returns a value other than undefined, failing after `withinMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  withinMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = performance.now() + withinMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline)
      throw new Error(`${what}: not within ${withinMs} ms (last error: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
