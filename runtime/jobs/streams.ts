/**
 * The JetStream streams behind jobs, created on first use by whichever process needs them first
 * (producer or runner). An existing stream keeps its configuration: change limits with
 * `nats stream edit`, not by passing other options.
 */
import type { JobQueueOptions } from "../actor/index.js";
import { ensureDlqStream, type MeshConnection, once } from "../durable/index.js";
import { JobNames } from "../messaging/index.js";
import { jetStreamQueues } from "../transport/index.js";

export const DEFAULT_RESULTS_MAX_AGE_MS = 24 * 3600_000;

export type { JobQueueOptions };

export { ensureDlqStream, once };

export function namesOf(mesh: MeshConnection): JobNames {
  return new JobNames(mesh.subjects.prefix);
}

export function ensureJobStream(mesh: MeshConnection, type: string, o: JobQueueOptions = {}): Promise<void> {
  const names = namesOf(mesh);
  return once(mesh, `jobs:${type}`, () =>
    jetStreamQueues(mesh.transport).ensureStream({
      name: names.jobsStream(type),
      subjects: [names.jobsFilter(type)],
      retention: "workqueue",
      replicas: o.replicas ?? mesh.replicas,
      ...(o.maxJobs ? { maxMessages: o.maxJobs } : {}),
      ...(o.maxBytes ? { maxBytes: o.maxBytes } : {}),
      ...(o.duplicateWindowMs ? { duplicateWindowMs: o.duplicateWindowMs } : {}),
      description: `Troupe durable jobs of actor type ${type}`,
    }),
  );
}

export function ensureResultsStream(mesh: MeshConnection, o: JobQueueOptions = {}): Promise<void> {
  const names = namesOf(mesh);
  return once(mesh, "results", () =>
    jetStreamQueues(mesh.transport).ensureStream({
      name: names.resultsStream(),
      subjects: [names.resultsFilter()],
      retention: "limits",
      replicas: o.replicas ?? mesh.replicas,
      maxAgeMs: o.resultsMaxAgeMs ?? DEFAULT_RESULTS_MAX_AGE_MS,
      maxMessagesPerSubject: 1,
      allowDirect: true,
      description: "Troupe job results, subject <prefix>.results.<jobId>",
    }),
  );
}
