/**
 * The events stream `<prefix>_events` (subjects `<prefix>.evt.>`, limits retention), created on
 * first use by a durable publish or a host with durable subscriptions. An existing stream keeps
 * its configuration (change it with `nats stream edit`).
 *
 * Once it exists it stores every event on `<prefix>.evt.>`, also those published with
 * `durable: false` (the publisher just does not wait for, or learn about, the store).
 */

import type { EventStreamOptions } from "../actor/index.js";
import { type MeshConnection, once } from "../durable/index.js";
import { EventNames } from "../messaging/index.js";
import { jetStreamQueues } from "../transport/index.js";

export type { EventStreamOptions };

export const DEFAULT_EVENTS_MAX_AGE_MS = 7 * 24 * 3600_000;

export function eventNamesOf(mesh: MeshConnection): EventNames {
  return new EventNames(mesh.subjects.prefix);
}

export function ensureEventsStream(mesh: MeshConnection, o: EventStreamOptions = {}): Promise<void> {
  const names = eventNamesOf(mesh);
  return once(mesh, "events", () =>
    jetStreamQueues(mesh.transport).ensureStream({
      name: names.stream(),
      subjects: [names.streamSubjects()],
      retention: "limits",
      replicas: o.replicas ?? mesh.replicas,
      maxAgeMs: o.maxAgeMs ?? DEFAULT_EVENTS_MAX_AGE_MS,
      ...(o.maxBytes ? { maxBytes: o.maxBytes } : {}),
      ...(o.duplicateWindowMs ? { duplicateWindowMs: o.duplicateWindowMs } : {}),
      description: "Troupe events, subject <prefix>.evt.<topic>",
    }),
  );
}
