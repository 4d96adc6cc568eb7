/**
 * Actors: the base class, typed references, activations and their catalog. Other folders import
 * actor/ through this file (the older deep imports are being moved here; see docs/architecture.md).
 */
export { Actor, type AnyActor } from "./actor.js";
export type { ActorContext, ContextServices } from "./actor-context.js";
export {
  type ActorClass,
  type ActorRef,
  type CallOptions,
  type CallSender,
  createActorRef,
  type HandlerName,
  isNonHandlerName,
} from "./actor-ref.js";
export type { ActorOptions, ActorShape } from "./actor-shape.js";
export { type ActorType, actorTypeOf, typeNameOf } from "./actor-type.js";
export { type ActivationInfo, Catalog, type CatalogStats } from "./catalog.js";
export type {
  EnqueueOptions,
  EnqueueRef,
  EventStreamOptions,
  JobHandle,
  JobQueueOptions,
  PublishOptions,
  PublishReceipt,
  ReminderSchedule,
} from "./services.js";
export { KvStateStore, type StateStore } from "./state-store.js";
export type { ActivationStatus, Turn, TurnOutcome } from "./turn.js";
