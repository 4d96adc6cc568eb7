/**
 * What an actor can ask of the mesh beyond calls (`this.enqueue`, `this.publish`, `this.remind`):
 * the option and result shapes, defined here so that actor/ depends on these contracts and not on
 * jobs/, pubsub/ or reminders/, which build on actor/ and re-export them.
 */
import type { HandlerName } from "./actor-ref.js";

/** A durable job as an actor sees it once enqueued (the `Job` class of `troupe` implements it). */
export interface JobHandle<T = unknown> {
  readonly id: string;
  readonly seq: number;
  readonly duplicate: boolean;
  readonly keepsResult: boolean;
  result(options?: { timeoutMs?: number }): Promise<T>;
}

type EnqueueHandler<F> = F extends (...args: infer P) => infer R
  ? (...args: P) => Promise<JobHandle<Awaited<R>>>
  : never;

/** Every handler of `A`, enqueuing instead of calling (`this.enqueue(Type, id)` inside an actor). */
export type EnqueueRef<A> = { readonly [K in HandlerName<A>]: EnqueueHandler<A[K]> };

export interface JobQueueOptions {
  /** Replicas of the job, result and DLQ streams. Default: the mesh's `replicas` (1). */
  replicas?: number;
  /** Jobs a type's queue may hold; beyond it `enqueue` fails with `QueueFullError`. Default: no limit. */
  maxJobs?: number;
  /** Bytes a type's queue may hold; beyond it `enqueue` fails with `QueueFullError`. Default: no limit. */
  maxBytes?: number;
  /** Window in which a second job with the same id/key is dropped. Default 2 minutes. */
  duplicateWindowMs?: number;
  /** How long results stay readable by job id. Default 24 h. */
  resultsMaxAgeMs?: number;
  /** How long dead letters are kept. Default 30 days. */
  dlqMaxAgeMs?: number;
}

export interface EnqueueOptions {
  /**
   * Idempotency key: the job id is derived from (type, key), so enqueueing the same key again
   * within the dedup window stores nothing new and returns a handle on the same job.
   */
  key?: string;
  /** Attempts allowed (first included). Default: the runner's `maxAttempts` (5). */
  maxAttempts?: number;
  /**
   * Deadline of one attempt. Also how long a runner waits on an actor whose host died mid-turn
   * before retrying: set it to the longest the job may take. Default 15 minutes.
   */
  timeoutMs?: number;
  /**
   * Store the job's outcome in the results stream for `job.result()` (default true). With false
   * the job is durable work whose outcome nobody reads back (failures still go to the DLQ): one
   * JetStream write less per job, and `result()` on its handle throws at once.
   */
  keepResult?: boolean;
  /** Stream settings used if this enqueue creates the queue. */
  queue?: JobQueueOptions;
  /** Who enqueues (overrides `connect({ clientId })`); the runner's interceptors read it as `ctx.caller`. */
  caller?: string;
}

export interface EventStreamOptions {
  /** Replicas of the events stream. Default: the mesh's `replicas` (1). */
  replicas?: number;
  /** How long events are kept (a subscription started with `startAt: "all"` sees them). Default 7 days. */
  maxAgeMs?: number;
  /** Bytes the stream keeps (oldest dropped first). Default: no limit. */
  maxBytes?: number;
  /** Window in which a second publish with the same `msgId` is dropped. Default 2 minutes. */
  duplicateWindowMs?: number;
}

export interface PublishOptions {
  /** Wait for JetStream to store the event (default true). */
  durable?: boolean;
  /** Deduplication id (`Nats-Msg-Id`), 1-256 characters. */
  msgId?: string;
  /** How long a durable publish waits for its PubAck. Default 5 s. */
  timeoutMs?: number;
  /** Send the event as JSON instead of msgpack (for non-Troupe subscribers). */
  json?: boolean;
  /** Stream settings used if this publish creates the events stream. */
  stream?: EventStreamOptions;
  /** Who publishes (overrides `connect({ clientId })`); subscribers' interceptors read it as `ctx.caller`. */
  caller?: string;
  /**
   * Publish to MQTT devices instead: the topic is an MQTT topic (`devices/d-7/commands`) and the
   * event the raw payload (bytes, a string, or anything else as JSON), without a Troupe envelope.
   * `true` or `{ qos: 1 }`: delivered with QoS 1 to sessions subscribed with QoS 1, also while
   * their device is offline (persistent sessions); `{ qos: 0 }`: a core publish, at most once.
   * See docs/patterns/mqtt-devices.md.
   */
  mqtt?: boolean | { qos?: 0 | 1 };
}

export interface PublishReceipt {
  readonly topic: string;
  readonly subject: string;
  readonly durable: boolean;
  /** Durable: the event's sequence in the events stream. */
  readonly seq?: number;
  /** Durable: true when the `msgId` was already stored (nothing new was stored). */
  readonly duplicate?: boolean;
  /**
   * True with `connect({ outbox })`: the event is written to the local outbox and forwarded in
   * order while connected (no `seq` yet).
   */
  readonly queued?: boolean;
}

/** When a reminder fires: once `at` a time, or every `everyMs` (first at `firstAt`, default now + everyMs). */
export type ReminderSchedule =
  | { readonly at: Date | number }
  | { readonly everyMs: number; readonly firstAt?: Date | number };
