/**
 * Waiting for a child process tree (npm → troupe → nats-server...) to exit, bounded, and saying why
 * it did not: a process that hangs instead of exiting is reported with what each Node process in its
 * group was doing (a diagnostic report: JS stack and the libuv handles keeping it alive) and `ps`.
 */
import { type ChildProcess, execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface ExitWatch {
  /** Environment additions for the child: Node processes in it write a diagnostic report on SIGUSR2. */
  env: Record<string, string>;
  /** Resolves with "exit N" or the signal name; rejects after `timeoutMs` with diagnostics. */
  wait(timeoutMs: number): Promise<string>;
  /** Removes the report folder. */
  remove(): Promise<void>;
}

/** Call before spawning `child` with `{ ...env, ...watch.env }`, then `watch.attach(child)`. */
export async function exitWatch(): Promise<ExitWatch & { attach(child: ChildProcess): void }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-exit-reports-"));
  let child: ChildProcess | undefined;
  let exited: Promise<string> | undefined;
  const nodeOptions = [
    process.env.NODE_OPTIONS ?? "",
    "--report-on-signal",
    "--report-signal=SIGUSR2",
    `--report-directory=${dir}`,
  ]
    .join(" ")
    .trim();
  return {
    env: { NODE_OPTIONS: nodeOptions },
    attach(c) {
      child = c;
      exited = new Promise((resolve) => c.on("exit", (code, signal) => resolve(signal ?? `exit ${code}`)));
    },
    async wait(timeoutMs) {
      if (!child || !exited) throw new Error("exitWatch: attach(child) first");
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        exited,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (outcome !== undefined) return outcome;
      throw new Error(
        `process group ${child.pid} did not exit within ${timeoutMs} ms:\n${await diagnose(child.pid as number, dir)}`,
      );
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

async function diagnose(pgid: number, dir: string): Promise<string> {
  const ps = await run("ps", ["-o", "pid,ppid,stat,etime,args", "-g", String(pgid)]).then(
    (r) => r.stdout,
    (err: Error) => `ps failed: ${err.message}`,
  );
  const nodePids = ps
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length > 4 && /(^|\/)node$/.test(cols[4] ?? ""))
    .map((cols) => Number(cols[0]));
  for (const pid of nodePids) {
    try {
      process.kill(pid, "SIGUSR2");
    } catch {
      // gone meanwhile
    }
  }
  // Reports are written by each process when it handles the signal: wait until one per process is
  // there, or give up after a while (a process blocked in native code writes none).
  let files: string[] = [];
  for (let i = 0; i < 100 && files.length < nodePids.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    files = (await readdir(dir)).filter((f) => f.endsWith(".json"));
  }
  const reports = await Promise.all(files.map((f) => readFile(path.join(dir, f), "utf8").then(summarise)));
  return [ps, `${files.length} of ${nodePids.length} node processes wrote a report`, ...reports].join("\n");
}

interface Report {
  header?: { processId?: number; commandLine?: string[] };
  javascriptStack?: { message?: string; stack?: string[] };
  libuv?: { type: string; is_active?: boolean; is_referenced?: boolean; [k: string]: unknown }[];
}

function summarise(text: string): string {
  let report: Report;
  try {
    report = JSON.parse(text) as Report;
  } catch {
    return `unreadable report: ${text.slice(0, 200)}`;
  }
  const holding = (report.libuv ?? [])
    .filter((h) => h.is_active && h.is_referenced)
    .map((h) => JSON.stringify(h));
  return [
    `-- pid ${report.header?.processId}: ${(report.header?.commandLine ?? []).join(" ")}`,
    `   js: ${report.javascriptStack?.message ?? ""} ${(report.javascriptStack?.stack ?? []).slice(0, 8).join(" | ")}`,
    `   active referenced handles: ${holding.length > 0 ? holding.join("; ") : "none"}`,
  ].join("\n");
}
