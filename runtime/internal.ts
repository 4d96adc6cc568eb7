/**
 * The internal entry (`troupe/internal`): what the services in this repository (gateway, control
 * plane, CLI, examples) need beyond the public API, kept out of `troupe` so users do not build on
 * it. Not for users: no stability promise, it may change in any release.
 */
export { fromWireError, toWireError, type WireError } from "./errors.js";
export { interceptTurn, readonlyHeaders, recordHeaders, runChain } from "./interceptors/index.js";
export { enqueueByName } from "./jobs/enqueue.js";
export {
  assertCaller,
  CALLER_HEADER,
  callerOf,
  DEFAULT_PREFIX,
  decode,
  encode,
  isJobId,
  MAX_CALLER_LENGTH,
  Subjects,
} from "./messaging/index.js";

import { JobNames, RUNNER_CONSUMER } from "./messaging/index.js";
import { type Backlog, jetStreamQueues } from "./transport/jetstream-queue.js";
import type { Transport } from "./transport/transport.js";

export { RestartingWatch } from "./placement/restarting-watch.js";
export * from "./protos/index.js";
export { decodeEvent } from "./pubsub/event.js";
export { type SubscriptionLoad, subscriptionLoads } from "./pubsub/loads.js";
export { eventNamesOf } from "./pubsub/streams.js";
export { assertPattern } from "./pubsub/topics.js";
export {
  AdaptiveRateLimiter,
  type AdaptiveRateOptions,
  callWithRetry,
  retryAfterMsOf,
  retryDelayMs,
} from "./resilience/index.js";
export {
  endHttpServerSpan,
  type Hop,
  observeGauge,
  recordHttpRequest,
  runInHop,
  startHttpServerSpan,
  startWebSocketFrameSpan,
  traceparentOf,
} from "./telemetry/index.js";
export * from "./throttling/index.js";
export { NatsTransport } from "./transport/nats-transport.js";
export { DEV_STATE_FILE, devStateDir, runningDevMesh } from "./transport/servers.js";
export type { KeyValueBucket, KvChange, Transport } from "./transport/transport.js";

/** A job type's queue as scaling reads it (services/control-plane/scaling/). */
export type JobQueueLoad = Backlog;

/**
 * The load of a job type's queue: the shared runner consumer's pending and ack-pending counts, the
 * stream's last sequence (arrivals) and the time its oldest job was stored. Null when the type has
 * no queue (or no runner consumer) yet.
 */
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
