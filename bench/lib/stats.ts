/**
 * Measurement helpers: a latency sample (every latency kept, sorted once at the end: exact
 * percentiles, no histogram bucketing error) and the closed-loop driver every request-style side
 * uses, so Troupe and its raw baselines are timed by the same code.
 */

/** Every latency of a run, in milliseconds. */
export class LatencySample {
  private data = new Float64Array(1 << 14);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  /** p50 / p99 / max in ms (nearest-rank percentiles over the whole sample). */
  summary(): LatencySummary {
    if (this.n === 0) return { count: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN };
    const sorted = this.data.slice(0, this.n).sort();
    return {
      count: this.n,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      maxMs: sorted[this.n - 1] as number,
    };
  }
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function percentile(sorted: Float64Array, q: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export interface LoopOptions {
  /** Operations kept in flight (each "worker" waits for its reply before sending the next). */
  concurrency: number;
  /** Runs this long before measuring starts (JIT, connections, activations). */
  warmupMs: number;
  /** Measured window. */
  durationMs: number;
  /** Stops early after this many measured operations (used when ids run out). */
  maxOps?: number;
  /**
   * Paced instead of closed: operations start at this rate (the n-th at `n / ratePerSec` s), still
   * at most `concurrency` in flight; behind schedule they start at once. Two sides paced at a rate
   * both sustain do the same work per second, so their CPU per operation compares per-call cost
   * without the batching a faster side gets (fewer, fuller socket reads and writes per call).
   */
  ratePerSec?: number;
}

export interface LoopResult extends LatencySummary {
  /** Operations completed inside the measured window. */
  ops: number;
  /** Operations completed in all, warm-up included (for CPU per operation). */
  totalOps: number;
  opsPerSec: number;
  elapsedMs: number;
}

/**
 * Closed loop: `concurrency` workers each call `op(worker, n)` back to back. Operations that start
 * after the warm-up are timed; throughput counts those that finished inside the window. Any
 * failure aborts the run (benchmarks must not quietly measure errors).
 */
export async function closedLoop(
  options: LoopOptions,
  op: (worker: number, n: number) => Promise<unknown>,
): Promise<LoopResult> {
  const sample = new LatencySample();
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  let measureTo = measureFrom + options.durationMs;
  const maxOps = options.maxOps ?? Number.POSITIVE_INFINITY;
  let stopped = false;
  let failure: unknown;
  let ops = 0;
  let totalOps = 0;
  let slot = 0;
  const interval = options.ratePerSec ? 1000 / options.ratePerSec : 0;

  const worker = async (w: number) => {
    let n = 0;
    while (!stopped) {
      if (interval > 0) {
        const due = start + slot++ * interval;
        const wait = due - performance.now();
        if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
        if (stopped) return;
      }
      const t0 = performance.now();
      try {
        await op(w, n++);
      } catch (err) {
        failure ??= err;
        stopped = true;
        return;
      }
      const t1 = performance.now();
      totalOps++;
      if (t1 >= measureTo) {
        stopped = true;
        return;
      }
      if (t0 >= measureFrom) {
        sample.add(t1 - t0);
        if (++ops >= maxOps) {
          measureTo = t1;
          stopped = true;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  if (failure !== undefined) throw failure;
  const elapsedMs = Math.min(measureTo, performance.now()) - measureFrom;
  return { ...sample.summary(), ops, totalOps, opsPerSec: (ops / elapsedMs) * 1000, elapsedMs };
}

/** Runs `fn` with at most `concurrency` calls in flight over `items` (setup work such as prefill). */
export async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
