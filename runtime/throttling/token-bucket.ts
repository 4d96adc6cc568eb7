/**
 * A token bucket: holds up to `burst` tokens, refilled at `ratePerSecond`; a turn takes one. Times
 * come from a monotonic clock in milliseconds (performance.now() by default), so wall-clock jumps
 * never mint or lose tokens.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket(10, 5, now);   // 10/s, bursts of 5
 * bucket.tryTake();                              // true, 4 left
 * bucket.msUntilAvailable();                     // 0 while tokens remain; else when the next one is due
 * ```
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private ratePerSecond: number,
    private burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.refilledAt = now();
  }

  /** New rate and size (a new share); keeps the tokens saved so far, capped at the new size. */
  reshape(ratePerSecond: number, burst: number): void {
    this.refill();
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  /** Whole tokens available now. */
  remaining(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Whether a token is available now (takes nothing). */
  canTake(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  /** Takes a token if one is available. */
  tryTake(): boolean {
    if (!this.canTake()) return false;
    this.tokens -= 1;
    return true;
  }

  /** Takes a token unconditionally (after {@link canTake} said yes for a group of buckets). */
  take(): void {
    this.tokens -= 1;
  }

  /** Milliseconds until a token is available (Infinity for a bucket with no rate). */
  msUntilAvailable(): number {
    this.refill();
    if (this.tokens >= 1) return 0;
    if (this.ratePerSecond <= 0 || this.burst < 1) return Number.POSITIVE_INFINITY;
    return Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  /** True when the bucket is full again (nothing to remember about it). */
  isFull(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  private refill(): void {
    const t = this.now();
    const elapsed = t - this.refilledAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.ratePerSecond);
      this.refilledAt = t;
    }
  }
}
