/**
 * Saying why a child process tree (npm → troupe → nats-server...) did not exit: what each Node
 * process in its group was doing (a diagnostic report: JS stack and the libuv handles keeping it
 * alive) and `ps`. Used by cli-process.ts when a bounded wait for an exit runs out.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Environment for a child whose Node processes should write a diagnostic report into `dir` on
 * SIGUSR2 (what {@link diagnose} asks for).
 */
export function reportEnv(dir: string): Record<string, string> {
  const flags = ["--report-on-signal", "--report-signal=SIGUSR2", `--report-directory=${dir}`];
  return { NODE_OPTIONS: [process.env.NODE_OPTIONS ?? "", ...flags].join(" ").trim() };
}

/** A new folder for {@link reportEnv}'s reports. */
export function reportDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), "troupe-exit-reports-"));
}

/** `ps` of the process group, and what each Node process in it is doing and what holds it open. */
export async function diagnose(pgid: number, dir: string): Promise<string> {
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
