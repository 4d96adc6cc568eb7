/**
 * The durable subscriptions of a mesh, as `troupe subs ls` shows them: one row per durable
 * consumer of the events stream and of the devices (MQTT) stream, with its backlog. Ephemeral subscriptions (core NATS queue
 * groups) leave no trace in JetStream and are not listed.
 */
import type { MeshConnection } from "../durable/index.js";
import { listConsumers } from "../transport/index.js";
import { DeviceNames } from "./devices.js";
import { ensureEventsStream, eventNamesOf } from "./streams.js";
import { DESCRIPTION_PREFIX } from "./subscribers.js";

export interface SubscriptionRow {
  /** Consumer name, `<Type>_<method>`. */
  readonly name: string;
  /** Whether it subscribes to MQTT device topics (the devices stream) rather than events. */
  readonly mqtt: boolean;
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
  for (const [source, c] of [
    ...(await listConsumers(mesh.transport, names.stream())).map((c) => [names, c] as const),
    // No devices stream (nobody subscribed to MQTT topics yet): no rows.
    ...(await listConsumers(mesh.transport, devices.stream())).map((c) => [devices, c] as const),
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
