/**
 * Placement tunables and their defaults. Every host of a mesh must use the same host TTL (it is the
 * hosts bucket's TTL; a host refuses to start when the bucket has another).
 */
import { ConfigurationError } from "../errors.js";

export interface PlacementOptions {
  /**
   * Removed: shards have no leases of their own since the host record became the only lease. A
   * host given it refuses to start (`ConfigurationError`); set `hostTtlMs` instead.
   * @deprecated
   */
  leaseTtlMs?: never;
  /** How often a host retries what is pending (shards to take over, fences to release). Default 2 500 ms. */
  renewEveryMs?: number;
  /**
   * A host stops serving every shard at `last lease renewal sent + hostTtlMs - safetyMarginMs` on
   * its own monotonic clock unless a renewal succeeded since. Covers clock-rate differences and
   * skew between NATS nodes. Default `hostTtlMs / 5`.
   */
  safetyMarginMs?: number;
  /** How often a host renews its lease (its record in the hosts bucket). Default 2 000 ms. */
  heartbeatEveryMs?: number;
  /** A host lease vanishes this long after its last renewal (the hosts bucket's TTL). Default 10 000 ms. */
  hostTtlMs?: number;
  /** Longest a graceful hand-off waits for in-flight turns before it abandons them. Default 30 000 ms. */
  handoffTimeoutMs?: number;
  /**
   * @internal Test hook: the host ids this host assigns shards over, from the roster's
   * (e.g. to make two hosts' views differ on purpose). Never needed in production.
   */
  view?: (actorType: string, hostIds: string[]) => string[];
}

export type ResolvedPlacementOptions = Required<Omit<PlacementOptions, "view" | "leaseTtlMs">> &
  Pick<PlacementOptions, "view">;

export const DEFAULT_RENEW_EVERY_MS = 2_500;
export const DEFAULT_HEARTBEAT_EVERY_MS = 2_000;
export const DEFAULT_HOST_TTL_MS = 10_000;
export const DEFAULT_HANDOFF_TIMEOUT_MS = 30_000;

export function resolvePlacementOptions(o: PlacementOptions = {}): ResolvedPlacementOptions {
  if ("leaseTtlMs" in o && o.leaseTtlMs !== undefined) {
    // Ignoring it would leave a host with a takeover time its operator did not choose; mapping it
    // to hostTtlMs would rename the knob silently (and every host of a mesh must agree on it).
    throw new ConfigurationError(
      "placement.leaseTtlMs was removed: shards have no leases of their own, the host lease covers them all; set placement.hostTtlMs (default 10 000 ms) instead",
    );
  }
  const hostTtlMs = o.hostTtlMs ?? DEFAULT_HOST_TTL_MS;
  const r: Required<Omit<PlacementOptions, "view" | "leaseTtlMs">> = {
    renewEveryMs: o.renewEveryMs ?? DEFAULT_RENEW_EVERY_MS,
    safetyMarginMs: o.safetyMarginMs ?? Math.floor(hostTtlMs / 5),
    heartbeatEveryMs: o.heartbeatEveryMs ?? DEFAULT_HEARTBEAT_EVERY_MS,
    hostTtlMs,
    handoffTimeoutMs: o.handoffTimeoutMs ?? DEFAULT_HANDOFF_TIMEOUT_MS,
  };
  for (const [k, v] of Object.entries(r)) {
    if (!Number.isFinite(v) || v <= 0)
      throw new ConfigurationError(`placement.${k} must be positive, got ${v}`);
  }
  if (r.hostTtlMs < 1000) throw new ConfigurationError("placement.hostTtlMs must be at least 1000 ms");
  if (r.heartbeatEveryMs * 2 > r.hostTtlMs - r.safetyMarginMs) {
    throw new ConfigurationError(
      "placement: heartbeatEveryMs must leave room for two renewals before hostTtlMs - safetyMarginMs",
    );
  }
  if (o.view !== undefined && typeof o.view !== "function") {
    throw new ConfigurationError("placement.view must be a function");
  }
  return o.view ? { ...r, view: o.view } : r;
}
