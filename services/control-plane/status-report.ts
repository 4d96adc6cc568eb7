/**
 * What `GetStatus` (ThrottleService) answers: every host of every replica with its actor types and
 * the age of its last report, and per policy and key the rates allowed and refused across hosts
 * and each host's current share of the last plan.
 */
import type { GetStatusResponse, PolicyShare } from "troupe/internal";
import type { DemandBoard } from "./demand-board.js";
import type { ConnectedHost } from "./host-channel.js";
import type { PolicyStore } from "./policy-store.js";
import type { HostView } from "./share-planner.js";

export function statusReport(
  local: readonly ConnectedHost[],
  allHosts: () => HostView[],
  board: DemandBoard,
  store: PolicyStore,
  lastPlan: ReadonlyMap<string, PolicyShare[]>,
  policyName: string | undefined,
): GetStatusResponse {
  const now = performance.now();
  const hosts = [
    ...local.map((h) => ({
      hostId: h.hostId,
      actorTypes: [...h.actorTypes],
      lastReportAgeMs: Math.round(now - h.lastReportAt),
    })),
    ...board.remoteHosts(new Set(local.map((h) => h.hostId))).map((h) => ({
      hostId: h.hostId,
      actorTypes: [...h.actorTypes],
      lastReportAgeMs: h.ageMs,
    })),
  ];
  const views = allHosts();
  const policies = store
    .current()
    .filter((p) => policyName === undefined || p.name === policyName)
    .map((policy) => {
      const keys = new Map<string, { allowed: number; refused: number }>();
      for (const h of local) {
        for (const d of h.usage.entries()) {
          if (d.policy !== policy.name) continue;
          const k = keys.get(d.key) ?? { allowed: 0, refused: 0 };
          k.allowed += d.allowedPerSecond;
          k.refused += d.refusedPerSecond;
          keys.set(d.key, k);
        }
      }
      for (const h of board.remoteHosts(new Set(local.map((x) => x.hostId)))) {
        for (const r of h.rows) {
          if (r[0] !== policy.name) continue;
          const k = keys.get(r[1]) ?? { allowed: 0, refused: 0 };
          k.allowed += r[4];
          k.refused += r[5];
          keys.set(r[1], k);
        }
      }
      if (keys.size === 0) keys.set("", { allowed: 0, refused: 0 });
      return {
        policy: policy.name,
        keys: [...keys].map(([key, rates]) => ({
          key,
          allowedPerSecond: rates.allowed,
          refusedPerSecond: rates.refused,
          shares: views.map((h) => {
            const entry = lastPlan.get(h.hostId)?.find((s) => s.policy?.name === policy.name);
            const share = entry?.keys?.find((k) => k.key === key)?.share ?? entry?.defaultShare;
            return {
              hostId: h.hostId,
              ratePerSecond: share?.ratePerSecond ?? 0,
              burst: share?.burst ?? 0,
              maxConcurrency: share?.maxConcurrency ?? 0,
            };
          }),
        })),
      };
    });
  return { hosts, policies };
}
