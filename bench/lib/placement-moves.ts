/**
 * Shards moved by the placement assignment (runtime/placement/rendezvous.ts, kept up to date by
 * the hosts' Assigner) when one host joins or leaves, over several joiners and leavers: used by
 * bench/placement-sim.ts and by the unit test that holds the assignment to its bound
 * (test/placement/rendezvous.test.ts). Counts, and the CPU each computation took.
 */
import { Assigner } from "../../runtime/placement/assigner.js";
import { shardCap } from "../../runtime/placement/rendezvous.js";

/** `n` host ids shaped like a host's own (`h` + 12 hex digits), the same for the same `from`. */
export function hostIds(n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => {
    const x = (from + i + 1) * 2654435761;
    return `h${(x >>> 0).toString(16).padStart(8, "0")}${((x / 2 ** 32) >>> 0).toString(16).padStart(4, "0")}`;
  });
}

/** Shards whose host differs between two assignments. */
export function moved(before: readonly string[], after: readonly string[]): number {
  let m = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) m++;
  return m;
}

export interface ChangeMoves {
  /** The ideal: `S/(N+1)` for a join, `S/N` for a leave. */
  readonly ideal: number;
  /** Mean and largest shards moved over the trials, as multiples of the ideal. */
  readonly meanRatio: number;
  readonly maxRatio: number;
  readonly meanMoved: number;
  /**
   * Moves beyond those that had to happen (the shards the joiner got; the leaver's shards),
   * as a multiple of the ideal, over all trials: what the load cap costs.
   */
  readonly excessRatio: number;
}

export interface MoveReport {
  readonly hosts: number;
  readonly shards: number;
  readonly trials: number;
  /** The load cap, and the largest and smallest load in the last trial's starting assignment. */
  readonly cap: number;
  readonly maxLoad: number;
  readonly minLoad: number;
  /** The most any host was over the cap of its assignment, in every assignment computed (0: none). */
  readonly overCap: number;
  readonly join: ChangeMoves;
  readonly leave: ChangeMoves;
  /** CPU milliseconds (user + system), mean per computation: a first assignment, a join, a leave. */
  readonly cpuMs: { readonly build: number; readonly join: number; readonly leave: number };
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function loads(assignment: readonly string[], hosts: readonly string[]): number[] {
  const count = new Map<string, number>(hosts.map((h) => [h, 0]));
  for (const h of assignment) count.set(h, (count.get(h) ?? 0) + 1);
  return [...count.values()];
}

function summary(moves: number[], necessary: number[], ideal: number): ChangeMoves {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    ideal,
    meanMoved: sum(moves) / moves.length,
    meanRatio: sum(moves) / moves.length / ideal,
    maxRatio: Math.max(...moves) / ideal,
    excessRatio: (sum(moves) - sum(necessary)) / moves.length / ideal,
  };
}

/**
 * For each of `trials` different sets of `hosts` hosts: joins one more host, and removes one of
 * them (the score of a host set depends on its ids, so the mean is over sets as well as changes).
 */
export function measureMoves(hosts: number, shards: number, trials: number, type = "Sim"): MoveReport {
  const joinMoves: number[] = [];
  const joinNeeded: number[] = [];
  const leaveMoves: number[] = [];
  const leaveNeeded: number[] = [];
  let ids: string[] = [];
  let base: string[] = [];
  let overCap = 0;
  const check = (assignment: string[], set: string[]) => {
    overCap = Math.max(overCap, Math.max(...loads(assignment, set)) - shardCap(shards, set.length));
  };
  const cpu = { build: 0, join: 0, leave: 0 };
  const timed = (what: keyof typeof cpu, f: () => string[]) => {
    const from = cpuNow();
    const out = f();
    cpu[what] += cpuNow() - from;
    return out;
  };
  for (let t = 0; t < trials; t++) {
    ids = hostIds(hosts, t * (hosts + 1));
    // As a host keeps it: built once, then updated for each change.
    const assigner = new Assigner(type, shards);
    base = timed("build", () => assigner.assign(ids));
    const joiner = hostIds(1, t * (hosts + 1) + hosts)[0] as string;
    const joined = timed("join", () => assigner.assign([...ids, joiner]));
    check(base, ids);
    check(joined, [...ids, joiner]);
    joinMoves.push(moved(base, joined));
    joinNeeded.push(joined.filter((h) => h === joiner).length);
    assigner.assign(ids);
    const leaver = ids[t % hosts] as string;
    const rest = ids.filter((h) => h !== leaver);
    const left = timed("leave", () => assigner.assign(rest));
    check(left, rest);
    leaveMoves.push(moved(base, left));
    leaveNeeded.push(base.filter((h) => h === leaver).length);
  }
  const l = loads(base, ids);
  return {
    hosts,
    shards,
    trials,
    cap: shardCap(shards, hosts),
    maxLoad: Math.max(...l),
    minLoad: Math.min(...l),
    overCap,
    join: summary(joinMoves, joinNeeded, shards / (hosts + 1)),
    leave: summary(leaveMoves, leaveNeeded, shards / hosts),
    cpuMs: { build: cpu.build / trials, join: cpu.join / trials, leave: cpu.leave / trials },
  };
}
