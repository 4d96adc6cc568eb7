/**
 * Turns the policies in force and every host's demand into each host's Shares: for every policy,
 * one share per key that some host reported (the busiest `maxKeys` keys), split by
 * {@link splitLimit}, plus a default share (an equal split) for keys no host reported yet. Pure.
 *
 * Hosts and gateways are planned apart: each group's shares sum to the whole limit. A call through
 * a gateway is counted at the gateway (refused at the edge when over) and again on its host; were
 * they one group, the same traffic would be counted twice against one limit.
 */
import type { Policy, PolicyShare } from "troupe/internal";
import { type Demand, type LimitShare, splitLimit } from "./allocate.js";

/** "host": enforces turns; "gateway": enforces at the HTTP edge. */
export type HostRole = "host" | "gateway";

/** What the planner needs to know about one host. */
export interface HostView {
  readonly hostId: string;
  /** Default "host". */
  readonly role?: HostRole;
  demand(policy: string, key: string): Demand | undefined;
  /** Every (policy, key) this host reported demand for. */
  entries(): Iterable<{ policy: string; key: string; rate: number; concurrency: number }>;
}

/** Keys with their own share per policy; the others get the default share. */
export const DEFAULT_MAX_KEYS = 1000;

export function planShares(
  policies: readonly Policy[],
  hosts: readonly HostView[],
  maxKeys = DEFAULT_MAX_KEYS,
): Map<string, PolicyShare[]> {
  const gateways = hosts.filter((h) => h.role === "gateway");
  if (gateways.length === 0) return planGroup(policies, hosts, maxKeys);
  const out = planGroup(
    policies,
    hosts.filter((h) => h.role !== "gateway"),
    maxKeys,
  );
  for (const [id, shares] of planGroup(policies, gateways, maxKeys)) out.set(id, shares);
  return out;
}

function planGroup(
  policies: readonly Policy[],
  hosts: readonly HostView[],
  maxKeys: number,
): Map<string, PolicyShare[]> {
  const ordered = [...hosts].sort((a, b) => a.hostId.localeCompare(b.hostId));
  const out = new Map<string, PolicyShare[]>(ordered.map((h) => [h.hostId, []]));
  if (ordered.length === 0) return out;
  const totals = keyTotals(ordered);
  for (const policy of policies) {
    const limit = limitOf(policy);
    const equal = splitLimit(
      limit,
      ordered.map(() => undefined),
    );
    const keys = [...(totals.get(policy.name) ?? new Map<string, number>())]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, maxKeys)
      .map(([key]) => key);
    const perKey = keys.map((key) => ({
      key,
      shares: splitLimit(
        limit,
        ordered.map((h) => h.demand(policy.name, key)),
      ),
    }));
    ordered.forEach((host, i) => {
      out.get(host.hostId)?.push({
        policy,
        defaultShare: equal[i] ?? null,
        keys: perKey.map(({ key, shares }) => ({ key, share: shares[i] ?? null })),
      });
    });
  }
  return out;
}

function limitOf(policy: Policy): LimitShare {
  return {
    ratePerSecond: policy.limit?.ratePerSecond ?? 0,
    burst: policy.limit?.burst ?? 0,
    maxConcurrency: policy.limit?.maxConcurrency ?? 0,
  };
}

/** Per policy, per key: the demand summed over hosts (to pick the busiest keys). */
function keyTotals(hosts: readonly HostView[]): Map<string, Map<string, number>> {
  const totals = new Map<string, Map<string, number>>();
  for (const host of hosts) {
    for (const e of host.entries()) {
      const byKey = totals.get(e.policy) ?? new Map<string, number>();
      totals.set(e.policy, byKey);
      byKey.set(e.key, (byKey.get(e.key) ?? 0) + e.rate + e.concurrency);
    }
  }
  return totals;
}
