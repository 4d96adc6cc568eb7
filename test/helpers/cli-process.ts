/**
 * The real `troupe` binary as a child process, for tests of the command line as users run it
 * (bin/troupe.js, which re-executes Node with tsx in a checkout). Every wait is bounded and fails
 * with everything the process printed, so a process that hangs fails the test instead of hanging it.
 *
 * ```ts
 * const dev = startCli(["dev", entry, "--gateway-port", "0"], { env: { TROUPE_DEV_DIR: dir } });
 * t.teardown(() => dev.kill());
 * await dev.waitFor(/dev mesh ready on (\S+)/, 120_000);
 * dev.signal("SIGINT");                       // like Ctrl-C: the whole process group
 * t.is((await dev.exited(60_000)).code, 0);
 * const r = await runCli(["call", "Tally", "t", "add"], { env: { TROUPE_DEV_DIR: dir } });
 * ```
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { diagnose, reportDir, reportEnv } from "./process-exit.js";

export const troupeBin = fileURLToPath(new URL("../../bin/troupe.js", import.meta.url));
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface CliOptions {
  /** Added to the test's environment, from which NATS_URL and every TROUPE_* variable are removed. */
  env?: NodeJS.ProcessEnv;
  /** Default: the repository (where `--import tsx` resolves). */
  cwd?: string;
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved in arrival order. */
  output(): string;
  /** Resolves with the first match in the output; rejects (with the output) on timeout or exit. */
  waitFor(pattern: RegExp | string, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Sends `signal` to the process group, as a terminal does on Ctrl-C. */
  signal(signal: NodeJS.Signals): void;
  /** Resolves when the process exited; rejects (with the output) if it has not within `timeoutMs`. */
  exited(timeoutMs: number): Promise<CliExit>;
  /** SIGKILL to the process group, if still running (for teardown). */
  kill(): void;
}

/** The test's environment without NATS_URL and TROUPE_*, plus `extra`. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name !== "NATS_URL" && !name.startsWith("TROUPE_")) env[name] = value;
  }
  return { ...env, ...extra };
}

export function startCli(args: string[], options: CliOptions = {}): CliProcess {
  return startProcess(process.execPath, [troupeBin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: cliEnv(options.env),
    name: `troupe ${args.join(" ")}`,
  });
}

/**
 * Any command as a {@link CliProcess} (e.g. `sh -c "npm run dev"`), in its own process group, with
 * exactly the environment given.
 */
export function startProcess(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; name?: string },
): CliProcess {
  // If it does not exit when asked, its Node processes are asked for a diagnostic report.
  const reports = reportDir();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...options.env, ...reportEnv(reports) },
    detached: true, // its own process group, so signal() reaches it like Ctrl-C
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let output = "";
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const l of listeners) l();
  };
  child.stdout?.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
    output += c;
    changed();
  });
  child.stderr?.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
    output += c;
    changed();
  });
  let exit: CliExit | undefined;
  const exitedPromise = new Promise<CliExit>((resolve) => {
    child.on("close", (code, signal) => {
      rmSync(reports, { recursive: true, force: true });
      exit = { code, signal };
      resolve(exit);
      changed();
    });
  });
  const describe = () => options.name ?? [command, ...args].join(" ");

  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => output,
    waitFor(pattern, timeoutMs) {
      const find = () =>
        typeof pattern === "string"
          ? output.includes(pattern)
            ? ([pattern] as RegExpMatchArray)
            : null
          : output.match(pattern);
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = find();
          if (found) {
            done();
            resolve(found);
          } else if (exit) {
            done();
            reject(
              new Error(
                `${describe()} exited (${exit.signal ?? exit.code}) before printing ${pattern}:\n${output}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${describe()} printed no ${pattern} within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    signal(signal) {
      if (child.pid !== undefined && exit === undefined) process.kill(-child.pid, signal);
    },
    exited(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const pid = child.pid as number;
          void diagnose(pid, reports).then((why) =>
            reject(new Error(`${describe()} did not exit within ${timeoutMs} ms:\n${output}\n${why}`)),
          );
        }, timeoutMs);
      });
      return Promise.race([exitedPromise, timeout]).finally(() => clearTimeout(timer));
    },
    kill() {
      if (child.pid === undefined || exit !== undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}

/** Runs a short `troupe` command to its end (at most `timeoutMs`, default 120 s). */
export async function runCli(
  args: string[],
  options: CliOptions & { timeoutMs?: number } = {},
): Promise<CliExit & { stdout: string; stderr: string; output: string }> {
  const cli = startCli(args, options);
  try {
    const exit = await cli.exited(options.timeoutMs ?? 120_000);
    return { ...exit, stdout: cli.stdout(), stderr: cli.stderr(), output: cli.output() };
  } finally {
    cli.kill();
  }
}
