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
  const n = unique.length;
  if (n === 0) return [];
  // Every host gets floor(S/N) shards and `extra` of them one more: loads differ by at most one.
  const floor = Math.floor(shards / n);
  let extra = shards % n;
  const load = new Int32Array(n);
  // The FNV state after `<host>\0<type>\0`, per host: a score then only hashes the shard's digits.
  const prefixes = unique.map((h) => fnv1a32(`${h}\u0000${type}\u0000`));
  const out: string[] = new Array(shards);
  for (let shard = 0; shard < shards; shard++) {
    const digits = String(shard);
    // The best-scoring host that still has room; on equal scores the smaller id (hosts are sorted).
    let pick = -1;
    let best = -1;
    for (let i = 0; i < n; i++) {
      const l = load[i] as number;
      if (l > floor || (l === floor && extra === 0)) continue;
      const s = scoreAfter(prefixes[i] as number, digits);
      if (s > best) {
        best = s;
        pick = i;
      }
    }
    if (pick < 0) break; // cannot happen: the loads add up to `shards`
    const l = (load[pick] as number) + 1;
    if (l > floor) extra--;
    load[pick] = l;
    out[shard] = unique[pick] as string;
  }
  return out;
}

/** {@link score} from the FNV state of its prefix and the shard's (ASCII) digits. */
function scoreAfter(prefix: number, digits: string): number {
  let hash = prefix;
  for (let i = 0; i < digits.length; i++) {
    hash ^= digits.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return fmix32(hash >>> 0);
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
