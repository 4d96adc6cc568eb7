import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import type net from "node:net";

/**
 * Makes sure no nats-server outlives the process that started it.
 *
 * Two layers: a `process.on("exit")` hook SIGKILLs every tracked child (covers normal exits and
 * `process.exit()`), and a tiny watchdog process, started on first use, holds the pids too and
 * SIGKILLs them when its stdin pipe closes, i.e. when this process dies in a way that runs no
 * hook (SIGKILL, a test runner's timeout, an uncaught signal, a SIGKILL to the whole process
 * group). The watchdog is unref'd and never keeps this process alive.
 *
 * Temp folders registered with `removeOnExit` are removed by the same exit hook (a hard kill
 * leaves them behind in the OS temp folder).
 */

const tracked = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let watchdog: ChildProcess | undefined;
let installed = false;

const WATCHDOG_SOURCE = `
const pids = new Set();
let buf = "";
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => {});
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf("\\n")) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    const pid = Number(line.slice(1));
    if (line[0] === "+") pids.add(pid); else pids.delete(pid);
  }
});
process.stdin.on("end", () => {
  for (const pid of pids) { try { process.kill(pid, "SIGKILL"); } catch {} }
  process.exit(0);
});
`;

/** Registers a freshly spawned child; it is forgotten again once it exits. */
export function trackChild(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  install();
  tracked.add(child);
  tellWatchdog(`+${pid}\n`);
  child.once("exit", () => {
    tracked.delete(child);
    tellWatchdog(`-${pid}\n`);
  });
}

/** Removes `dir` when this process exits, unless the returned function is called first. */
export function removeOnExit(dir: string): () => void {
  install();
  tempDirs.add(dir);
  return () => {
    tempDirs.delete(dir);
  };
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", () => {
    for (const child of tracked) child.kill("SIGKILL");
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  startWatchdog();
}

function startWatchdog(): void {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const child = spawn(process.execPath, ["-e", WATCHDOG_SOURCE], {
    stdio: ["pipe", "ignore", "ignore"],
    env,
    // Its own process group: a SIGKILL to this process's group (a test's teardown, `kill -9 -pgid`)
    // must not take the watchdog down with it, or the servers it guards (which run in their own
    // groups) would be left behind. It ends when this process does, through its stdin.
    detached: true,
  });
  child.on("error", (err) => {
    watchdog = undefined;
    process.emitWarning(`troupe: nats-server orphan watchdog unavailable: ${err.message}`);
  });
  child.on("exit", () => {
    watchdog = undefined;
  });
  child.stdin?.on("error", (err) => {
    watchdog = undefined;
    process.emitWarning(`troupe: nats-server orphan watchdog pipe failed: ${err.message}`);
  });
  child.unref();
  (child.stdin as net.Socket | null)?.unref();
  watchdog = child;
}

function tellWatchdog(line: string): void {
  const stdin = watchdog?.stdin;
  if (stdin && !stdin.destroyed) stdin.write(line);
}
