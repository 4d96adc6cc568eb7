/**
 * A small seeded fuzzing harness shared by the targets in this folder.
 *
 * - Reproducible: every target draws from a PRNG seeded with `TROUPE_FUZZ_SEED` (default fixed)
 *   plus the target's name; a failure names the seed, the input's index and its bytes/text, and
 *   the same seed replays the same inputs. fast-check properties get the same seed.
 * - Sized: `TROUPE_FUZZ_SCALE` multiplies every count (default 1; e.g. 10 for a long soak, 0.1 for
 *   a quick run). Each target reports its count, its time and its slowest input.
 * - Judged: an input may only end in a typed error (`TroupeError`, or what the target allows); any
 *   other exception is a crash. An input that takes over {@link SLOW_INPUT_MS} is run again: it fails
 *   only if it is slow every time (a hang caused by the input, not a busy machine).
 * - Prototypes: `Object.prototype` and `Array.prototype` must be unchanged after a target.
 */
import type { ExecutionContext } from "ava";
import { TroupeError } from "../../runtime/errors.js";

export const SLOW_INPUT_MS = 100;
const DEFAULT_SEED = 0x7e0_c0de;

/** The base seed: `TROUPE_FUZZ_SEED` (decimal or 0x hex) or a fixed default. */
export function baseSeed(): number {
  const raw = process.env.TROUPE_FUZZ_SEED;
  if (raw === undefined || raw === "") return DEFAULT_SEED;
  const v = Number(raw);
  if (!Number.isSafeInteger(v)) throw new Error(`TROUPE_FUZZ_SEED must be an integer, got ${raw}`);
  return v;
}

/** `count` scaled by `TROUPE_FUZZ_SCALE`. */
export function scaled(count: number): number {
  const raw = process.env.TROUPE_FUZZ_SCALE;
  const scale = raw === undefined || raw === "" ? 1 : Number(raw);
  if (!(scale > 0)) throw new Error(`TROUPE_FUZZ_SCALE must be a positive number, got ${raw}`);
  return Math.max(1, Math.round(count * scale));
}

/** The seed of one target: the base seed mixed with the target's name. */
export function seedFor(target: string): number {
  let h = baseSeed() >>> 0;
  for (let i = 0; i < target.length; i++) h = Math.imul(h ^ target.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A fast, seedable PRNG (mulberry32) with the draws the generators need. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 2^32). */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return this.u32() % n;
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** A short printable form of an input for failure messages. */
export function show(input: unknown): string {
  if (input instanceof Uint8Array) {
    const hex = Buffer.from(input.subarray(0, 256)).toString("hex");
    return `bytes(${input.length}) ${hex}${input.length > 256 ? "..." : ""}`;
  }
  if (typeof input === "string")
    return JSON.stringify(input.length > 300 ? `${input.slice(0, 300)}...` : input);
  try {
    return JSON.stringify(input)?.slice(0, 300) ?? String(input);
  } catch {
    return String(input);
  }
}

export interface FuzzStats {
  target: string;
  inputs: number;
  ms: number;
  slowestMs: number;
  typedErrors: number;
}

/** Everything run in this process, for the summary a test logs. */
export const ran: FuzzStats[] = [];

/**
 * Runs `check` on `count` inputs made by `make(rng, i)`. `check` returns normally or throws a typed
 * error (`isTyped`, default: a TroupeError); it asserts its own invariants by throwing a plain
 * `Error` (a crash, reported with the input).
 */
export function fuzz<T>(
  t: ExecutionContext,
  target: string,
  count: number,
  make: (rng: Rng, i: number) => T,
  check: (input: T) => void,
  isTyped: (err: unknown) => boolean = (err) => err instanceof TroupeError,
): FuzzStats {
  const seed = seedFor(target);
  const rng = new Rng(seed);
  const n = scaled(count);
  const guard = prototypeGuard();
  let slowest = 0;
  let typed = 0;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const input = make(rng, i);
    const run = (): { ms: number; err?: unknown; typed: boolean } => {
      const at = performance.now();
      try {
        check(input);
        return { ms: performance.now() - at, typed: false };
      } catch (err) {
        const ms = performance.now() - at;
        if (isTyped(err)) return { ms, typed: true };
        return { ms, err, typed: false };
      }
    };
    let r = run();
    if (r.err !== undefined) {
      const e = r.err;
      t.fail(
        `${target}: input ${i} crashed with ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n` +
          `  input: ${show(input)}\n  reproduce: TROUPE_FUZZ_SEED=${baseSeed()} (target seed ${seed})`,
      );
      throw e;
    }
    if (r.ms > SLOW_INPUT_MS) {
      // Slow once may be the machine (GC, another process); slow every time is the input.
      let fastest = r.ms;
      for (let again = 0; again < 3 && fastest > SLOW_INPUT_MS; again++)
        fastest = Math.min(fastest, run().ms);
      if (fastest > SLOW_INPUT_MS) {
        t.fail(
          `${target}: input ${i} took ${fastest.toFixed(1)} ms every time (limit ${SLOW_INPUT_MS} ms)\n` +
            `  input: ${show(input)}\n  reproduce: TROUPE_FUZZ_SEED=${baseSeed()} (target seed ${seed})`,
        );
      }
      r = { ...r, ms: fastest };
    }
    if (r.typed) typed++;
    if (r.ms > slowest) slowest = r.ms;
  }
  const stats = {
    target,
    inputs: n,
    ms: performance.now() - started,
    slowestMs: slowest,
    typedErrors: typed,
  };
  guard.check(t, target);
  ran.push(stats);
  t.log(
    `${target}: ${n} inputs in ${(stats.ms / 1000).toFixed(2)} s, slowest ${slowest.toFixed(2)} ms, ` +
      `${typed} typed errors (seed ${baseSeed()})`,
  );
  return stats;
}

/** A snapshot of the prototypes a hostile input could pollute, to compare after a run. */
export function prototypeGuard(): { check(t: ExecutionContext, target: string): void } {
  const snapshot = () =>
    [Object.prototype, Array.prototype, Function.prototype].map((p) =>
      Object.getOwnPropertyNames(p).concat(Object.getOwnPropertySymbols(p).map(String)).sort().join(","),
    );
  const before = snapshot();
  return {
    check(t, target) {
      t.deepEqual(snapshot(), before, `${target}: a prototype gained or lost properties`);
      t.is(({} as Record<string, unknown>).polluted, undefined, `${target}: Object.prototype polluted`);
      t.is(Object.getPrototypeOf({}), Object.prototype);
      t.is(Object.getPrototypeOf([]), Array.prototype);
    },
  };
}
