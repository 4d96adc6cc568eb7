/**
 * Actors: the base class, typed references, activations and their catalog. Other folders import
 * actor/ through this file (the older deep imports are being moved here; see docs/architecture.md).
 */
export type { AnyActor } from "./actor.js";
export type { ActorClass, ActorRef, CallOptions, HandlerName } from "./actor-ref.js";
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
