/**
 * What a benchmark run produces: rows of sides (Troupe and its raw baselines), the ratios between
 * them, and issue 7's targets evaluated on them. Also the JSON document `--json` writes.
 */
import { execFileSync } from "node:child_process";
import os from "node:os";

export type Impl = "troupe" | "raw";

/** One implementation doing a row's work. */
export interface Side {
  /** e.g. "Troupe", "raw mux (baseline)", "raw nc.request()". */
  label: string;
  impl: Impl;
  /** The raw side ratios are computed against (the fastest raw pattern). */
  baseline?: boolean;
  /** Completed operations (or received messages) per second in the measured window. */
  opsPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Measured operations / received messages / activated actors. */
  count: number;
  /** Idle-memory rows: heap bytes per activated actor (after GC). */
  bytesPerActor?: number;
  /**
   * Cost rows (tracing off): nanoseconds of CPU per operation; the row's overhead is the Troupe
   * side's divided by the baseline's.
   */
  nsPerOp?: number;
  /**
   * CPU microseconds per operation of each process, in order: client (caller / sender), server
   * (Troupe host / raw responder / subscriber) and `nats` (nats-server). Includes the warm-up.
   */
  cpuUsPerOp?: Record<string, number>;
  /** Socket write syscalls per operation of the client and server processes. */
  writesPerOp?: Record<string, number>;
  /** Placement rows (issue 17): a host's CPU milliseconds per second while idle (mean over hosts). */
  cpuMsPerSec?: number;
  /** Placement rows: KV writes and messages delivered to a host's connection, per host per second. */
  kvWritesPerSec?: number;
  deliveriesPerSec?: number;
  /** Placement takeover: milliseconds from the SIGKILL until every shard answered, and the target. */
  allServedMs?: number;
  targetMs?: number;
  /** Placement moves (model): shards moved on a join or a leave over the ideal, the larger mean. */
  movesRatio?: number;
  /** Free-form detail shown after the numbers (e.g. "received 100% of 1.2M"). */
  note?: string;
}

export type TargetMetric =
  | "opsRatio"
  | "p50Ratio"
  | "p50Ms"
  | "bytesPerActor"
  | "overheadPct"
  | "cpuRatio"
  | "kvWritesPerSec"
  | "takeoverRatio"
  | "movesRatio";

/** A target (issue 7, issue 17): `metric` of the Troupe side must be `<= limit` ("max") or `>= limit` ("min"). */
export interface Target {
  text: string;
  metric: TargetMetric;
  limit: number;
  direction: "min" | "max";
}

export interface TargetResult extends Target {
  value: number;
  pass: boolean;
}

export interface Row {
  /** Stable id (used by the smoke test and in JSON), e.g. `rr.echo.c64`. */
  id: string;
  title: string;
  sides: Side[];
  /**
   * Troupe / baseline. `cpu`: CPU ms per second (placement); `cpuPerOp`: CPU µs per operation of
   * all processes measured (client, server, nats-server) summed, the steadier figure on a shared
   * machine where throughput swings with the neighbours.
   */
  ratio?: { ops?: number; p50?: number; bytes?: number; overhead?: number; cpu?: number; cpuPerOp?: number };
  target?: TargetResult;
  /** Set when the row could not be measured; the run then exits non-zero. */
  error?: string;
}

/** Declared up front by a scenario so a failure still lists every row it owed. */
export interface RowSpec {
  id: string;
  title: string;
  target?: Target;
}

/** The side a row's ratios are of: Troupe's, or in a row of raw sides only, the one not the baseline. */
export function comparedSide(sides: readonly Side[]): Side | undefined {
  return sides.find((s) => s.impl === "troupe" && !s.baseline) ?? sides.find((s) => !s.baseline);
}

/** Computes ratios (Troupe / baseline) and evaluates the target. */
export function finishRow(spec: RowSpec, sides: Side[]): Row {
  const troupe = comparedSide(sides);
  const base = sides.find((s) => s.baseline) ?? sides.find((s) => s.impl === "raw");
  const ratio: NonNullable<Row["ratio"]> = {};
  if (troupe && base) {
    if (troupe.opsPerSec !== undefined && base.opsPerSec) ratio.ops = troupe.opsPerSec / base.opsPerSec;
    if (troupe.p50Ms !== undefined && base.p50Ms) ratio.p50 = troupe.p50Ms / base.p50Ms;
    if (troupe.bytesPerActor !== undefined && base.bytesPerActor)
      ratio.bytes = troupe.bytesPerActor / base.bytesPerActor;
    if (troupe.nsPerOp !== undefined && base.nsPerOp) ratio.overhead = troupe.nsPerOp / base.nsPerOp;
    if (troupe !== base && troupe.cpuMsPerSec !== undefined && base.cpuMsPerSec)
      ratio.cpu = troupe.cpuMsPerSec / base.cpuMsPerSec;
    const cpuT = totalCpu(troupe);
    const cpuB = totalCpu(base);
    if (troupe !== base && cpuT !== undefined && cpuB) ratio.cpuPerOp = cpuT / cpuB;
  }
  const row: Row = { id: spec.id, title: spec.title, sides, ratio };
  if (spec.target && troupe) {
    const value = metricValue(spec.target.metric, troupe, ratio);
    if (value !== undefined) {
      const pass = spec.target.direction === "max" ? value <= spec.target.limit : value >= spec.target.limit;
      row.target = { ...spec.target, value, pass };
    }
  }
  return row;
}

/** CPU µs per operation of every process a side measured, summed; undefined unless all are known. */
function totalCpu(side: Side): number | undefined {
  const values = side.cpuUsPerOp ? Object.values(side.cpuUsPerOp) : [];
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) return undefined;
  return values.reduce((a, b) => a + b, 0);
}

function metricValue(
  metric: TargetMetric,
  troupe: Side,
  ratio: NonNullable<Row["ratio"]>,
): number | undefined {
  switch (metric) {
    case "opsRatio":
      return ratio.ops;
    case "p50Ratio":
      return ratio.p50;
    case "p50Ms":
      return troupe.p50Ms;
    case "bytesPerActor":
      return troupe.bytesPerActor;
    case "overheadPct":
      return ratio.overhead === undefined ? undefined : ratio.overhead * 100;
    case "cpuRatio":
      return ratio.cpu;
    case "kvWritesPerSec":
      return troupe.kvWritesPerSec;
    case "takeoverRatio":
      return troupe.allServedMs !== undefined && troupe.targetMs
        ? troupe.allServedMs / troupe.targetMs
        : undefined;
    case "movesRatio":
      return troupe.movesRatio;
  }
}

export function failedRow(spec: RowSpec, error: unknown): Row {
  const message = error instanceof Error ? error.message : String(error);
  return { id: spec.id, title: spec.title, sides: [], error: message };
}

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  totalMemoryGiB: number;
  platform: string;
  kernel: string;
  arch: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cpus: os.availableParallelism?.() ?? cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: os.platform(),
    kernel: os.release(),
    arch: os.arch(),
  };
}

/** `nats-server --version` of the binary the bench starts ("2.9.10"). */
export function natsServerVersion(bin: string): string {
  try {
    const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
    return out.match(/v?(\d+\.\d+\.\d+\S*)/)?.[1] ?? out.trim();
  } catch {
    return "unknown";
  }
}

/** The commit the runtime was measured at, and how many runtime files differed from it. */
export interface SourceInfo {
  commit: string;
  /** Files under runtime/ with uncommitted changes (modified or new) when the run started. */
  runtimeChanges: number;
}

export function sourceInfo(root: string): SourceInfo {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
  try {
    const commit = git("rev-parse", "--short", "HEAD");
    const changes = git("status", "--porcelain", "--", "runtime");
    return { commit, runtimeChanges: changes === "" ? 0 : changes.split("\n").length };
  } catch {
    return { commit: "unknown", runtimeChanges: -1 };
  }
}

export interface BenchReport {
  schema: 1;
  mode: "smoke" | "full";
  date: string;
  machine: MachineInfo;
  node: string;
  natsServer: string;
  natsJs: string;
  source: SourceInfo;
  /** How the workers ran: compiled with tsc (default), the tsc build `--built` pointed at, or the TypeScript sources via tsx (`--source`). */
  runtimeBuild: string;
  payloadBytes: number;
  settings: Record<string, unknown>;
  rows: Row[];
  /** Total wall time of the run in seconds. */
  wallSeconds: number;
}
