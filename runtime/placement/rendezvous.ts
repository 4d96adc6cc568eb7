/**
 * Which live host should hold each shard: rendezvous (highest-random-weight) hashing with a
 * bounded load.
 *
 * Every host scores every (host, shard) pair with a fixed hash; a shard prefers the host with the
 * highest score. Pure rendezvous moves only the shards whose winner joined or left, but its spread
 * is uneven with few shards; so shards are assigned in order (0, 1, 2...) to the best-scoring host
 * that still has room: every host gets `floor(shards / hosts)` or one more. The result depends only on the shard
 * count and the set of host ids, so every host computes the same assignment from the same
 * membership view, and a join or leave still moves little more than the fair share.
 *
 * @example
 * ```ts
 * assignShards("Cart", 64, ["h-a", "h-b", "h-c"]); // 64 host ids, 21 or 22 shards per host
 * ```
 */
import { fnv1a32 } from "./shard.js";

/** The score of `host` for `shard` of `type` (higher wins). */
export function score(type: string, shard: number, host: string): number {
  return fmix32(fnv1a32(`${host}\u0000${type}\u0000${shard}`));
}

/** `result[shard]` = the host that should hold the shard; empty when there is no host. */
export function assignShards(type: string, shards: number, hosts: readonly string[]): string[] {
  const unique = [...new Set(hosts)].sort();
  if (unique.length === 0) return [];
  // Every host gets floor(S/N) shards and `extra` of them one more: loads differ by at most one.
  const floor = Math.floor(shards / unique.length);
  let extra = shards % unique.length;
  const load = new Map<string, number>(unique.map((h) => [h, 0]));
  const hasRoom = (h: string) => {
    const n = load.get(h) ?? 0;
    return n < floor || (n === floor && extra > 0);
  };
  const out: string[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const ranked = unique
      .map((h) => ({ h, s: score(type, shard, h) }))
      .sort((a, b) => b.s - a.s || (a.h < b.h ? -1 : 1));
    const pick = ranked.find((r) => hasRoom(r.h)) ?? ranked[0];
    if (!pick) break;
    const n = (load.get(pick.h) ?? 0) + 1;
    if (n > floor) extra--;
    load.set(pick.h, n);
    out.push(pick.h);
  }
  return out;
}

/** MurmurHash3's 32-bit finalizer: spreads FNV's weak low bits over the whole word. */
function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
