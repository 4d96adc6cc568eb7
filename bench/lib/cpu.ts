/**
 * CPU accounting per side: how many CPU microseconds each process (caller, host or responder,
 * nats-server) spent per operation. On a 2-core machine the three processes share the cores, so
 * CPU per operation, more than latency, explains throughput.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { WorkerProc } from "./ipc.js";

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU time of any process, in microseconds (Linux /proc; NaN elsewhere). */
export function procCpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return (ticks / clockTicks()) * 1e6;
  } catch {
    return Number.NaN;
  }
}

export interface ProcUsage {
  /** User + system CPU time, µs. */
  cpuUs: number;
  /** write(2)-family system calls so far (Linux /proc/self/io; NaN elsewhere). */
  writes: number;
}

/** This process's CPU time and write syscalls (worker-side `cpu` command). */
export function selfUsage(): ProcUsage {
  const u = process.cpuUsage();
  let writes = Number.NaN;
  try {
    writes = Number(readFileSync("/proc/self/io", "utf8").match(/^syscw: (\d+)/m)?.[1] ?? Number.NaN);
  } catch {
    // not Linux
  }
  return { cpuUs: u.user + u.system, writes };
}

export type CpuPerOp = Record<string, number>;

/**
 * `--profile-window DIR`: every measured window also profiles its workers (V8's sampling profiler
 * through `node:inspector`, started `skipMs` into the window to leave the warm-up out), one
 * `.cpuprofile` per worker and window: `DIR/<role>-<n>.cpuprofile`.
 */
let windowProfile: { dir: string; skipMs: number } | undefined;
const profilesTaken = new Map<string, number>();

/** The operations a measured window completed, for loops that report them (`LoopResult.ops`). */
function windowOpsOf(result: unknown): number | undefined {
  const ops = (result as { ops?: unknown } | null)?.ops;
  return typeof ops === "number" ? ops : undefined;
}

export function profileWindows(dir: string, skipMs: number): void {
  windowProfile = { dir, skipMs };
}

/**
 * Runs `body` and returns its result with the CPU each named process spent during it, divided by
 * the operation count `body` reports, and the write syscalls per operation of the workers (how
 * well nats.js could batch outgoing messages into one socket write).
 */
export async function measureCpu<T>(
  workers: Record<string, WorkerProc>,
  natsPid: number,
  body: () => Promise<T>,
  opsOf: (result: T) => number,
): Promise<{ result: T; cpuUsPerOp: CpuPerOp; writesPerOp: Record<string, number> }> {
  const names = Object.keys(workers);
  const read = () => Promise.all(names.map((n) => (workers[n] as WorkerProc).call<ProcUsage>("cpu")));
  const profiled = windowProfile;
  if (profiled) {
    await Promise.all(
      names.map((n) => (workers[n] as WorkerProc).call("profile.start", { delayMs: profiled.skipMs })),
    );
  }
  const before = await read();
  const natsBefore = procCpuMicros(natsPid);
  const result = await body();
  if (profiled) {
    const ops = windowOpsOf(result);
    await Promise.all(
      names.map((n) => {
        const w = workers[n] as WorkerProc;
        const taken = (profilesTaken.get(w.role) ?? 0) + 1;
        profilesTaken.set(w.role, taken);
        const base = path.join(profiled.dir, `${w.role}-${taken}`);
        return Promise.all([
          w.call("profile.stop", { file: `${base}.cpuprofile` }),
          ops === undefined ? undefined : writeFile(`${base}.ops.json`, `${JSON.stringify({ ops })}\n`),
        ]);
      }),
    );
  }
  const after = await read();
  const natsAfter = procCpuMicros(natsPid);
  const ops = opsOf(result);
  const cpuUsPerOp: CpuPerOp = {};
  const writesPerOp: Record<string, number> = {};
  names.forEach((n, i) => {
    const a = after[i] as ProcUsage;
    const b = before[i] as ProcUsage;
    cpuUsPerOp[n] = (a.cpuUs - b.cpuUs) / ops;
    writesPerOp[n] = (a.writes - b.writes) / ops;
  });
  cpuUsPerOp.nats = (natsAfter - natsBefore) / ops;
  return { result, cpuUsPerOp, writesPerOp };
}

/** `9.1 + 13.0 + 5.8 = 27.9` (in the order measured: client, server, nats). */
export function fmtCpu(cpu: CpuPerOp | undefined): string {
  if (!cpu) return "";
  const values = Object.values(cpu);
  if (values.some((v) => !Number.isFinite(v))) return "";
  const total = values.reduce((a, b) => a + b, 0);
  return `${values.map((v) => v.toFixed(1)).join(" + ")} = ${total.toFixed(1)}`;
}
