/**
 * The job runner of a host: for each actor type it serves, it pulls jobs from the type's durable
 * pull consumer, never holding more than the type's `capacity` (load leveling: the queue absorbs
 * bursts, nothing is refused as "too busy"), and runs each job as a turn of its actor through the
 * mesh's request-reply path, so the turn runs in the actor's mailbox on whichever host owns it.
 *
 * Per job: in-progress acks every `ackWaitMs / 3` while the turn runs (a job may take hours; if
 * this process dies the acks stop and JetStream redelivers it after `ackWaitMs`); on success the
 * result is stored in the results stream, then the job is acked; on failure the error's type
 * decides (see resilience/classify.ts): retry after a full-jitter backoff (Nak with delay) within
 * `maxAttempts`, `maxElapsedMs` and the retry budget, or dead-letter it.
 *
 * This module sets the runner up (streams, one durable consumer and one loop per type) and stops
 * it; type-loop.ts pulls and runs one type's jobs, job-attempt.ts delivers one attempt to the actor
 * (inbound chain, circuit breaker), job-outcome.ts settles it (ack, Nak, dead letter, result),
 * runner-metrics.ts keeps the gauges, runner-options.ts the options, settings and outcomes.
 *
 * @example
 * ```ts
 * const runner = await startJobRunner(mesh, [Cart, Report], { capacity: { Report: 2 }, maxAttempts: 8 });
 * await runner.stop();   // on drain: stop pulling, let running jobs finish
 * ```
 */
import type { ActorClass } from "../actor/index.js";
import { typeNameOf } from "../actor/index.js";
import type { MeshConnection, TurnDelivery } from "../durable/index.js";
import type { InboundInterceptor } from "../interceptors/index.js";
import { RUNNER_CONSUMER } from "../messaging/index.js";
import { resilienceOf } from "../resilience/index.js";
import { metricsEnabled } from "../telemetry/index.js";
import { jetStreamQueues } from "../transport/index.js";
import { RunnerMetrics } from "./runner-metrics.js";
import { capacityOf, type JobRunnerOptions, type RunnerTypeStats, settingsOf } from "./runner-options.js";
import { ensureDlqStream, ensureJobStream, ensureResultsStream, namesOf } from "./streams.js";
import { TypeLoop } from "./type-loop.js";

export class JobRunner {
  private readonly loops: TypeLoop[];
  private readonly metrics: RunnerMetrics | undefined;

  /** @internal Use {@link startJobRunner}. */
  constructor(
    loops: TypeLoop[],
    private readonly drainTimeoutMs: number,
    mesh: MeshConnection,
  ) {
    this.loops = loops;
    this.metrics = metricsEnabled() ? new RunnerMetrics(mesh, loops) : undefined;
  }

  stats(type: string): RunnerTypeStats | undefined {
    return this.loops.find((l) => l.type === type)?.stats();
  }

  /**
   * Stops pulling, waits up to `drainTimeoutMs` for running jobs, then hands the rest back for
   * redelivery. Idempotent.
   */
  async stop(): Promise<void> {
    this.metrics?.stop();
    await Promise.all(this.loops.map((l) => l.stop(this.drainTimeoutMs)));
  }
}

/** Starts pulling and running the jobs of `types` in this process. */
export async function startJobRunner(
  mesh: TurnDelivery,
  types: ActorClass[],
  options: JobRunnerOptions = {},
  /** The host's inbound interceptors (kind "job"). */
  inbound: readonly InboundInterceptor[] = [],
): Promise<JobRunner> {
  const settings = settingsOf(options, inbound);
  const names = namesOf(mesh);
  const q = jetStreamQueues(mesh.transport);
  await Promise.all([ensureResultsStream(mesh, options.queue), ensureDlqStream(mesh, options.queue)]);
  const loops: TypeLoop[] = [];
  for (const cls of types) {
    const type = typeNameOf(cls);
    const capacity = capacityOf(options, type);
    await ensureJobStream(mesh, type, options.queue);
    await q.ensurePullConsumer({
      stream: names.jobsStream(type),
      durable: RUNNER_CONSUMER,
      filterSubject: names.jobsFilter(type),
      ackWaitMs: settings.ackWaitMs,
      maxAckPending: options.maxAckPending ?? 10_000,
    });
    loops.push(new TypeLoop(mesh, cls, type, capacity, settings, names, q, resilienceOf(mesh)));
  }
  for (const l of loops) l.start();
  return new JobRunner(loops, options.drainTimeoutMs ?? 30_000, mesh);
}
