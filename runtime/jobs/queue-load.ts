/**
 * The load of a job type's queue as scaling sees it: the shared runner consumer's pending and
 * ack-pending counts, the stream's last sequence (arrivals) and the age of its oldest job. Read by
 * the control plane (services/control-plane/scaling/) from JetStream, never from the hosts.
 */
import type { Backlog } from "../transport/jetstream-queue.js";
import { jetStreamQueues } from "../transport/jetstream-queue.js";
import type { Transport } from "../transport/transport.js";
import { JobNames, RUNNER_CONSUMER } from "./names.js";

export type JobQueueLoad = Backlog;

/** The queue's load, or null when the type has no queue (or no runner consumer) yet. */
export function jobQueueLoad(
  transport: Transport,
  prefix: string,
  type: string,
): Promise<JobQueueLoad | null> {
  return jetStreamQueues(transport).backlogOf(new JobNames(prefix).jobsStream(type), RUNNER_CONSUMER);
}

/** The low-cardinality name of a type's queue ("jobs.<Type>"). */
export function jobQueueName(type: string): string {
  return new JobNames("").queueName(type);
}
