import test from "ava";
import { hostIds } from "../../bench/lib/placement-moves.js";
import { Assigner } from "../../runtime/placement/assigner.js";
import { assignShards } from "../../runtime/placement/rendezvous.js";

/** A small deterministic generator (mulberry32): the same sequence of joins and leaves every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

// Small candidate lists (2, 3) make the greedy fall back to scoring every host and lists refill
// often; 8 is the default.
for (const [shards, candidates] of [
  [64, 2],
  [64, 8],
  [1000, 3],
  [1000, 8],
  [5, 2],
] as const) {
  test(`assigner - ${shards} shards, ${candidates} candidates: equals assignShards after every random join and leave`, (t) => {
    const next = random(shards * 31 + candidates);
    const pool = hostIds(60);
    const assigner = new Assigner("Cart", shards, candidates);
    let hosts = pool.slice(0, 12);
    for (let step = 0; step < 120; step++) {
      t.deepEqual(
        assigner.assign(hosts),
        assignShards("Cart", shards, hosts),
        `step ${step}: ${hosts.length} hosts`,
      );
      const r = next();
      if (r < 0.4 && hosts.length > 1) {
        hosts = hosts.filter((_, i) => i !== Math.floor(next() * hosts.length));
      } else if (r < 0.8) {
        const outside = pool.filter((h) => !hosts.includes(h));
        if (outside.length > 0) hosts = [...hosts, outside[Math.floor(next() * outside.length)] as string];
      } else if (r < 0.9) {
        // Several at once: a view that jumped (still incremental below a quarter of the hosts).
        hosts = [...pool.filter((h) => !hosts.includes(h)).slice(0, 2), ...hosts.slice(2)];
      } else {
        hosts = pool.filter(() => next() < 0.3); // most of the set changes: rebuilt from scratch
        if (hosts.length === 0) hosts = pool.slice(0, 1);
      }
    }
  });
}

test("assigner - no hosts, then hosts, then none again", (t) => {
  const a = new Assigner("Cart", 16);
  t.deepEqual(a.assign([]), []);
  t.deepEqual(a.assign(["b", "a", "a"]), assignShards("Cart", 16, ["a", "b"]));
  t.deepEqual(a.assign(["a"]), assignShards("Cart", 16, ["a"]));
  t.deepEqual(a.assign([]), []);
  t.deepEqual(a.assign(["c"]), assignShards("Cart", 16, ["c"]));
});
