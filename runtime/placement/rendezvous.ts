/**
 * Which live host should hold each shard: rendezvous (highest-random-weight) hashing with a
 * loose load cap.
 *
 * Every (host, shard) pair has a fixed score; a shard goes to the best-scoring host that still has
 * room under {@link shardCap}, shards taken in order 0, 1, 2... Pure rendezvous moves only what
 * must move (the shards a joining host wins, or a leaving host's), but its loads spread like a
 * binomial draw around `S/N`; the cap cuts off only that spread's upper tail (25% above the mean,
 * or two standard deviations of the draw when that is more), so it binds rarely and a join or a
 * leave seldom pushes a shard off its first choice. A strict bound (`floor(S/N)` or one more)
 * binds on half the hosts, and every change then cascades through the greedy order. The result
 * depends only on the type, the shard count and the set of host ids, so hosts with the same view
 * compute the same assignment. docs/placement.md ("Assignment") has the moves this gives.
 *
 * @example
 * ```ts
 * assignShards("Cart", 64, ["h-a", "h-b", "h-c"]); // 64 host ids, each at most shardCap(64, 3) = 31 times
 * ```
 */
import { fnv1a32 } from "./shard.js";

/** How far above the mean load a host may go, as a fraction of it (consistent hashing's `c = 1 + ε`). */
export const LOAD_SLACK = 0.25;
/** ...or, when more, this many standard deviations of pure rendezvous's load (√(S/N)). */
export const LOAD_SLACK_SDS = 2;

/** The score of `host` for `shard` of `type` (higher wins). */
export function score(type: string, shard: number, host: string): number {
  return fmix32(fnv1a32(`${host}\u0000${type}\u0000${shard}`));
}

/** The most shards of `shards` any one of `hosts` hosts is assigned. */
export function shardCap(shards: number, hosts: number): number {
  if (hosts <= 0) return 0;
  const mean = shards / hosts;
  return Math.min(
    shards,
    Math.ceil(Math.max(mean * (1 + LOAD_SLACK), mean + LOAD_SLACK_SDS * Math.sqrt(mean))),
  );
}

/** `result[shard]` = the host that should hold the shard; empty when there is no host. */
export function assignShards(type: string, shards: number, hosts: readonly string[]): string[] {
  const unique = [...new Set(hosts)].sort();
  const n = unique.length;
  if (n === 0) return [];
  const cap = shardCap(shards, n);
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
      if ((load[i] as number) >= cap) continue;
      const s = scoreAfter(prefixes[i] as number, digits);
      if (s > best) {
        best = s;
        pick = i;
      }
    }
    if (pick < 0) break; // cannot happen: n · cap ≥ shards
    load[pick] = (load[pick] as number) + 1;
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
export function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
