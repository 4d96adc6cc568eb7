/**
 * What a scenario is: a set of rows it promises, a parent-side `run` that spawns its worker
 * processes and records rows, and the worker-side commands those processes execute.
 */
import type { PlacementOptions } from "troupe";
import { type CommandTable, type SpawnOptions, type WorkerProc, withWorkers } from "./ipc.js";
import type { Row, RowSpec } from "./report.js";

export interface Settings {
  /** Per side and round: warm-up before measuring, and the measured window. */
  warmupMs: number;
  durationMs: number;
  /** Rounds per row; sides alternate and each metric is the median over the rounds. */
  rounds: number;
  /** Tell rows: messages in flight between sender and receiver (flow control window). */
  tellWindow: number;
  /** Cold activation: ids used for warm-up, and the most ids measured per side. */
  coldWarmup: number;
  coldMax: number;
  /** Idle memory: actors activated before the "before" heap reading, then the measured count. */
  memWarm: number;
  memActors: number;
  /** Idle memory: actors activated per step (the host's heap is checked between steps). */
  memStep: number;
  /** Jobs and pub-sub rows: operations sent and not yet completed at the receiver. */
  flowWindow: number;
  /** Tracing off: iterations of the in-process hook loop. */
  hookIterations: number;
  /** Placement idle rows: shards per type (the baseline first), pause after settling, idle window. */
  placementShards: [number, number];
  placementSettleMs: number;
  placementWindowMs: number;
  /** Placement takeover: rounds (median reported). */
  takeoverRounds: number;
  /** Placement rows: the hosts' placement timings (default: placement's defaults). */
  placementTimings?: PlacementOptions;
  /** Placement moves (model): hosts, shards and host sets. */
  placementMoves: { hosts: number; shards: number; trials: number };
  /** `--rate`: request-reply and tracing rows start calls at this rate instead of a closed loop. */
  ratePerSec?: number;
}

export const SMOKE: Settings = {
  // Long enough that a stateful call at c=64 (a KV save each) completes inside the window even on
  // a busy machine: the smoke test checks that every row measured something.
  warmupMs: 150,
  durationMs: 600,
  rounds: 1,
  tellWindow: 2_000,
  coldWarmup: 10,
  coldMax: 40,
  memWarm: 200,
  memActors: 10_000,
  memStep: 5_000,
  flowWindow: 1_024,
  hookIterations: 200_000,
  placementShards: [16, 64],
  placementSettleMs: 300,
  placementWindowMs: 1_000,
  takeoverRounds: 1,
  // The placement tests' short timings: a start and a takeover in seconds.
  placementTimings: { heartbeatEveryMs: 500, hostTtlMs: 2_500, safetyMarginMs: 900, renewEveryMs: 600 },
  placementMoves: { hosts: 10, shards: 64, trials: 3 },
};

export const FULL: Settings = {
  warmupMs: 1_000,
  durationMs: 3_000,
  rounds: 3,
  tellWindow: 20_000,
  coldWarmup: 300,
  coldMax: 5_000,
  memWarm: 2_000,
  memActors: 1_000_000,
  memStep: 100_000,
  flowWindow: 4_096,
  hookIterations: 10_000_000,
  placementShards: [64, 1_024],
  placementSettleMs: 4_000,
  placementWindowMs: 10_000,
  takeoverRounds: 1,
  placementMoves: { hosts: 100, shards: 10_000, trials: 10 },
};

/** `--heavy`: the placement rows at the sizes of docs/benchmarks.md (a few minutes more). */
export const HEAVY_PLACEMENT: Partial<Settings> = {
  placementWindowMs: 30_000,
  takeoverRounds: 3,
  placementMoves: { hosts: 1_000, shards: 100_000, trials: 10 },
};

export interface BenchContext {
  readonly url: string;
  /** Pid of the nats-server (for its CPU time). */
  readonly natsPid: number;
  /** The nats-server's HTTP monitoring endpoint (`/jsz`, `/connz`). */
  readonly monitorUrl: string;
  readonly settings: Settings;
  /**
   * Spawns one worker process per entry (role name -> options), initialises each with the NATS
   * URL and this scenario's subject prefix, runs `body`, and stops them all afterwards.
   */
  withWorkers<T>(
    specs: Record<string, SpawnOptions>,
    body: (workers: Record<string, WorkerProc>) => Promise<T>,
  ): Promise<T>;
  /** False for rows `--only` left out (a scenario skips their work). */
  wants(rowId: string): boolean;
  /** False for sides `--impl` left out (profiling one implementation). */
  wantsImpl(impl: "troupe" | "raw"): boolean;
  /** Progress line on stderr. */
  log(message: string): void;
  /** Adds a finished row. */
  record(row: Row): void;
}

export interface Scenario {
  /** Short name; also the mesh prefix of its workers and a `--only` filter. */
  name: string;
  rows: RowSpec[];
  run(ctx: BenchContext): Promise<void>;
  /** Commands its worker processes run (namespaced by the scenario, e.g. `rr.call`). */
  commands: CommandTable;
}

/** Builds a scenario context's `withWorkers` on top of {@link withWorkers}. */
export function workersFor(
  url: string,
  prefix: string,
  decorate: (role: string, opts: SpawnOptions) => SpawnOptions,
) {
  return <T>(
    specs: Record<string, SpawnOptions>,
    body: (workers: Record<string, WorkerProc>) => Promise<T>,
  ): Promise<T> => {
    const decorated = Object.fromEntries(
      Object.entries(specs).map(([role, opts]) => [role, decorate(role, opts)]),
    );
    return withWorkers(decorated, async (workers) => {
      await Promise.all(Object.values(workers).map((w) => w.call("init", { url, prefix })));
      return body(workers);
    });
  };
}

/** `id-00000042`: fixed-width ids keep the payload size constant. */
export function idOf(prefix: string, n: number): string {
  return `${prefix}-${String(n).padStart(8, "0")}`;
}

/** The worker named `role` (spawned by `withWorkers`). */
export function workerOf(workers: Record<string, WorkerProc>, role: string): WorkerProc {
  const w = workers[role];
  if (!w) throw new Error(`no worker "${role}"`);
  return w;
}

/**
 * Which rows `--only` selects: all without it, else a row whose scenario is named, whose id is
 * named, or whose id starts with a named prefix and a dot (`rr.echo` selects `rr.echo.c1` and
 * `rr.echo.c64`; `tracing.ratio` selects that row, not `tracing.ratio1`).
 */
export function rowSelector(
  only: readonly string[] | undefined,
): (scenario: string, rowId: string) => boolean {
  return (scenario, rowId) =>
    !only || only.some((o) => scenario === o || rowId === o || rowId.startsWith(`${o}.`));
}
