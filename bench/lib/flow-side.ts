/**
 * The parent side of a flow row (tell, jobs, pub-sub): one side measured as a warm-up run, then a
 * run whose CPU per operation is read from the client, the server and nats-server; throughput is
 * what the receiver completed over its first-to-last span (see bench/lib/flow.ts).
 *
 * @example
 * ```ts
 * const runner = flowSide(ctx, { rowId: "jobs", label: "raw (baseline)", impl: "raw", client, server,
 *   measure: (ms) => runOnce("raw", ms), note: (_s, r) => `${r.received} jobs, all run` });
 * ```
 */
import { measureCpu } from "./cpu.js";
import type { ReceiveResult, SendResult } from "./flow.js";
import type { WorkerProc } from "./ipc.js";
import type { Side } from "./report.js";
import type { SideRunner } from "./rounds.js";
import type { BenchContext } from "./scenario.js";

export interface FlowSideOptions {
  rowId: string;
  label: string;
  impl: "troupe" | "raw";
  /** The sending process and the receiving one, whose CPU is counted with nats-server's. */
  client: WorkerProc;
  server: WorkerProc;
  /** One run of `ms` (warm-up or measured): what was sent and what the receiver completed. */
  measure: (ms: number) => Promise<{ s: SendResult; r: ReceiveResult }>;
  /** Checks a measured run (throw to fail the round). */
  verify?: (s: SendResult, r: ReceiveResult) => void;
  /** The row's detail text for a measured run. */
  note: (s: SendResult, r: ReceiveResult) => string;
}

export function flowSide(ctx: BenchContext, o: FlowSideOptions): SideRunner {
  return {
    run: async (round): Promise<Side> => {
      ctx.log(`${o.rowId}: ${o.label}${ctx.settings.rounds > 1 ? ` (round ${round + 1})` : ""}`);
      await o.measure(ctx.settings.warmupMs);
      const {
        result: { s, r },
        cpuUsPerOp,
        writesPerOp,
      } = await measureCpu(
        { client: o.client, server: o.server },
        ctx.natsPid,
        () => o.measure(ctx.settings.durationMs),
        (res) => res.r.received,
      );
      o.verify?.(s, r);
      return {
        label: o.label,
        impl: o.impl,
        ...(o.impl === "raw" ? { baseline: true } : {}),
        opsPerSec: r.spanMs > 0 ? (r.received / r.spanMs) * 1000 : 0,
        count: r.received,
        cpuUsPerOp,
        writesPerOp,
        note: o.note(s, r),
      };
    },
  };
}
