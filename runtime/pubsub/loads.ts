/**
 * The load of the durable subscriptions, as scaling reads it beside the job queues
 * (services/control-plane/scaling/): one listing of consumers per stream and call, one row per
 * consumer whose subscription names its actor type. A subscription's backlog is wherever its
 * consumers wait, so three streams are read (a missing one has no rows):
 *
 * | stream | consumers of | row name |
 * |---|---|---|
 * | `<prefix>_events` | `@subscribe` on events | `events.<consumer>` |
 * | `<prefix>_devices` | `@subscribe(..., { mqtt })` on device topics | `devices.<consumer>` |
 * | `<prefix>_hub_events` | at an edge site, the same subscriptions on the hub's events | `hub_events.<consumer>` |
 *
 * At an edge site the hub's copy also holds the site's own events, back from the hub; they count
 * as backlog until the subscriber skips them (it acks them unhandled: cheap, but not free).
 *
 * Arrivals are counted as deliveries + pending from the same consumer snapshot: a first delivery
 * moves one event from pending to delivered (no change), a new event adds one. A redelivery adds
 * one too, so while events are retried the arrival and completion rates both read a little high.
 * There is no oldest-wait for a subscription (the events stream keeps events every subscriber
 * already has; its first timestamp says nothing about one consumer).
 */

import { EventNames, HubEventNames } from "../messaging/index.js";
import {
  type Backlog,
  type ConsumerListing,
  isPermissionDenied,
  listConsumers,
  type Transport,
} from "../transport/index.js";
import { DeviceNames } from "./devices.js";
import { DESCRIPTION_PREFIX } from "./durable-subscription.js";

export interface SubscriptionLoad {
  /**
   * Low-cardinality name for decisions and gauges: `events.<consumer>` (`events.Cart_onCancelled`),
   * `devices.<consumer>` or `hub_events.<consumer>`.
   */
  readonly name: string;
  /** The subscribing actor type. */
  readonly type: string;
  readonly load: Backlog;
}

export async function subscriptionLoads(transport: Transport, prefix: string): Promise<SubscriptionLoad[]> {
  const out: SubscriptionLoad[] = [];
  const streams: Array<[string, string]> = [
    ["events", new EventNames(prefix).stream()],
    ["devices", new DeviceNames(prefix).stream()],
    ["hub_events", new HubEventNames(prefix).stream()],
  ];
  for (const [kind, stream] of streams) {
    for (const c of await consumersOf(transport, stream, kind !== "events")) {
      const type = typeOf(c.description);
      if (type) out.push({ name: `${kind}.${c.name}`, type, load: loadOf(c) });
    }
  }
  return out;
}

/**
 * A NATS user whose permissions predate the devices and hub-events rows (`troupe auth gen` grants
 * the listing now) may not list those streams: the connection logs the refusal, and scaling goes on
 * with the rest instead of failing every round.
 */
async function consumersOf(transport: Transport, stream: string, optional: boolean) {
  try {
    return await listConsumers(transport, stream);
  } catch (err) {
    if (optional && isPermissionDenied(err)) return [];
    throw err;
  }
}

function loadOf(c: ConsumerListing): Backlog {
  return {
    pending: c.pending,
    ackPending: c.ackPending,
    redelivered: c.redelivered,
    lastSeq: c.deliveries + c.pending,
    messages: c.pending + c.ackPending,
    firstSeq: undefined,
    oldestStoredAtMs: undefined,
    newestStoredAtMs: undefined,
  };
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
