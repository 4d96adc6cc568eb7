/**
 * The hosting process: lifecycle (host.ts; joining placement in join.ts, serving a type in
 * serve-type.ts), inbound dispatch (dispatch.ts), replies and keepalives (replies.ts,
 * call-keepalives.ts), and the type registry. Other folders import host/ through this file.
 */
export { type AwaitedCall, CallKeepalives, DEFAULT_KEEPALIVE_EVERY_MS } from "./call-keepalives.js";
export {
  Host,
  type HostDeps,
  type HostedActor,
  type HostOptions,
  type HostStatus,
  type HostThrottlingOptions,
} from "./host.js";
export { type TypeRecord, TypeRegistry } from "./type-registry.js";
