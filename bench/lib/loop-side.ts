/**
 * A request-style side measured the one way every such row measures it: a loop run by a worker
 * (`LoopResult`), with the CPU of its client and server processes and of nats-server per operation.
 */
import { measureCpu } from "./cpu.js";
import type { WorkerProc } from "./ipc.js";
import type { Side } from "./report.js";
import type { LoopResult } from "./stats.js";

/** The measured part of a {@link Side}: throughput, latency, count, CPU and writes per operation. */
export type LoopMeasures = Pick<
  Side,
  "opsPerSec" | "p50Ms" | "p99Ms" | "count" | "cpuUsPerOp" | "writesPerOp"
>;

/**
 * Runs `loop` (a worker's loop command) under {@link measureCpu}: what a side reports, and the
 * operations of the whole run, warm-up included (for totals per operation, such as bytes exported).
 */
export async function measureLoop(
  processes: { client: WorkerProc; server: WorkerProc },
  natsPid: number,
  loop: () => Promise<LoopResult>,
): Promise<{ measures: LoopMeasures; totalOps: number }> {
  const {
    result: r,
    cpuUsPerOp,
    writesPerOp,
  } = await measureCpu(processes, natsPid, loop, (res) => res.totalOps);
  const measures = {
    opsPerSec: r.opsPerSec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    count: r.ops,
    cpuUsPerOp,
    writesPerOp,
  };
  return { measures, totalOps: r.totalOps };
}
