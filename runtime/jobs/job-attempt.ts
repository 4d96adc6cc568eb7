/**
 * Delivering one attempt of a job to its actor: the job's call (its method, arguments and timeout,
 * with the enqueuer's identity) runs through the host's inbound interceptors (kind "job") and the
 * type's circuit breaker, as a request-reply turn of the actor on whichever host owns it (in
 * process when it is this one). A throttle's refusal before the turn ran comes back as HeldBack.
 *
 * Circuit breaker (durable/circuit-wait.ts): while the type's circuit is open, the attempt waits
 * (not counted as an attempt) and tries again, for as long as the runner runs; the pull loop
 * meanwhile leaves the type's other jobs in the queue (type-loop.ts).
 */
import type { ActorClass } from "../actor/index.js";
import { HeldBack, type TurnDelivery, throughInbound, throughOpenCircuit } from "../durable/index.js";
import type { InboundInterceptor } from "../interceptors/index.js";
import { callerToForward, type JobEnvelope, type JobNames, RUNNER_CONSUMER } from "../messaging/index.js";
import type { Resilience } from "../resilience/index.js";
import type { QueueMessage } from "../transport/index.js";

/** Where one type's jobs are delivered, and through what. */
export interface JobTarget {
  readonly mesh: TurnDelivery;
  readonly cls: ActorClass;
  readonly type: string;
  readonly names: JobNames;
  readonly resilience: Resilience;
  /** The host's inbound interceptors, around every attempt. */
  readonly inbound: readonly InboundInterceptor[];
}

/**
 * Runs attempt number `attempt` of `job` (delivered as `m`) and returns the handler's value; throws
 * its error, or HeldBack when the inbound chain held it back. `running()` false ends the wait for an
 * open circuit (the runner is stopping): the CircuitOpenError is thrown.
 */
export async function attemptJob(
  target: JobTarget,
  m: QueueMessage,
  job: JobEnvelope,
  attempt: number,
  running: () => boolean,
): Promise<unknown> {
  const caller = callerToForward(m.headers);
  const options = caller === undefined ? { timeoutMs: job.timeoutMs } : { timeoutMs: job.timeoutMs, caller };
  const deliver = () => target.mesh.callActor(target.cls, job.actorId, job.method, job.args, options);
  // A throttle's refusal before the turn ran resolves as HeldBack: the type loop holds the job back.
  const call = throughInbound(
    target.inbound,
    () => ({
      kind: "job",
      actorType: target.type,
      actorId: job.actorId,
      method: job.method,
      headers: m.headers,
      timeoutMs: job.timeoutMs,
      delivery: {
        subject: m.subject,
        traceHeaders: m.headers,
        destination: target.names.queueName(target.type),
        consumer: RUNNER_CONSUMER,
        attempt,
        messageId: job.jobId,
      },
    }),
    deliver,
  );
  const value = await throughOpenCircuit(target.resilience, target.type, call, running);
  if (value instanceof HeldBack) throw value;
  return value;
}
