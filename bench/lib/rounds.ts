/**
 * Repeated, interleaved measurement. On a small shared machine a single run of one side can land
 * on a noisy few seconds; running the sides of a row in rotating order for several rounds and
 * keeping the median of each metric makes the ratios far more stable than one long run.
 */
import type { Side } from "./report.js";

export interface SideRunner {
  /** Measures one round of this side. */
  run(round: number): Promise<Side>;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function medianOf(rounds: Side[], pick: (s: Side) => number | undefined): number | undefined {
  const values = rounds.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return values.length > 0 ? median(values) : undefined;
}

/** Combines the rounds of one side: the median of every metric, and the spread of ops/s in the note. */
export function combineRounds(rounds: Side[]): Side {
  const first = rounds[0];
  if (!first) throw new Error("no rounds to combine");
  if (rounds.length === 1) return first;
  const out: Side = { ...first, count: Math.round(medianOf(rounds, (s) => s.count) ?? 0) };
  const set = <K extends "opsPerSec" | "p50Ms" | "p99Ms" | "bytesPerActor">(key: K) => {
    const v = medianOf(rounds, (s) => s[key]);
    if (v === undefined) delete out[key];
    else out[key] = v;
  };
  set("opsPerSec");
  set("p50Ms");
  set("p99Ms");
  set("bytesPerActor");
  if (first.cpuUsPerOp) {
    const cpu: Record<string, number> = {};
    for (const k of Object.keys(first.cpuUsPerOp)) {
      cpu[k] = medianOf(rounds, (s) => s.cpuUsPerOp?.[k]) ?? Number.NaN;
    }
    out.cpuUsPerOp = cpu;
  }
  if (first.writesPerOp) {
    const writes: Record<string, number> = {};
    for (const k of Object.keys(first.writesPerOp)) {
      writes[k] = medianOf(rounds, (s) => s.writesPerOp?.[k]) ?? Number.NaN;
    }
    out.writesPerOp = writes;
  }
  const ops = rounds.map((s) => s.opsPerSec).filter((v): v is number => v !== undefined);
  const spread =
    ops.length > 1
      ? `median of ${rounds.length} rounds (ops/s ${Math.round(Math.min(...ops)).toLocaleString("en-US")}–${Math.round(Math.max(...ops)).toLocaleString("en-US")})`
      : `median of ${rounds.length} rounds`;
  out.note = first.note ? `${spread}; ${first.note}` : spread;
  return out;
}

/**
 * Runs every side `rounds` times, rotating the order each round (A B C, B C A, C A B...), and
 * returns one combined side per runner, in the runners' order.
 */
export async function interleavedRounds(runners: SideRunner[], rounds: number): Promise<Side[]> {
  const results: Side[][] = runners.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runners.length; k++) {
      const i = (k + r) % runners.length;
      (results[i] as Side[]).push(await (runners[i] as SideRunner).run(r));
    }
  }
  return results.map(combineRounds);
}
