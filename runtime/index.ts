/**
 * Troupe's public API.
 *
 * @example
 * ```ts
 * import { Actor, connect } from "troupe";
 *
 * export class Counter extends Actor<{ value: number }> {
 *   static initialState = () => ({ value: 0 });
 *   async increment(by = 1) { this.state.value += by; return this.state.value; }
 * }
 *
 * const mesh = await connect();
 * const host = await mesh.host([Counter]);
 * console.log(await mesh.ref(Counter, "visits").increment());
 * ```
 */

export type { ActorClass, ActorRef, CallOptions, HandlerName } from "./actor/actor-ref.js";
export { Actor, type ActorOptions } from "./actor/index.js";
export { connect, type ResilientRefOptions, resilientRef } from "./connect.js";
export {
  DEFAULT_EDGE_RETENTION_MS,
  type EdgeLinkDenyOptions,
  type EdgeLinkOptions,
  type EdgeLinkStream,
  type EdgeSiteOptions,
  edgeLink,
  edgeLinkDenyList,
  edgeLinkStatus,
  edgeSite,
  leafRemoteConfig,
} from "./edge/index.js";
export * from "./errors.js";
export type { Host, HostOptions, HostStatus, HostThrottlingOptions } from "./host/host.js";
export type { TypeRecord } from "./host/type-registry.js";
export {
  type AdmissionTurn,
  type AdmittingInterceptor,
  admissionInterceptor,
  type InboundAdmit,
  type InboundContext,
  type InboundInterceptor,
  type InboundKind,
  type Interceptor,
  type OutboundActorContext,
  type OutboundContext,
  type OutboundInterceptor,
  type OutboundKind,
  type OutboundPublishContext,
  type ReadonlyHeaders,
} from "./interceptors/index.js";
export {
  type DeadLetter,
  type DeadLetterEntry,
  type DeadLetterReason,
  deadLetter,
  deadLetters,
  type EnqueueOptions,
  type EnqueueRef,
  Job,
  JobDeadLetteredError,
  type JobEvent,
  JobFailedError,
  type JobQueueOptions,
  type JobRunnerOptions,
  purgeDeadLetter,
  purgeDeadLetters,
  type ReplayOutcome,
  type ResultOptions,
  replayDeadLetter,
} from "./jobs/index.js";
export { consoleLogger, type Logger, type LogLevel } from "./log.js";
export { type ConnectOptions, Mesh } from "./mesh.js";
export {
  type DeadLetter as OutboxDeadLetter,
  type EntryKind as OutboxEntryKind,
  Outbox,
  type OutboxEntry,
  type OutboxEvents,
  OutboxFullError,
  OutboxLockedError,
  type OutboxOptions,
  type OutboxStatus,
  OutboxStoreError,
} from "./outbox/index.js";
export type { HostRecord, MembershipChange } from "./placement/membership.js";
export type { PlacementOptions } from "./placement/options.js";
export {
  compileFilter,
  type DeviceMessage,
  type DevicePayload,
  type EventInfo,
  ensureDeviceStream,
  listSubscriptions,
  PublishFailedError,
  type PublishOptions,
  type PublishReceipt,
  publish,
  type SubscribeOptions,
  type Subscribers,
  type SubscribersOptions,
  startSubscribers,
  subscribe,
} from "./pubsub/index.js";
export type { ReminderInfo, ReminderSchedule } from "./reminders/index.js";
export {
  type CallRetryOptions,
  RetryBudget,
} from "./resilience/index.js";
/**
 * The built-in interceptors, installed by default (docs/interceptors.md: reorder or leave out), and
 * `startTelemetry`, the OpenTelemetry SDK for a process entry point of your own
 * (docs/observability.md: call it before `connect()`, `shutdown()` it last; it loads the SDK
 * packages only when called).
 */
export {
  callMetrics,
  inboundTracing,
  outboundTracing,
  startTelemetry,
  type Telemetry,
  type TelemetryOptions,
} from "./telemetry/index.js";
export type { ThrottleInput, ThrottleKeyFunction } from "./throttling/index.js";
export type { NatsOptions } from "./transport/connection.js";
