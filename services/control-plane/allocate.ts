/**
 * How a cluster-wide limit is split into per-host shares, sized by each host's recent demand. Pure:
 * the control plane calls it on every tick with the demand the hosts reported.
 *
 * For a limit L over n hosts with demands d_i (turns per second, allowed + refused; or turns
 * running at once for concurrency), D = sum of d_i:
 * - D = 0: equal shares, L/n each.
 * - D <= 0.95 L: each host gets its demand plus an equal part of the headroom: d_i + (L - D)/n.
 * - D > 0.95 L: 95% of L in proportion to demand, 5% split equally, so a host whose demand just
 *   started is never starved: L * (0.95 * d_i/D + 0.05/n). (The two agree at D = 0.95 L.)
 * The shares always sum to L. Whole-number limits (burst, concurrency) are split the same way and
 * rounded by largest remainder, so they sum to L exactly; each host gets at least 1 when L >= n.
 *
 * @example
 * ```ts
 * splitRate(200, [100, 50, 0]);  // D <= 190: [116.7, 66.7, 16.7]
 * splitRate(200, [900, 100]);    // D > L: [176, 24]
 * splitWhole(10, [1, 1, 1]);     // [4, 3, 3]
 * ```
 */

export const EQUAL_PART = 0.05;

/** Splits a real-valued limit by demand; the result sums to `limit`. */
export function splitRate(limit: number, demands: readonly number[]): number[] {
  const n = demands.length;
  if (n === 0) return [];
  const clean = demands.map((d) => (Number.isFinite(d) && d > 0 ? d : 0));
  const total = clean.reduce((a, b) => a + b, 0);
  if (total === 0) return clean.map(() => limit / n);
  if (total <= limit * (1 - EQUAL_PART)) return clean.map((d) => d + (limit - total) / n);
  return clean.map((d) => limit * ((1 - EQUAL_PART) * (d / total) + EQUAL_PART / n));
}

/** Splits a whole-number limit by demand; the result is whole numbers summing to `limit`. */
export function splitWhole(limit: number, demands: readonly number[]): number[] {
  const n = demands.length;
  if (n === 0) return [];
  const total = Math.max(0, Math.floor(limit));
  const floor = total >= n ? 1 : 0;
  const rest = total - floor * n;
  const ideal = splitRate(rest, demands);
  const shares = ideal.map((x) => Math.floor(x));
  let left = rest - shares.reduce((a, b) => a + b, 0);
  const order = ideal
    .map((x, i) => ({ i, frac: x - Math.floor(x) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    shares[i] = (shares[i] ?? 0) + 1;
    left -= 1;
  }
  return shares.map((s) => s + floor);
}

/** One host's recent demand on one (policy, key). */
export interface Demand {
  /** Turns per second that asked (allowed + refused). */
  rate: number;
  /** Turns that wanted to run at once (running + refused for concurrency). */
  concurrency: number;
}

export interface LimitShare {
  ratePerSecond: number;
  burst: number;
  maxConcurrency: number;
}

/**
 * Splits a whole limit (rate, burst, concurrency) over the hosts: rate and burst by rate demand,
 * concurrency by concurrency demand. `demands[i]` is host i's demand (undefined: none reported).
 */
export function splitLimit(limit: LimitShare, demands: readonly (Demand | undefined)[]): LimitShare[] {
  const rates = demands.map((d) => d?.rate ?? 0);
  const concurrency = demands.map((d) => d?.concurrency ?? 0);
  const rateShares = limit.ratePerSecond > 0 ? splitRate(limit.ratePerSecond, rates) : rates.map(() => 0);
  const burstShares = limit.burst > 0 ? splitWhole(limit.burst, rates) : rates.map(() => 0);
  const concurrencyShares =
    limit.maxConcurrency > 0 ? splitWhole(limit.maxConcurrency, concurrency) : concurrency.map(() => 0);
  return demands.map((_, i) => ({
    ratePerSecond: rateShares[i] ?? 0,
    burst: limit.ratePerSecond > 0 ? Math.max(1, burstShares[i] ?? 0) : 0,
    maxConcurrency: concurrencyShares[i] ?? 0,
  }));
}
