import test from "ava";
import { assignShards } from "../../runtime/placement/rendezvous.js";

const count = (a: string[]) => {
  const m = new Map<string, number>();
  for (const h of a) m.set(h, (m.get(h) ?? 0) + 1);
  return m;
};

test("rendezvous - every host gets floor(S/N) or one more shard", (t) => {
  for (const n of [1, 2, 3, 4, 5, 7]) {
    const hosts = Array.from({ length: n }, (_, i) => `host-${i * 7919}`);
    for (const shards of [1, 16, 64, 100]) {
      const a = assignShards("Cart", shards, hosts);
      t.is(a.length, shards);
      for (const c of count(a).values()) {
        t.true(c >= Math.floor(shards / n) && c <= Math.ceil(shards / n), `${shards} over ${n}: ${c}`);
      }
    }
  }
});

test("rendezvous - the assignment depends only on the set of hosts", (t) => {
  t.deepEqual(assignShards("Cart", 64, ["a", "b", "c"]), assignShards("Cart", 64, ["c", "a", "b", "a"]));
  t.deepEqual(assignShards("Cart", 8, []), []);
});

test("rendezvous - a joining host takes its share and little else moves", (t) => {
  const before = assignShards("Cart", 64, ["a", "b", "c"]);
  const after = assignShards("Cart", 64, ["a", "b", "c", "d"]);
  const moved = before.filter((h, i) => after[i] !== h).length;
  const toNew = after.filter((h) => h === "d").length;
  t.is(toNew, 16);
  // Pure rendezvous would move exactly the 16; the load bound may move a few more.
  t.true(moved <= toNew + 8, `moved ${moved}`);
});

test("rendezvous - a leaving host's shards go to the others, the rest stay", (t) => {
  const before = assignShards("Cart", 64, ["a", "b", "c", "d"]);
  const after = assignShards("Cart", 64, ["a", "b", "c"]);
  const moved = before.filter((h, i) => after[i] !== h).length;
  t.false(after.includes("d"));
  t.true(moved <= 16 + 8, `moved ${moved}`);
});
