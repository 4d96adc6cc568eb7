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
import type { ActorClass, ActorShape, EnqueueOptions, HandlerName } from "../actor/index.js";
import { isNonHandlerName, typeNameOf } from "../actor/index.js";
import { checkActorId, checkEnqueueOptions, checkTypeName } from "../client-options.js";
import type { MeshConnection, OutboundSends } from "../durable/index.js";
import { domainOf, knownDomainOf } from "../durable/index.js";
import { chainIdle } from "../interceptors/index.js";
import {
  CALLER_HEADER,
  DEFAULT_JOB_TIMEOUT_MS,
  decodeJob,
  encodeJob,
  jobIdForKey,
  newJobId,
  ORIGIN_DOMAIN_HEADER,
} from "../messaging/index.js";
import { jetStreamQueues, StreamLimitError } from "../transport/index.js";
import { QueueFullError } from "./errors.js";
import { Job } from "./job.js";
import { ensureJobStream, ensureResultsStream, type JobQueueOptions, namesOf } from "./streams.js";

export type { EnqueueOptions };

/** Deadline of one attempt when the enqueue sets none: long jobs are the point. */
export { DEFAULT_JOB_TIMEOUT_MS };

type EnqueueHandler<F> = F extends (...args: infer P) => infer R
  ? (...args: P) => Promise<Job<Awaited<R>>>
  : never;

/** Every handler of `A`, enqueuing instead of calling. */
export type EnqueueRef<A> = { readonly [K in HandlerName<A>]: EnqueueHandler<A[K]> };

export function enqueue<A extends ActorShape>(
  mesh: OutboundSends,
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
  mesh: OutboundSends,
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
  const caller = mesh.callerFor(options.caller);
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
  // With an outbox the streams are made when the job is forwarded (the server may be out of reach now).
  if (!mesh.outbox) await prepareJobQueue(mesh, type, options.queue);
  const subject = names.jobSubject(type, jobId);
  const timeoutMs = options.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
  if (chainIdle(mesh.outbound)) return store(mesh, type, jobId, subject, data, options, caller, undefined);
  const ctx = {
    kind: "enqueue" as const,
    actorType: type,
    actorId,
    method,
    headers: {},
    deadline: performance.now() + timeoutMs,
    caller,
    delivery: { subject, destination: names.queueName(type), messageId: jobId },
  };
  return (await mesh.intercept(ctx, () =>
    store(mesh, type, jobId, subject, data, options, caller, ctx.headers),
  )) as Job<unknown>;
}

/** Creates the streams a job of `type` needs (its queue, the results), if missing. */
export async function prepareJobQueue(
  mesh: MeshConnection,
  type: string,
  queue?: JobQueueOptions,
): Promise<void> {
  await Promise.all([ensureJobStream(mesh, type, queue), ensureResultsStream(mesh, queue), domainOf(mesh)]);
}

/** Stores the job (after the outbound chain: tracing added its `traceparent` to `added`). */
async function store(
  mesh: OutboundSends,
  type: string,
  jobId: string,
  subject: string,
  data: Uint8Array,
  options: EnqueueOptions,
  caller: string | undefined,
  added: Record<string, string> | undefined,
): Promise<Job<unknown>> {
  // An edge site's jobs name their domain, so the hub stores their results for it too. With an
  // outbox, only a domain already read (the server may be out of reach).
  const origin = await (mesh.outbox ? knownDomainOf(mesh) : domainOf(mesh));
  let headers: Record<string, string> | undefined;
  if (added !== undefined || caller !== undefined || origin !== undefined) {
    headers = { ...added };
    if (caller !== undefined) headers[CALLER_HEADER] = caller;
    if (origin !== undefined) headers[ORIGIN_DOMAIN_HEADER] = origin;
  }
  try {
    if (mesh.outbox) {
      // Written to the local outbox; forwarded with the job id as its Nats-Msg-Id (no seq yet).
      await mesh.outbox.append({
        kind: "job",
        subject,
        data,
        headers,
        msgId: jobId,
        lane: `job:${type}`, // the type's queue: its jobs reach it in the order they were made
        prepare: { jobType: type, ...(options.queue ? { queue: { ...options.queue } } : {}) },
      });
      return new Job<unknown>(mesh, jobId, 0, false, options.keepResult !== false);
    }
    const ack = await jetStreamQueues(mesh.transport).publish(subject, data, {
      msgId: jobId,
      ...(headers ? { headers } : {}),
    });
    return new Job<unknown>(mesh, jobId, ack.seq, ack.duplicate, options.keepResult !== false);
  } catch (err) {
    if (err instanceof StreamLimitError) {
      throw new QueueFullError(`the job queue of ${type} is full: ${err.message}`, {
        cause: err,
        details: { actorType: type, jobId },
      });
    }
    throw err;
  }
}
