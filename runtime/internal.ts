/**
 * The internal entry (`troupe/internal`): what the services in this repository (gateway, control
 * plane, CLI, examples) need beyond the public API, kept out of `troupe` so users do not build on
 * it. Not for users: no stability promise, it may change in any release.
 */
export { fromWireError, toWireError, type WireError } from "./errors.js";
export { interceptTurn, readonlyHeaders, recordHeaders, runChain } from "./interceptors/index.js";
export { enqueueByName } from "./jobs/enqueue.js";
export { isJobId } from "./jobs/names.js";
export { assertCaller, CALLER_HEADER, callerOf, MAX_CALLER_LENGTH } from "./messaging/caller.js";
export { decode, encode } from "./messaging/codec.js";
export { DEFAULT_PREFIX, Subjects } from "./messaging/subjects.js";
export { RestartingWatch } from "./placement/restarting-watch.js";
export * from "./protos/index.js";
export { decodeEvent } from "./pubsub/event.js";
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
  recordHttpRequest,
  runInHop,
  startHttpServerSpan,
  traceparentOf,
} from "./telemetry/index.js";
export * from "./throttling/index.js";
export { NatsTransport } from "./transport/nats-transport.js";
export { DEV_STATE_FILE, devStateDir, runningDevMesh } from "./transport/servers.js";
export type { KeyValueBucket, KvChange, Transport } from "./transport/transport.js";
