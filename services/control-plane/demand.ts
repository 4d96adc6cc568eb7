/**
 * A host's recent demand per (policy, key), from its usage reports: per-second rates smoothed with
 * an exponentially weighted moving average (half of each new report), decaying for keys a report
 * no longer mentions, forgotten once negligible.
 */
import type { Demand } from "./allocate.js";

export interface KeyDemand extends Demand {
  allowedPerSecond: number;
  refusedPerSecond: number;
}

export interface UsageEntry {
  policy: string;
  key: string;
  allowed: number;
  refused: number;
  inFlight: number;
}

const WEIGHT = 0.5;
const NEGLIGIBLE = 0.01;
/** Elapsed time between reports is clamped to this range (seconds). */
const MIN_ELAPSED_S = 0.25;
const MAX_ELAPSED_S = 10;

export function demandKey(policy: string, key: string): string {
  return `${policy}\u0000${key}`;
}

export class HostDemand {
  private readonly keys = new Map<string, KeyDemand & { policy: string; key: string }>();
  private lastReportAt: number | undefined;

  constructor(private readonly reportIntervalMs: number) {}

  /** Folds in one report made at monotonic time `now` (ms). */
  record(entries: readonly UsageEntry[], now: number): void {
    const elapsedMs = this.lastReportAt === undefined ? this.reportIntervalMs : now - this.lastReportAt;
    this.lastReportAt = now;
    const seconds = Math.min(MAX_ELAPSED_S, Math.max(MIN_ELAPSED_S, elapsedMs / 1000));
    const seen = new Set<string>();
    for (const e of entries) {
      const id = demandKey(e.policy, e.key);
      seen.add(id);
      const sample = {
        allowedPerSecond: e.allowed / seconds,
        refusedPerSecond: e.refused / seconds,
        rate: (e.allowed + e.refused) / seconds,
        concurrency: e.inFlight + (e.refused > 0 ? 1 : 0),
      };
      const old = this.keys.get(id);
      this.keys.set(id, {
        policy: e.policy,
        key: e.key,
        allowedPerSecond: blend(old?.allowedPerSecond, sample.allowedPerSecond),
        refusedPerSecond: blend(old?.refusedPerSecond, sample.refusedPerSecond),
        rate: blend(old?.rate, sample.rate),
        concurrency: blend(old?.concurrency, sample.concurrency),
      });
    }
    for (const [id, d] of this.keys) {
      if (seen.has(id)) continue;
      d.allowedPerSecond *= WEIGHT;
      d.refusedPerSecond *= WEIGHT;
      d.rate *= WEIGHT;
      d.concurrency *= WEIGHT;
      if (d.rate < NEGLIGIBLE && d.concurrency < NEGLIGIBLE) this.keys.delete(id);
    }
  }

  get(policy: string, key: string): KeyDemand | undefined {
    return this.keys.get(demandKey(policy, key));
  }

  /** Every (policy, key) with demand. */
  entries(): Iterable<KeyDemand & { policy: string; key: string }> {
    return this.keys.values();
  }
}

function blend(old: number | undefined, sample: number): number {
  return old === undefined ? sample : old * (1 - WEIGHT) + sample * WEIGHT;
}
