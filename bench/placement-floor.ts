/**
 * What a per-host floor would cost (docs/placement.md, "No per-host floor"): the assignment
 * (runtime/placement/rendezvous.ts), then each host below the floor, in id order, takes its
 * best-scoring shards from hosts above the floor until it reaches it. Prints, per size and floor,
 * the shards moved by one join and one leave as multiples of the ideal (mean over host sets) and
 * the smallest load seen. A model only; the runtime has no floor.
 *
 *   node --conditions=troupe-source --import tsx bench/placement-floor.ts [--sets 50]
 */
import { parseArgs } from "node:util";
import { assignShards, score } from "../runtime/placement/rendezvous.js";
import { hostIds, moved } from "./lib/placement-moves.js";

type Floor = (shards: number, hosts: number) => number;

const FLOORS: Record<string, Floor> = {
  none: () => 0,
  "loose (S/N - 2·√(S/N), at least 1)": (s, n) =>
    Math.max(s >= n ? 1 : 0, Math.floor(s / n - 2 * Math.sqrt(s / n))),
  "75% of S/N": (s, n) => Math.floor(0.75 * (s / n)),
};
const SIZES = [
  [3, 16],
  [3, 64],
  [10, 64],
  [20, 1024],
  [100, 10000],
] as const;

function withFloor(type: string, shards: number, hosts: string[], floorOf: Floor): string[] {
  const out = assignShards(type, shards, hosts);
  const ids = [...new Set(hosts)].sort();
  const floor = floorOf(shards, ids.length);
  const load = new Map(ids.map((h) => [h, 0]));
  for (const h of out) load.set(h, (load.get(h) ?? 0) + 1);
  const of = (h: string) => load.get(h) ?? 0;
  for (const h of ids) {
    if (of(h) >= floor) continue;
    const best = Array.from({ length: shards }, (_, s) => s).sort(
      (a, b) => score(type, b, h) - score(type, a, h),
    );
    for (const s of best) {
      if (of(h) >= floor) break;
      const from = out[s] as string;
      if (from === h || of(from) <= floor) continue;
      out[s] = h;
      load.set(from, of(from) - 1);
      load.set(h, of(h) + 1);
    }
  }
  return out;
}

const { values } = parseArgs({ options: { sets: { type: "string", default: "50" } } });
const sets = Number(values.sets);
for (const [hosts, shards] of SIZES) {
  for (const [name, floorOf] of Object.entries(FLOORS)) {
    let join = 0;
    let leave = 0;
    let minLoad = Number.POSITIVE_INFINITY;
    const trials = hosts >= 100 ? Math.min(sets, 10) : sets;
    for (let t = 0; t < trials; t++) {
      const ids = hostIds(hosts, t * (hosts + 1));
      const base = withFloor("Sim", shards, ids, floorOf);
      const load = new Map(ids.map((h) => [h, 0]));
      for (const h of base) load.set(h, (load.get(h) ?? 0) + 1);
      minLoad = Math.min(minLoad, ...load.values());
      const joiner = hostIds(1, t * (hosts + 1) + hosts)[0] as string;
      join += moved(base, withFloor("Sim", shards, [...ids, joiner], floorOf));
      leave += moved(
        base,
        withFloor(
          "Sim",
          shards,
          ids.filter((h) => h !== ids[t % hosts]),
          floorOf,
        ),
      );
    }
    const ratio = (m: number, ideal: number) => (m / trials / ideal).toFixed(2);
    process.stdout.write(
      `${hosts} hosts × ${shards} shards, floor ${name} = ${floorOf(shards, hosts)}: join ${ratio(join, shards / (hosts + 1))}×, leave ${ratio(leave, shards / hosts)}×, smallest load ${minLoad} (${trials} host sets)\n`,
    );
  }
}
