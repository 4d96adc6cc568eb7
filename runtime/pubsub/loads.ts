/**
 * The load of the durable subscriptions (`@subscribe` consumers of the events stream), as scaling
 * reads it beside the job queues (services/control-plane/scaling/): one listing of the stream's
 * consumers per call, one row per consumer whose subscription names its actor type.
 *
 * Arrivals are counted as deliveries + pending from the same consumer snapshot: a first delivery
 * moves one event from pending to delivered (no change), a new event adds one. A redelivery adds
 * one too, so while events are retried the arrival and completion rates both read a little high.
 * There is no oldest-wait for a subscription (the events stream keeps events every subscriber
 * already has; its first timestamp says nothing about one consumer).
 */

import { EventNames } from "../messaging/index.js";
import { type Backlog, listConsumers, type Transport } from "../transport/index.js";
import { DESCRIPTION_PREFIX } from "./subscribers.js";

export interface SubscriptionLoad {
  /** Low-cardinality name for decisions and gauges: `events.<consumer>` (`events.Cart_onCancelled`). */
  readonly name: string;
  /** The subscribing actor type. */
  readonly type: string;
  readonly load: Backlog;
}

export async function subscriptionLoads(transport: Transport, prefix: string): Promise<SubscriptionLoad[]> {
  const out: SubscriptionLoad[] = [];
  for (const c of await listConsumers(transport, new EventNames(prefix).stream())) {
    const type = typeOf(c.description);
    if (!type) continue;
    out.push({
      name: `events.${c.name}`,
      type,
      load: {
        pending: c.pending,
        ackPending: c.ackPending,
        redelivered: c.redelivered,
        lastSeq: c.deliveries + c.pending,
        messages: c.pending + c.ackPending,
        firstSeq: undefined,
        oldestStoredAtMs: undefined,
        newestStoredAtMs: undefined,
      },
    });
  }
  return out;
}

function typeOf(description: string): string | undefined {
  if (!description.startsWith(DESCRIPTION_PREFIX)) return undefined;
  try {
    const d = JSON.parse(description.slice(DESCRIPTION_PREFIX.length)) as { type?: unknown };
    return typeof d.type === "string" ? d.type : undefined;
  } catch {
    return undefined;
  }
}
