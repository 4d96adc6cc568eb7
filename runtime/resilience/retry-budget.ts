/**
 * A retry budget (as in Finagle and gRPC's retry throttling): retries may add at most `ratio`
 * extra load on top of first attempts, plus a small floor of `minRetriesPerSecond` so that a
 * quiet client can still retry. When a dependency fails, every caller's retries drain the budget
 * and stop, instead of multiplying the load on it (a retry storm).
 *
 * @example
 * ```ts
 * const budget = new RetryBudget({ ratio: 0.2 });
 * budget.recordAttempt();                 // every first attempt
 * if (budget.tryRetry()) retryNow();      // every retry asks first
 * ```
 */
export interface RetryBudgetOptions {
  /** Retries allowed per first attempt (0.2 = at most 20% extra load). Default 0.2. */
  ratio?: number;
  /** Retries always allowed per second, whatever the ratio. Default 10. */
  minRetriesPerSecond?: number;
  /** Largest balance the ratio part may save up (burst). Default 100. */
  maxBalance?: number;
}

export class RetryBudget {
  private readonly ratio: number;
  private readonly floorPerSecond: number;
  private readonly maxBalance: number;
  private balance = 0;
  private floorTokens: number;
  private floorRefilledAt: number;

  constructor(
    options: RetryBudgetOptions = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.ratio = options.ratio ?? 0.2;
    this.floorPerSecond = options.minRetriesPerSecond ?? 10;
    this.maxBalance = options.maxBalance ?? 100;
    this.floorTokens = this.floorPerSecond;
    this.floorRefilledAt = this.now();
  }

  /** A first attempt was made: earns `ratio` of a retry. */
  recordAttempt(): void {
    this.balance = Math.min(this.maxBalance, this.balance + this.ratio);
  }

  /** Asks to retry; true (and the retry is spent) when the budget allows it. */
  tryRetry(): boolean {
    this.refillFloor();
    if (this.floorTokens >= 1) {
      this.floorTokens -= 1;
      return true;
    }
    if (this.balance >= 1) {
      this.balance -= 1;
      return true;
    }
    return false;
  }

  private refillFloor(): void {
    const t = this.now();
    const earned = ((t - this.floorRefilledAt) / 1000) * this.floorPerSecond;
    if (earned > 0) {
      this.floorTokens = Math.min(this.floorPerSecond, this.floorTokens + earned);
      this.floorRefilledAt = t;
    }
  }
}
