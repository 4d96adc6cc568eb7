/**
 * Where a host's subscriptions read their events from, and how a message is read there:
 *
 * - Troupe events: `<prefix>_events` (durable, with the DLQ stream) or core subjects (ephemeral),
 *   decoded as events (event.ts).
 * - MQTT subscriptions (devices.ts): raw device subjects, stored in the devices stream, decoded as
 *   a device's payload.
 * - At an edge site (hub-events.ts): a durable Troupe-event subscription also reads
 *   `<prefix>_hub_events`, skipping its own site's events there (`ownDomain`).
 *
 * @example
 * ```ts
 * const sourcesOf = await openSources(mesh, specs, options.stream);
 * for (const source of sourcesOf(spec)) new DurableSubscription(..., source.names, source.ownDomain);
 * ```
 */
import { ensureDlqStream, type MeshConnection } from "../durable/index.js";
import type { EventNames } from "../messaging/index.js";
import type { MessageHeaders } from "../transport/index.js";
import { DeviceNames, decodeDeviceMessage, ensureDeviceStream } from "./devices.js";
import { decodeEvent } from "./event.js";
import { hubEventsOf } from "./hub-events.js";
import { type EventStreamOptions, ensureEventsStream, eventNamesOf } from "./streams.js";
import type { SubscriptionSpec } from "./subscribe.js";

/** One stream (or subject space) a subscription consumes. */
export interface EventSource {
  readonly names: EventNames;
  /** On the hub's events at an edge site: this site's domain, whose own events are skipped. */
  readonly ownDomain?: string;
}

/**
 * Ensures the streams `specs` read (events and DLQ, devices) and looks for the hub's events; returns
 * the sources of each subscription: one, or two for a durable Troupe-event subscription at an edge site.
 */
export async function openSources(
  mesh: MeshConnection,
  specs: readonly SubscriptionSpec[],
  stream: EventStreamOptions | undefined,
): Promise<(spec: SubscriptionSpec) => EventSource[]> {
  const names = eventNamesOf(mesh);
  if (specs.some((spec) => spec.durable)) {
    await Promise.all([ensureEventsStream(mesh, stream), ensureDlqStream(mesh)]);
  }
  const mqttFilters = specs.filter((spec) => spec.mqtt && spec.durable).map((spec) => spec.pattern);
  if (mqttFilters.length) await ensureDeviceStream(mesh, mqttFilters);
  const deviceNames = new DeviceNames(mesh.subjects.prefix);
  const hub = specs.some((spec) => spec.durable && !spec.mqtt) ? await hubEventsOf(mesh) : undefined;
  return (spec) => {
    const own: EventSource = { names: spec.mqtt ? deviceNames : names };
    if (!hub || !spec.durable || spec.mqtt) return [own];
    return [own, { names: hub.names, ownDomain: hub.domain }];
  };
}

/** A Troupe event, or for MQTT subscriptions a device's raw payload (devices.ts). */
export function decodeFor(
  spec: SubscriptionSpec,
  subject: string,
  data: Uint8Array,
  headers: MessageHeaders | undefined,
): unknown {
  return spec.mqtt
    ? decodeDeviceMessage(subject, data, headers, spec.mqtt.payload)
    : decodeEvent(data, headers);
}
