/**
 * The handlers of `troupe.v1.ScalingService`: the monitor's latest decisions, as `troupe scale
 * status` and the local autoscaler read them. A malformed group name is INVALID_ARGUMENT, an
 * unknown one NOT_FOUND; a known group whose first round has not finished yet is UNAVAILABLE
 * (retryable).
 */
import { status } from "@grpc/grpc-js";
import type { ScalingDecision as DecisionMessage, ScalingServiceHandlers } from "troupe/internal";
import type { ScalingDecision } from "./decide.js";
import type { ScalingMonitor } from "./monitor.js";
import { isGroupName } from "./policy.js";

export function toDecisionMessage(d: ScalingDecision, nowMs: number): DecisionMessage {
  return {
    group: d.group,
    currentHosts: d.currentHosts,
    desiredHosts: d.desiredHosts,
    rawDesiredHosts: d.rawHosts,
    reason: d.reason,
    active: d.active,
    minHosts: d.minHosts,
    maxHosts: d.maxHosts,
    backlog: d.backlog,
    arrivalPerSecond: d.arrivalPerSecond,
    completionPerSecond: d.completionPerSecond,
    oldestWaitSeconds: d.oldestWaitMs / 1000,
    mailboxDepth: d.mailboxDepth,
    turnsInFlight: d.turnsInFlight,
    throttledPerSecond: d.throttledPerSecond,
    cpu: d.cpu,
    limitedBy: d.limitedBy,
    ageMs: Math.max(0, Math.round(nowMs - d.atMs)),
    queues: d.sample.queues.map((q) => ({
      name: q.name,
      pending: q.pending,
      ackPending: q.ackPending,
      arrivalPerSecond: q.arrivalPerSecond,
      completionPerSecond: q.completionPerSecond,
      oldestWaitSeconds: q.oldestWaitMs / 1000,
    })),
    hosts: d.sample.hosts.map((h) => ({
      hostId: h.hostId,
      mailboxDepth: h.mailboxDepth,
      turnsInFlight: h.turnsInFlight,
      cpu: h.cpu,
      draining: h.draining,
    })),
  };
}

export interface LookupError {
  code: status;
  details: string;
}

/** The group's latest decision, or the status explaining why there is none. */
export function lookupDecision(
  monitor: ScalingMonitor,
  group: string,
): { decision: ScalingDecision } | { error: LookupError } {
  if (!group) return { error: { code: status.INVALID_ARGUMENT, details: "group: required" } };
  if (!isGroupName(group)) {
    return {
      error: {
        code: status.INVALID_ARGUMENT,
        details: `group: "${group.slice(0, 80)}" is not 1-64 letters, digits, "_" or "-"`,
      },
    };
  }
  const decision = monitor.decision(group);
  if (decision) return { decision };
  if (monitor.knows(group)) {
    return { error: { code: status.UNAVAILABLE, details: `group ${group}: no decision yet, retry shortly` } };
  }
  return {
    error: {
      code: status.NOT_FOUND,
      details: `group ${group}: not configured on this control plane and no connected host reports it`,
    },
  };
}

export function scalingServiceHandlers(monitor: ScalingMonitor): ScalingServiceHandlers {
  return {
    ListDecisions: (_call, callback) => {
      const now = performance.now();
      callback(null, { decisions: monitor.decisions().map((d) => toDecisionMessage(d, now)) });
    },
    GetDecision: (call, callback) => {
      const found = lookupDecision(monitor, call.request.group);
      if ("error" in found) callback(found.error);
      else callback(null, toDecisionMessage(found.decision, performance.now()));
    },
  };
}
