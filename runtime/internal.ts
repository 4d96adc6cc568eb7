/**
 * The internal entry (`troupe/internal`): what the services in this repository (the control plane,
 * the examples) use beyond the public API. Not for users: it may change in any release.
 */
export { DEFAULT_PREFIX, Subjects } from "./messaging/subjects.js";
export { RestartingWatch } from "./placement/restarting-watch.js";
export * from "./protos/index.js";
export {
  AdaptiveRateLimiter,
  type AdaptiveRateOptions,
  callWithRetry,
  retryAfterMsOf,
  retryDelayMs,
} from "./resilience/index.js";
export * from "./throttling/index.js";
export { NatsTransport } from "./transport/nats-transport.js";
export type { KeyValueBucket, KvChange, Transport } from "./transport/transport.js";
