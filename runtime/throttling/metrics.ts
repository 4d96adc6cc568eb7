/**
 * The enforcer's counters as metrics: `troupe.throttle.decisions`, a monotonic counter per policy
 * and outcome (allowed, refused), read from {@link LocalEnforcer.counters} at each collection. It
 * shows on the Prometheus endpoint as `troupe_throttle_decisions_total{troupe_throttle_policy,
 * troupe_throttle_outcome}` and goes to any OTel metrics exporter. Hosts and gateways register it
 * with their enforcer; nothing is recorded on the turn's path.
 *
 * @example
 * ```ts
 * const stop = observeThrottleDecisions(enforcer);
 * // ... on shutdown:
 * stop();
 * ```
 */
import {
  ATTR_TROUPE_THROTTLE_OUTCOME,
  ATTR_TROUPE_THROTTLE_POLICY,
  METRIC_THROTTLE_DECISIONS,
  observeCounter,
} from "../telemetry/index.js";
import type { LocalEnforcer } from "./enforcer.js";

/** Registers the enforcer's counters; returns the function that unregisters them. */
export function observeThrottleDecisions(enforcer: LocalEnforcer): () => void {
  return observeCounter(
    METRIC_THROTTLE_DECISIONS,
    "Turns a throttling enforcer allowed or refused",
    (report) => {
      for (const [policy, counts] of enforcer.counters()) {
        report(counts.allowed, {
          [ATTR_TROUPE_THROTTLE_POLICY]: policy,
          [ATTR_TROUPE_THROTTLE_OUTCOME]: "allowed",
        });
        report(counts.refused, {
          [ATTR_TROUPE_THROTTLE_POLICY]: policy,
          [ATTR_TROUPE_THROTTLE_OUTCOME]: "refused",
        });
      }
    },
  );
}
