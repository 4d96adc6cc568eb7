/**
 * The nats-server process behind a `NatsServer` (nats-server.ts): spawning it, reading the ports it
 * chose from its ports file, waiting for signals to take effect, and bounded waits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { LogTail } from "./log-tail.js";
import { trackChild } from "./orphan-guard.js";

const LOG_LINES = 40;
/** Signals after which the process is gone (a paused one is continued first, so it can exit). */
export const TERMINATING = new Set<NodeJS.Signals>(["SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT"]);

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all. */
  spawnError?: Error;
}

/** One process of a server; `restart()` makes a new one. */
export interface Run {
  child: ChildProcess;
  exited: Promise<ExitInfo>;
  exit: ExitInfo | undefined;
  paused: boolean;
  log: LogTail;
}

export interface Ports {
  client: number;
  monitor: number;
  cluster: number | undefined;
}

/** Spawns nats-server on `confPath`, its output kept in a log tail (echoed to stderr with `debug`). */
export function spawnServer(bin: string, confPath: string, label: string, debug: boolean | undefined): Run {
  const echo = debug ? (line: string) => process.stderr.write(`[${label}] ${line}\n`) : undefined;
  const log = new LogTail(LOG_LINES, echo);
  // Its own process group: a Ctrl-C aimed at the parent (e.g. `troupe dev`) must not stop the server
  // before the parent has drained its hosts through it. The orphan guard still kills it on exit.
  const child = spawn(bin, ["-c", confPath], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once("error", (err) => {
      // Only a failed spawn is final; a failed kill() leaves the process running.
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError: err });
    });
    child.once("close", (code, signal) => resolve({ code, signal }));
  }).then((exit) => {
    run.exit = exit;
    return exit;
  });
  const run: Run = { child, exited, exit: undefined, paused: false, log };
  log.follow(child.stdout);
  log.follow(child.stderr);
  trackChild(child);
  return run;
}

/** Reads `<exe>_<pid>.ports`; `undefined` until the server has written it completely. */
export async function readPortsFile(dir: string, pid: number | undefined): Promise<Ports | undefined> {
  if (pid === undefined) return undefined;
  const name = (await readdir(dir)).find((f) => f.endsWith(`_${pid}.ports`));
  if (!name) return undefined;
  let parsed: { nats?: string[]; client?: string[]; monitoring?: string[]; cluster?: string[] };
  try {
    parsed = JSON.parse(await readFile(path.join(dir, name), "utf8"));
  } catch (err) {
    if (err instanceof SyntaxError) return undefined; // caught mid-write; read again next poll
    throw err;
  }
  const client = portOf(parsed.nats?.[0] ?? parsed.client?.[0]);
  const monitor = portOf(parsed.monitoring?.[0]);
  if (client === undefined || monitor === undefined) return undefined;
  return { client, monitor, cluster: portOf(parsed.cluster?.[0]) };
}

function portOf(url: string | undefined): number | undefined {
  if (!url) return undefined;
  const port = Number(new URL(url).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

export const TIMED_OUT = Symbol("timed out");

/** Like `Promise.race` with a timer, but clears the timer so it never holds the process open. */
export async function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits (up to 5 s) until the process's state letter in /proc/<pid>/stat satisfies `ok`. Where
 * /proc does not exist (not Linux) it returns at once.
 */
export async function waitForProcessState(
  pid: number | undefined,
  ok: (state: string) => boolean,
): Promise<void> {
  if (pid === undefined) return;
  const end = Date.now() + 5_000;
  while (Date.now() < end) {
    let stat: string;
    try {
      stat = await readFile(`/proc/${pid}/stat`, "utf8");
    } catch {
      return; // no /proc, or the process is gone
    }
    // The state follows the parenthesised command name, which may itself contain spaces.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (ok(state)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}
