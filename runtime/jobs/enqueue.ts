/**
 * Producing durable jobs: `enqueue(mesh, Cart, "cart-42").add(item)` stores a job in the type's
 * work-queue stream and resolves with a {@link Job} once JetStream acknowledged it (PubAck).
 *
 * @example
 * ```ts
 * const job = await enqueue(mesh, Cart, "cart-42", { key: "order-17" }).checkout();
 * const receipt = await job.result({ timeoutMs: 60_000 });
 * ```
 */
import type { AnyActor } from "../actor/actor.js";
import type { ActorClass, HandlerName } from "../actor/actor-ref.js";
import { isNonHandlerName } from "../actor/actor-ref.js";
import { typeNameOf } from "../actor/actor-type.js";
import { checkActorId, checkEnqueueOptions, checkTypeName } from "../client-options.js";
import type { Mesh } from "../mesh.js";
import { endHop, startEnqueueSpan } from "../telemetry/index.js";
import { jetStreamQueues, StreamLimitError } from "../transport/jetstream-queue.js";
import { decodeJob, encodeJob } from "./envelope.js";
import { QueueFullError } from "./errors.js";
import { Job } from "./job.js";
import { jobIdForKey, newJobId } from "./names.js";
import { ensureJobStream, ensureResultsStream, type JobQueueOptions, namesOf } from "./streams.js";

/** Deadline of one attempt when the enqueue sets none: long jobs are the point. */
export const DEFAULT_JOB_TIMEOUT_MS = 15 * 60_000;

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
  /**
   * Who the job is enqueued for (like `CallOptions.caller`). Carried in the options object only
   * for now: the interceptor pipeline puts it in the job's headers.
   */
  caller?: string;
}

type EnqueueHandler<F> = F extends (...args: infer P) => infer R
  ? (...args: P) => Promise<Job<Awaited<R>>>
  : never;

/** Every handler of `A`, enqueuing instead of calling. */
export type EnqueueRef<A> = { readonly [K in HandlerName<A>]: EnqueueHandler<A[K]> };

export function enqueue<A extends AnyActor>(
  mesh: Mesh,
  type: ActorClass<A>,
  actorId: string,
  options: EnqueueOptions = {},
): EnqueueRef<A> {
  const typeName = typeNameOf(type);
  // Refused here, at the caller, rather than by JetStream (a bad stream name) or by the runner.
  checkTypeName(typeName);
  checkActorId(actorId);
  checkEnqueueOptions(options);
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (isNonHandlerName(prop)) return undefined;
      const method = prop as string;
      return (...args: unknown[]) => enqueueByName(mesh, typeName, actorId, method, args, options);
    },
  }) as EnqueueRef<A>;
}

/**
 * Enqueues by type name (CLI, gateway). Resolves once the job is stored. What a runner would refuse
 * is refused here instead (a job that cannot be decoded is dead-lettered without its id, so its
 * `result()` could only time out): bad names and options with `ConfigurationError`, arguments the
 * codec refuses (a `constructor` key, too deep, too many elements, too large) with the error a
 * host gives a call carrying them (`MalformedMessageError`, `PayloadTooLargeError`).
 */
export async function enqueueByName(
  mesh: Mesh,
  type: string,
  actorId: string,
  method: string,
  args: unknown[],
  options: EnqueueOptions = {},
): Promise<Job<unknown>> {
  checkTypeName(type);
  checkActorId(actorId);
  checkEnqueueOptions(options);
  const names = namesOf(mesh);
  const jobId = options.key === undefined ? newJobId() : jobIdForKey(type, options.key);
  const data = encodeJob({
    jobId,
    actorId,
    method,
    args,
    timeoutMs: options.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS,
    maxAttempts: options.maxAttempts ?? 0,
    keepResult: options.keepResult !== false,
  });
  decodeJob(data); // exactly the runner's check (codec limits, envelope fields), before storing it
  await Promise.all([ensureJobStream(mesh, type, options.queue), ensureResultsStream(mesh, options.queue)]);
  const subject = names.jobSubject(type, jobId);
  const hop = startEnqueueSpan(names.queueName(type), subject, jobId);
  try {
    const ack = await jetStreamQueues(mesh.transport).publish(subject, data, {
      msgId: jobId,
      ...(hop ? { headers: hop.headers } : {}),
    });
    endHop(hop);
    return new Job<unknown>(mesh, jobId, ack.seq, ack.duplicate, options.keepResult !== false);
  } catch (err) {
    endHop(hop, err);
    if (err instanceof StreamLimitError) {
      throw new QueueFullError(`the job queue of ${type} is full: ${err.message}`, {
        cause: err,
        details: { actorType: type, jobId },
      });
    }
    throw err;
  }
}
