import test from "ava";
import { measureMoves } from "../../bench/lib/placement-moves.js";
import { assignShards, shardCap } from "../../runtime/placement/rendezvous.js";

const count = (a: string[]) => {
  const m = new Map<string, number>();
  for (const h of a) m.set(h, (m.get(h) ?? 0) + 1);
  return m;
};

test("rendezvous - no host gets more than the load cap, and every shard gets a host", (t) => {
  for (const n of [1, 2, 3, 4, 5, 7, 16]) {
    const hosts = Array.from({ length: n }, (_, i) => `host-${i * 7919}`);
    for (const shards of [1, 16, 64, 100, 1024]) {
      const a = assignShards("Cart", shards, hosts);
      t.is(a.length, shards);
      t.true(
        a.every((h) => hosts.includes(h)),
        `${shards} over ${n}: every shard assigned`,
      );
      for (const c of count(a).values()) t.true(c <= shardCap(shards, n), `${shards} over ${n}: ${c}`);
    }
  }
});

test("rendezvous - the cap is 25% above the mean load, or two standard deviations of it when more", (t) => {
  t.is(shardCap(100_000, 1000), 125); // mean 100: 1.25 × 100 beats 100 + 2 × 10
  t.is(shardCap(64, 4), 24); // mean 16: 16 + 2 × 4
  t.is(shardCap(16, 2), 14);
  t.is(shardCap(1, 3), 1);
  t.is(shardCap(8, 0), 0);
});

test("rendezvous - the assignment depends only on the set of hosts", (t) => {
  t.deepEqual(assignShards("Cart", 64, ["a", "b", "c"]), assignShards("Cart", 64, ["c", "a", "b", "a"]));
  t.deepEqual(assignShards("Cart", 8, []), []);
});

test("rendezvous - a joining host takes only shards that move to it, a leaving host's go elsewhere", (t) => {
  const before = assignShards("Cart", 64, ["a", "b", "c"]);
  const after = assignShards("Cart", 64, ["a", "b", "c", "d"]);
  for (let i = 0; i < 64; i++) {
    if (before[i] !== after[i]) t.is(after[i], "d", `shard ${i} moved between old hosts`);
  }
  const left = assignShards("Cart", 64, ["a", "b", "d"]);
  for (let i = 0; i < 64; i++) {
    if (left[i] !== after[i]) t.is(after[i], "c", `shard ${i} moved but was not c's`);
  }
});

// Counts over 50 host sets per size (each: one join, one leave); ideal = S/(N+1) on a join, S/N on
// a leave. "Beyond" = shards moved that were neither the joiner's nor the leaver's.
for (const [hosts, shards] of [
  [3, 64],
  [5, 64],
  [10, 64],
  [10, 256],
  [20, 1024],
  [50, 1024],
] as const) {
  test(`rendezvous - ${hosts} hosts × ${shards} shards: a join or a leave moves at most 1.1 × the ideal on average`, (t) => {
    const m = measureMoves(hosts, shards, 50);
    t.log(
      `join ${m.join.meanRatio.toFixed(3)}× (beyond ${m.join.excessRatio.toFixed(3)}×), leave ${m.leave.meanRatio.toFixed(3)}× (beyond ${m.leave.excessRatio.toFixed(3)}×)`,
    );
    t.true(m.join.meanRatio <= 1.1, `join ${m.join.meanRatio}`);
    t.true(m.leave.meanRatio <= 1.1, `leave ${m.leave.meanRatio}`);
    t.true(m.join.excessRatio <= 0.1, `join beyond the joiner's ${m.join.excessRatio}`);
    t.true(m.leave.excessRatio <= 0.1, `leave beyond the leaver's ${m.leave.excessRatio}`);
    t.is(m.overCap, 0, "no host above the cap");
  });
}
