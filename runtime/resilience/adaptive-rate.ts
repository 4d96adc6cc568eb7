/**
 * A client-side adaptive rate limiter, in the spirit of the AWS SDKs' "adaptive" retry mode: it
 * stays out of the way until the first throttle, then paces sends with a token bucket whose rate
 * drops multiplicatively on every throttle and grows back along a cubic curve (as in CUBIC
 * congestion control) while sends succeed. A client over its limit thus sends little more than its
 * limit instead of hammering the server with attempts that are refused anyway.
 *
 * - Measured send rate: sends counted in half-second slots, smoothed (80% old, 20% new).
 * - On a throttle: remember the rate in use as `lastMaxRate`, set the rate to `beta` times it
 *   (default 0.7), start pacing.
 * - On a success while pacing: rate = scale * (t - K)^3 + lastMaxRate, where t is the time since
 *   the last throttle in seconds and K = cbrt(lastMaxRate * (1 - beta) / scale): the curve starts
 *   at beta * lastMaxRate, flattens around lastMaxRate, then probes above it. The rate never exceeds
 *   twice the measured send rate (no credit for sends that were not made).
 * - `acquireDelayMs()` reserves the next send slot and says how long to wait for it.
 *
 * @example
 * ```ts
 * const limiter = new AdaptiveRateLimiter();
 * await sleep(limiter.acquireDelayMs());
 * try { await send(); limiter.onSuccess(); }
 * catch (err) { if (err instanceof ThrottledError) limiter.onThrottle(); throw err; }
 * ```
 */

export interface AdaptiveRateOptions {
  /** Multiplicative decrease on a throttle. Default 0.7. */
  beta?: number;
  /** Steepness of the cubic recovery. Default 0.4. */
  scale?: number;
  /** The rate never drops below this (sends per second). Default 0.5. */
  minRate?: number;
  /** Sends allowed at once when pacing starts or after a pause. Default 1. */
  burst?: number;
  /** Monotonic clock in ms. */
  now?: () => number;
}

const SLOT_MS = 500;
const SMOOTHING = 0.8;

export class AdaptiveRateLimiter {
  private readonly beta: number;
  private readonly scale: number;
  private readonly minRate: number;
  private readonly burst: number;
  private readonly now: () => number;
  private pacing = false;
  private fillRate = 0;
  private tokens = 0;
  private refilledAt = 0;
  private lastMaxRate = 0;
  private lastThrottleAt = 0;
  /** When the sends reserved before the last throttle have gone out (see onThrottle's `sentAt`). */
  private settledAt = 0;
  private measured = 0;
  private slotStart: number;
  private slotCount = 0;

  constructor(options: AdaptiveRateOptions = {}) {
    this.beta = options.beta ?? 0.7;
    this.scale = options.scale ?? 0.4;
    this.minRate = options.minRate ?? 0.5;
    this.burst = Math.max(1, options.burst ?? 1);
    this.now = options.now ?? (() => performance.now());
    this.slotStart = this.now();
  }

  /** The pacing rate in sends per second; undefined while not pacing (no throttle seen). */
  get rate(): number | undefined {
    return this.pacing ? this.fillRate : undefined;
  }

  /** The smoothed rate of sends, per second. */
  get measuredRate(): number {
    return this.measured;
  }

  /**
   * Reserves a send: 0 when it may go now, else the ms to wait first (the slot is taken either
   * way, so callers that wait in parallel are spread out).
   */
  acquireDelayMs(): number {
    const t = this.now();
    this.countSend(t);
    if (!this.pacing) return 0;
    this.refill(t);
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens / this.fillRate) * 1000);
  }

  /** Takes a send slot if one is free now (never waits, never goes into debt). */
  tryAcquire(): boolean {
    const t = this.now();
    if (this.pacing) {
      this.refill(t);
      if (this.tokens < 1) return false;
      this.tokens -= 1;
    }
    this.countSend(t);
    return true;
  }

  /**
   * A send was refused by a throttle. With `sentAt` (this limiter's clock): a send made before the
   * slots reserved at the last throttle ran out was paced at the rate that throttle already lowered
   * (a burst sent at once comes back as a burst of refusals), so its refusal lowers it no further:
   * one decrease per round of sends, as congestion control does once per round trip.
   * `limitHint`: the rate limit the refusal named, taken as the rate in use when this limiter has
   * measured none (its sends went out without it, e.g. tells before the first refusal).
   */
  onThrottle(sentAt?: number, limitHint?: number): void {
    if (sentAt !== undefined && this.pacing && sentAt < this.settledAt) return;
    const t = this.now();
    this.refill(t);
    const sending = this.sendRate(t);
    const inUse = this.pacing ? Math.min(sending || this.fillRate, this.fillRate) : sending;
    this.lastMaxRate = Math.max(this.minRate, inUse > 0 ? inUse : (limitHint ?? 0));
    this.lastThrottleAt = t;
    // The slots reserved so far go out at the rate in use until then.
    const debt = this.pacing ? Math.max(0, -this.tokens) : 0;
    this.settledAt = t + (debt / Math.max(this.fillRate, this.minRate)) * 1000;
    this.setRate(this.lastMaxRate * this.beta);
    if (!this.pacing) {
      this.pacing = true;
      this.tokens = 0;
    }
  }

  /** A send got through. */
  onSuccess(): void {
    if (!this.pacing) return;
    const t = this.now();
    this.refill(t);
    const seconds = (t - this.lastThrottleAt) / 1000;
    const k = Math.cbrt((this.lastMaxRate * (1 - this.beta)) / this.scale);
    const cubic = this.scale * (seconds - k) ** 3 + this.lastMaxRate;
    this.setRate(Math.min(cubic, 2 * Math.max(this.sendRate(t), this.minRate)));
  }

  /** The smoothed send rate; before the first slot ends, the rate of the slot so far. */
  private sendRate(t: number): number {
    if (this.measured > 0) return this.measured;
    const elapsed = t - this.slotStart;
    return elapsed > 0 ? (this.slotCount * 1000) / Math.max(elapsed, 50) : 0;
  }

  private setRate(rate: number): void {
    this.fillRate = Math.max(this.minRate, rate);
  }

  private refill(t: number): void {
    if (this.pacing) {
      const elapsed = Math.max(0, t - this.refilledAt);
      this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.fillRate);
    }
    this.refilledAt = t;
  }

  private countSend(t: number): void {
    this.slotCount += 1;
    const elapsed = t - this.slotStart;
    if (elapsed >= SLOT_MS) {
      const sample = (this.slotCount * 1000) / elapsed;
      this.measured = this.measured === 0 ? sample : this.measured * SMOOTHING + sample * (1 - SMOOTHING);
      this.slotCount = 0;
      this.slotStart = t;
    }
  }
}
