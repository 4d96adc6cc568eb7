/**
 * The JetStream streams behind jobs, created on first use by whichever process needs them first
 * (producer or runner). An existing stream keeps its configuration: change limits with
 * `nats stream edit`, not by passing other options.
 */
import type { Mesh } from "../mesh.js";
import { JobNames } from "../messaging/index.js";
import { jetStreamQueues } from "../transport/jetstream-queue.js";

export const DEFAULT_RESULTS_MAX_AGE_MS = 24 * 3600_000;
export const DEFAULT_DLQ_MAX_AGE_MS = 30 * 24 * 3600_000;

import type { JobQueueOptions } from "../actor/index.js";
import { once } from "../durable/index.js";

export type { JobQueueOptions };

export { once };

/**
 * The mesh's replica count. `Mesh` keeps it private today; read it until it gets an accessor
 * (see the wiring notes in docs/patterns/long-running-work.md).
 */
export function meshReplicas(mesh: Mesh): number {
  const r = (mesh as unknown as { replicas?: unknown }).replicas;
  return typeof r === "number" && r > 0 ? r : 1;
}

export function namesOf(mesh: Mesh): JobNames {
  return new JobNames(mesh.subjects.prefix);
}

export function ensureJobStream(mesh: Mesh, type: string, o: JobQueueOptions = {}): Promise<void> {
  const names = namesOf(mesh);
  return once(mesh, `jobs:${type}`, () =>
    jetStreamQueues(mesh.transport).ensureStream({
      name: names.jobsStream(type),
      subjects: [names.jobsFilter(type)],
      retention: "workqueue",
      replicas: o.replicas ?? meshReplicas(mesh),
      ...(o.maxJobs ? { maxMessages: o.maxJobs } : {}),
      ...(o.maxBytes ? { maxBytes: o.maxBytes } : {}),
      ...(o.duplicateWindowMs ? { duplicateWindowMs: o.duplicateWindowMs } : {}),
      description: `Troupe durable jobs of actor type ${type}`,
    }),
  );
}

export function ensureResultsStream(mesh: Mesh, o: JobQueueOptions = {}): Promise<void> {
  const names = namesOf(mesh);
  return once(mesh, "results", () =>
    jetStreamQueues(mesh.transport).ensureStream({
      name: names.resultsStream(),
      subjects: [names.resultsFilter()],
      retention: "limits",
      replicas: o.replicas ?? meshReplicas(mesh),
      maxAgeMs: o.resultsMaxAgeMs ?? DEFAULT_RESULTS_MAX_AGE_MS,
      maxMessagesPerSubject: 1,
      allowDirect: true,
      description: "Troupe job results, subject <prefix>.results.<jobId>",
    }),
  );
}

export function ensureDlqStream(mesh: Mesh, o: JobQueueOptions = {}): Promise<void> {
  const names = namesOf(mesh);
  return once(mesh, "dlq", () =>
    jetStreamQueues(mesh.transport).ensureStream({
      name: names.dlqStream(),
      subjects: [names.dlqFilter()],
      retention: "limits",
      replicas: o.replicas ?? meshReplicas(mesh),
      maxAgeMs: o.dlqMaxAgeMs ?? DEFAULT_DLQ_MAX_AGE_MS,
      description: "Troupe dead-lettered jobs, subject <prefix>.dlq.<Type>",
    }),
  );
}
