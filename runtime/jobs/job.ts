/**
 * A handle on a durable job: its id, and its result read from the results stream (so any process,
 * including one started after the job was enqueued, can wait for it by id).
 *
 * @example
 * ```ts
 * const job = await enqueue(mesh, Report, "q3").build({ quarter: 3 });
 * console.log(job.id);                                   // keep it anywhere
 * const report = await job.result({ timeoutMs: 60_000 });
 * // later, elsewhere:
 * const again = await jobHandle(mesh, job.id).result();
 * ```
 */
import { checkWaitMs } from "../client-options.js";
import type { MeshConnection } from "../durable/index.js";
import { domainOf } from "../durable/index.js";
import { fromWireError } from "../errors.js";
import { decodeOutcome, isJobId, type JobNames } from "../messaging/index.js";
import { type JetStreamQueues, jetStreamQueues } from "../transport/index.js";
import { JobDeadLetteredError, JobResultUnavailableError, jobDetails } from "./errors.js";
import { ensureResultsStream, namesOf } from "./streams.js";

export interface ResultOptions {
  /** How long to wait for the job to finish. Default 30 s; 0 = look once, do not wait. */
  timeoutMs?: number;
}

/** How often `result()` re-reads the stream while waiting (it also listens for the result's publish). */
const POLL_MS = 2000;

export class Job<T = unknown> {
  /** @internal Use `enqueue(...)` or {@link jobHandle}. */
  constructor(
    private readonly mesh: MeshConnection,
    /** The job id: `Nats-Msg-Id` of the job and key of its result. */
    readonly id: string,
    /** Stream sequence of the stored job (0 for a handle made from an id). */
    readonly seq = 0,
    /** True when the queue already had a job with this id (within the dedup window): nothing new was stored. */
    readonly duplicate = false,
    /** False when it was enqueued with `keepResult: false`: no result will ever be stored. */
    readonly keepsResult = true,
  ) {}

  /**
   * The job's return value, once a runner finished it.
   *
   * @throws JobDeadLetteredError when it failed for good (`remote` is the handler's error).
   * @throws JobResultUnavailableError when no result arrived within `timeoutMs`, or it expired,
   *   and at once for a job enqueued with `keepResult: false`.
   */
  async result(options: ResultOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    // NaN would poll the results stream every millisecond for ever.
    checkWaitMs("timeoutMs", timeoutMs);
    if (!this.keepsResult) {
      throw new JobResultUnavailableError(`job ${this.id} was enqueued with keepResult: false`, {
        details: jobDetails(this.id, {}),
      });
    }
    const names = namesOf(this.mesh);
    const q = jetStreamQueues(this.mesh.transport);
    await ensureResultsStream(this.mesh);
    const subject = names.resultSubject(this.id);
    let wake: (() => void) | undefined;
    // Listen first, then read: a result published in between is seen by one or the other.
    const sub = this.mesh.transport.subscribe(subject, {}, () => wake?.());
    const end = performance.now() + timeoutMs;
    try {
      for (;;) {
        const m =
          (await q.lastBySubject(names.resultsStream(), subject)) ?? (await this.returnedCopy(names, q));
        if (m) return this.interpret(m.data);
        const remaining = end - performance.now();
        if (remaining <= 0) {
          throw new JobResultUnavailableError(
            `no result for job ${this.id} (not finished within ${timeoutMs} ms, or expired)`,
            { details: jobDetails(this.id, { timeoutMs }) },
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(POLL_MS, remaining));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      sub.unsubscribe();
    }
  }

  /**
   * At an edge site (a server with a JetStream domain), the copy of the result a runner in another
   * domain stored for this one, sourced back into this site's results stream.
   */
  private async returnedCopy(names: JobNames, q: JetStreamQueues) {
    const domain = await domainOf(this.mesh);
    if (domain === undefined) return null;
    return q.lastBySubject(names.resultsStream(), names.returnedResultSubject(this.id, domain));
  }

  private interpret(data: Uint8Array): T {
    const outcome = decodeOutcome(data);
    if (outcome.ok) return outcome.value as T;
    const remote = fromWireError(outcome.error);
    throw new JobDeadLetteredError(
      `job ${this.id} failed after ${outcome.attempts} attempt(s): ${remote.message}`,
      remote,
      {
        details: jobDetails(this.id, { attempts: outcome.attempts, remoteCode: remote.code }),
      },
    );
  }
}

/** A handle on the job `jobId` (e.g. one a previous run of this process enqueued). */
export function jobHandle<T = unknown>(mesh: MeshConnection, jobId: string): Job<T> {
  if (!isJobId(jobId)) throw new JobResultUnavailableError(`"${jobId}" is not a job id`);
  return new Job<T>(mesh, jobId);
}
