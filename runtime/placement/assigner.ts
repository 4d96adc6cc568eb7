/**
 * The rendezvous assignment of one type (rendezvous.ts, {@link assignShards}), kept up to date as
 * hosts join and leave instead of computed anew: the same result, at a cost proportional to what
 * changed.
 *
 * Per shard it keeps its best-scoring hosts, up to {@link CANDIDATES} of them, best first (score
 * descending, then id ascending: the order `assignShards` breaks ties in). Invariant: a shard's list
 * holds exactly the top `count` hosts of the current set. Then:
 * - a join scores the new host against every shard (S scores) and inserts it where it beats the
 *   list's last entry (or where the list holds every host);
 * - a leave removes the host from the lists; a list that falls below half its size is rebuilt by
 *   scoring every host for that shard;
 * - the capped greedy pass (shards in order 0, 1, 2..., each to the best host with room under
 *   {@link shardCap}) walks each shard's list and takes the first host with room; only when every
 *   listed host is full does it score all hosts for that shard, exactly as `assignShards` does.
 * Since every host outside a list scores below every host in it, the first listed host with room
 * is the best host with room overall: the result equals `assignShards` for the same set (tested
 * against it over random joins and leaves). A first build, or a change of more than a quarter of
 * the hosts, scores every pair once (S × N), hosts outer, over typed arrays.
 *
 * @example
 * ```ts
 * const a = new Assigner("Cart", 64);
 * a.assign(["h-a", "h-b", "h-c"]); // = assignShards("Cart", 64, ["h-a", "h-b", "h-c"])
 * a.assign(["h-a", "h-b", "h-c", "h-d"]); // scores h-d only
 * ```
 */
import { fmix32, shardCap } from "./rendezvous.js";
import { fnv1a32 } from "./shard.js";

/** How many best-scoring hosts each shard keeps. */
export const CANDIDATES = 8;

export class Assigner {
  /** Host id per slot ("" for a free slot). */
  private ids: string[] = [];
  /** FNV state after `<host>\0<type>\0`, per slot. */
  private prefixes: number[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly free: number[] = [];
  private readonly candHost: Int32Array;
  private readonly candScore: Uint32Array;
  private readonly count: Uint8Array;
  /** Every shard's decimal digits (ASCII), back to back; shard `s` is `digits[at[s]..at[s+1])`. */
  private readonly digits: Uint8Array;
  private readonly at: Int32Array;
  private last: string[] = [];

  constructor(
    private readonly type: string,
    private readonly shards: number,
    private readonly k = CANDIDATES,
  ) {
    this.candHost = new Int32Array(shards * k);
    this.candScore = new Uint32Array(shards * k);
    this.count = new Uint8Array(shards);
    this.at = new Int32Array(shards + 1);
    let length = 0;
    for (let s = 0; s < shards; s++) length += String(s).length;
    this.digits = new Uint8Array(length);
    let p = 0;
    for (let s = 0; s < shards; s++) {
      this.at[s] = p;
      const d = String(s);
      for (let i = 0; i < d.length; i++) this.digits[p++] = d.charCodeAt(i);
    }
    this.at[shards] = p;
  }

  /** `result[shard]` = the host that should hold the shard over `hosts` (= `assignShards`). */
  assign(hosts: readonly string[]): string[] {
    const next = new Set(hosts);
    const gone = [...this.slotOf.keys()].filter((id) => !next.has(id));
    const added = [...next].filter((id) => !this.slotOf.has(id));
    if (gone.length === 0 && added.length === 0 && this.last.length === this.shards) return this.last;
    if (this.slotOf.size === 0 || 4 * (gone.length + added.length) > next.size) {
      this.rebuild([...next]);
    } else {
      if (gone.length > 0) this.leave(gone);
      for (const id of added) this.join(id);
    }
    this.last = this.greedy();
    return this.last;
  }

  private rebuild(hosts: string[]): void {
    this.ids = [];
    this.prefixes = [];
    this.slotOf.clear();
    this.free.length = 0;
    this.count.fill(0);
    for (const id of hosts) this.join(id, true);
  }

  /** Adds a host; `fresh`: the lists are being built from nothing (every host is offered). */
  private join(id: string, fresh = false): void {
    const slot = this.free.pop() ?? this.ids.length;
    const before = this.slotOf.size;
    this.ids[slot] = id;
    this.prefixes[slot] = fnv1a32(`${id}\u0000${this.type}\u0000`);
    this.slotOf.set(id, slot);
    const prefix = this.prefixes[slot] as number;
    const { digits, at, count, candHost, candScore, k } = this;
    for (let s = 0; s < this.shards; s++) {
      let hash = prefix;
      for (let i = at[s] as number, end = at[s + 1] as number; i < end; i++) {
        hash ^= digits[i] as number;
        hash = Math.imul(hash, 0x01000193);
      }
      const score = fmix32(hash >>> 0);
      const c = count[s] as number;
      // Unless the list holds every host, a host it does not beat may rank below unlisted ones.
      const complete = fresh || c >= before;
      if (!complete || c === k) {
        if (
          c === 0 ||
          !this.beats(score, slot, candScore[s * k + c - 1] as number, candHost[s * k + c - 1] as number)
        ) {
          continue;
        }
      }
      this.insert(s, slot, score);
    }
  }

  /** Puts `slot` into shard `s`'s list at its rank (the caller checked it belongs there). */
  private insert(s: number, slot: number, score: number): void {
    const { candHost, candScore, k } = this;
    const base = s * k;
    const c = this.count[s] as number;
    let i = c < k ? c : k - 1;
    while (
      i > 0 &&
      this.beats(score, slot, candScore[base + i - 1] as number, candHost[base + i - 1] as number)
    ) {
      candScore[base + i] = candScore[base + i - 1] as number;
      candHost[base + i] = candHost[base + i - 1] as number;
      i--;
    }
    candScore[base + i] = score;
    candHost[base + i] = slot;
    if (c < k) this.count[s] = c + 1;
  }

  private leave(ids: string[]): void {
    const gone = new Uint8Array(this.ids.length);
    for (const id of ids) {
      const slot = this.slotOf.get(id) as number;
      gone[slot] = 1;
      this.slotOf.delete(id);
      this.ids[slot] = "";
      this.free.push(slot);
    }
    const { count, candHost, candScore, k } = this;
    const refill = Math.min(k >> 1, this.slotOf.size);
    for (let s = 0; s < this.shards; s++) {
      const base = s * k;
      const c = count[s] as number;
      let kept = 0;
      for (let i = 0; i < c; i++) {
        const h = candHost[base + i] as number;
        if (gone[h] === 1) continue;
        candHost[base + kept] = h;
        candScore[base + kept] = candScore[base + i] as number;
        kept++;
      }
      count[s] = kept;
      if (kept < refill) this.refill(s);
    }
  }

  /** Rebuilds one shard's list by scoring every host. */
  private refill(s: number): void {
    this.count[s] = 0;
    const base = s * this.k;
    for (const slot of this.slotOf.values()) {
      const score = this.score(slot, s);
      const c = this.count[s] as number;
      const last = base + c - 1;
      if (
        c === this.k &&
        !this.beats(score, slot, this.candScore[last] as number, this.candHost[last] as number)
      ) {
        continue;
      }
      this.insert(s, slot, score);
    }
  }

  private greedy(): string[] {
    const n = this.slotOf.size;
    if (n === 0) return [];
    const cap = shardCap(this.shards, n);
    const load = new Int32Array(this.ids.length);
    const out: string[] = new Array(this.shards);
    const { count, candHost, k } = this;
    for (let s = 0; s < this.shards; s++) {
      const base = s * k;
      let pick = -1;
      for (let i = 0, c = count[s] as number; i < c; i++) {
        const h = candHost[base + i] as number;
        if ((load[h] as number) < cap) {
          pick = h;
          break;
        }
      }
      if (pick < 0) pick = this.bestWithRoom(s, load, cap);
      if (pick < 0) break; // cannot happen: n · cap ≥ shards
      load[pick] = (load[pick] as number) + 1;
      out[s] = this.ids[pick] as string;
    }
    return out;
  }

  /** The best-scoring host with room for shard `s`, scoring every host (every listed one was full). */
  private bestWithRoom(s: number, load: Int32Array, cap: number): number {
    let pick = -1;
    let best = 0;
    for (const slot of this.slotOf.values()) {
      if ((load[slot] as number) >= cap) continue;
      const score = this.score(slot, s);
      if (pick < 0 || this.beats(score, slot, best, pick)) {
        best = score;
        pick = slot;
      }
    }
    return pick;
  }

  private score(slot: number, s: number): number {
    let hash = this.prefixes[slot] as number;
    for (let i = this.at[s] as number, end = this.at[s + 1] as number; i < end; i++) {
      hash ^= this.digits[i] as number;
      hash = Math.imul(hash, 0x01000193);
    }
    return fmix32(hash >>> 0);
  }

  /** Whether (score a, host slot a) ranks before (score b, host slot b): higher score, then smaller id. */
  private beats(scoreA: number, slotA: number, scoreB: number, slotB: number): boolean {
    if (scoreA !== scoreB) return scoreA > scoreB;
    return (this.ids[slotA] as string) < (this.ids[slotB] as string);
  }
}
