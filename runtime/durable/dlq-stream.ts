/**
 * The dead-letter stream `<prefix>_dlq` (subjects `<prefix>.dlq.<Type>`), shared by job runners and
 * durable event subscribers; created on first use. An existing stream keeps its configuration.
 */
import type { JobQueueOptions } from "../actor/index.js";
import { JobNames } from "../messaging/index.js";
import { jetStreamQueues } from "../transport/index.js";
import { once } from "./once.js";
import type { MeshConnection } from "./services.js";

export const DEFAULT_DLQ_MAX_AGE_MS = 30 * 24 * 3600_000;

export function ensureDlqStream(mesh: MeshConnection, o: JobQueueOptions = {}): Promise<void> {
  const names = new JobNames(mesh.subjects.prefix);
  return once(mesh, "dlq", () =>
    jetStreamQueues(mesh.transport).ensureStream({
      name: names.dlqStream(),
      subjects: [names.dlqFilter()],
      retention: "limits",
      replicas: o.replicas ?? mesh.replicas,
      maxAgeMs: o.dlqMaxAgeMs ?? DEFAULT_DLQ_MAX_AGE_MS,
      description: "Troupe dead-lettered jobs, subject <prefix>.dlq.<Type>",
    }),
  );
}
