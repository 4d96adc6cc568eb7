/**
 * Placement tunables and their defaults. Every host of a mesh must use the same lease TTL and
 * host TTL (they are bucket-wide TTLs; a host refuses to start when the bucket has another).
 */
import { ConfigurationError } from "../errors.js";

export interface PlacementOptions {
  /** A shard lease vanishes this long after its last renewal unless renewed. Default 10 000 ms. */
  leaseTtlMs?: number;
  /** How often a holder renews its leases (and re-checks the assignment). Default `leaseTtlMs / 4`. */
  renewEveryMs?: number;
  /**
   * The holder stops serving a shard at `last renewal sent + leaseTtlMs - safetyMarginMs` on its
   * own monotonic clock unless a renewal succeeded since. Covers clock-rate differences and
   * skew between NATS nodes. Default `leaseTtlMs / 5`.
   */
  safetyMarginMs?: number;
  /** How often a host writes its membership heartbeat. Default 2 000 ms. */
  heartbeatEveryMs?: number;
  /** A host whose heartbeat was not seen for this long is dead (also the hosts bucket TTL). Default 10 000 ms. */
  hostTtlMs?: number;
  /** Longest a graceful hand-off waits for in-flight turns before it abandons them. Default 30 000 ms. */
  handoffTimeoutMs?: number;
}

export type ResolvedPlacementOptions = Required<PlacementOptions>;

export const DEFAULT_LEASE_TTL_MS = 10_000;
export const DEFAULT_HEARTBEAT_EVERY_MS = 2_000;
export const DEFAULT_HOST_TTL_MS = 10_000;
export const DEFAULT_HANDOFF_TIMEOUT_MS = 30_000;

export function resolvePlacementOptions(o: PlacementOptions = {}): ResolvedPlacementOptions {
  const leaseTtlMs = o.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const r: ResolvedPlacementOptions = {
    leaseTtlMs,
    renewEveryMs: o.renewEveryMs ?? Math.floor(leaseTtlMs / 4),
    safetyMarginMs: o.safetyMarginMs ?? Math.floor(leaseTtlMs / 5),
    heartbeatEveryMs: o.heartbeatEveryMs ?? DEFAULT_HEARTBEAT_EVERY_MS,
    hostTtlMs: o.hostTtlMs ?? DEFAULT_HOST_TTL_MS,
    handoffTimeoutMs: o.handoffTimeoutMs ?? DEFAULT_HANDOFF_TIMEOUT_MS,
  };
  for (const [k, v] of Object.entries(r)) {
    if (!Number.isFinite(v) || v <= 0)
      throw new ConfigurationError(`placement.${k} must be positive, got ${v}`);
  }
  if (r.leaseTtlMs < 1000) throw new ConfigurationError("placement.leaseTtlMs must be at least 1000 ms");
  if (r.renewEveryMs * 2 > r.leaseTtlMs - r.safetyMarginMs) {
    throw new ConfigurationError(
      "placement: renewEveryMs must leave room for two renewals before leaseTtlMs - safetyMarginMs",
    );
  }
  if (r.heartbeatEveryMs * 2 > r.hostTtlMs) {
    throw new ConfigurationError("placement: heartbeatEveryMs must be at most half of hostTtlMs");
  }
  return r;
}
