/**
 * The durable subscriptions of a mesh, as `troupe subs ls` shows them: one row per durable
 * consumer of the events stream, of the devices (MQTT) stream and, at an edge site, of the copy of
 * the hub's events (hub-events.ts), with its backlog. Ephemeral subscriptions (core NATS queue
 * groups) leave no trace in JetStream and are not listed.
 */
import type { MeshConnection } from "../durable/index.js";
import { HubEventNames } from "../messaging/index.js";
import { listConsumers } from "../transport/index.js";
import { DeviceNames } from "./devices.js";
import { DESCRIPTION_PREFIX } from "./durable-subscription.js";
import { ensureEventsStream, eventNamesOf } from "./streams.js";

export interface SubscriptionRow {
  /** Consumer name, `<Type>_<method>`. */
  readonly name: string;
  /** Whether it subscribes to MQTT device topics (the devices stream) rather than events. */
  readonly mqtt: boolean;
  /** Whether it reads the edge site's copy of the hub's events (`<prefix>_hub_events`). */
  readonly hub: boolean;
  readonly type: string | null;
  readonly method: string | null;
  readonly pattern: string;
  readonly filter: string | null;
  readonly keyed: boolean;
  readonly ordered: boolean;
  readonly startAt: string;
  /** Events not yet delivered to this subscriber. */
  readonly pending: number;
  /** Delivered, not yet acknowledged (being handled, or waiting for a retry). */
  readonly ackPending: number;
  readonly redelivered: number;
}

export async function listSubscriptions(mesh: MeshConnection): Promise<SubscriptionRow[]> {
  const names = eventNamesOf(mesh);
  await ensureEventsStream(mesh);
  const rows: SubscriptionRow[] = [];
  const devices = new DeviceNames(mesh.subjects.prefix);
  const hub = new HubEventNames(mesh.subjects.prefix);
  for (const [source, c] of [
    ...(await listConsumers(mesh.transport, names.stream())).map((c) => [names, c] as const),
    // No devices stream (nobody subscribed to MQTT topics yet): no rows.
    ...(await listConsumers(mesh.transport, devices.stream())).map((c) => [devices, c] as const),
    // Not an edge site with the hub's events: no rows.
    ...(await listConsumers(mesh.transport, hub.stream())).map((c) => [hub, c] as const),
  ]) {
    let d: Record<string, unknown> = {};
    if (c.description.startsWith(DESCRIPTION_PREFIX)) {
      try {
        d = JSON.parse(c.description.slice(DESCRIPTION_PREFIX.length)) as Record<string, unknown>;
      } catch {
        d = {};
      }
    }
    rows.push({
      name: c.name,
      mqtt: source === devices,
      hub: source === hub,
      type: typeof d.type === "string" ? d.type : null,
      method: typeof d.method === "string" ? d.method : null,
      pattern: typeof d.pattern === "string" ? d.pattern : source.topicOf(c.filterSubject),
      filter: typeof d.filter === "string" ? d.filter : null,
      keyed: d.keyed === true,
      ordered: d.ordered === true,
      startAt: typeof d.startAt === "string" ? d.startAt : c.deliverPolicy,
      pending: c.pending,
      ackPending: c.ackPending,
      redelivered: c.redelivered,
    });
  }
  return rows;
}
