/**
 * Settling one delivery of a job once its attempt is over:
 *
 * - success: the result is stored in the results stream (and, for a job enqueued at another
 *   JetStream domain, a copy for that domain), then the job is acked; a result that cannot be
 *   stored hands the job back (Nak with backoff) so it runs again rather than finish without one.
 * - failure: the error's type decides (resilience/classify.ts via durable/redelivery.ts): Nak with
 *   a full-jitter delay within `maxAttempts`, `maxElapsedMs` and the retry budget, or dead-letter.
 * - dead-letter: the DLQ record (error, attempts, times, original headers and bytes), a
 *   dead-lettered result for `job.result()`, then the ack.
 *
 * Counts the outcomes and reports them (and the attempts' starts) to the runner's observer.
 */
import {
  type DeadLetterReason,
  deadLetterOf,
  domainOf,
  type MeshConnection,
  originDomainOf,
  publishDeadLetter,
  redeliveryAfterFailedDeadLetter,
  verdictAfterFailure,
} from "../durable/index.js";
import { MalformedMessageError } from "../errors.js";
import { failureKind, type Logger, repeatsOf } from "../log.js";
import { encodeOutcome, type JobEnvelope, type JobNames } from "../messaging/index.js";
import { fullJitterDelayMs, type Resilience } from "../resilience/index.js";
import type { JetStreamQueues, QueueMessage } from "../transport/index.js";
import type { JobEvent, RunnerSettings } from "./runner-options.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The outcomes of one actor type's jobs on this runner. */
export class JobOutcomes {
  private succeeded = 0;
  private retried = 0;
  private deadLettered = 0;
  private readonly logger: Logger;

  constructor(
    private readonly mesh: MeshConnection,
    private readonly type: string,
    /** The type's jobs stream (names the dead letters' dedup ids). */
    private readonly stream: string,
    private readonly s: RunnerSettings,
    private readonly names: JobNames,
    private readonly q: JetStreamQueues,
    private readonly resilience: Resilience,
  ) {
    this.logger = mesh.logger;
  }

  get counts(): { succeeded: number; retried: number; deadLettered: number } {
    return { succeeded: this.succeeded, retried: this.retried, deadLettered: this.deadLettered };
  }

  emit(event: JobEvent): void {
    try {
      this.s.onEvent?.(event);
    } catch (err) {
      this.logger.warn("job event observer threw", { err });
    }
  }

  async succeededWith(
    m: QueueMessage,
    job: JobEnvelope,
    attempt: number,
    maxAttempts: number,
    value: unknown,
  ): Promise<void> {
    let data: Uint8Array | undefined;
    if (job.keepResult) {
      try {
        data = encodeOutcome({ ok: true, value, attempts: attempt, finishedAtMs: Date.now() });
      } catch (err) {
        // The same verdict a call through NATS gets when its result cannot be encoded.
        const error = new MalformedMessageError(`result of ${this.type}.${job.method} cannot be encoded`, {
          cause: err,
        });
        await this.failed(m, job, attempt, maxAttempts, error);
        return;
      }
    }
    // Store the result before acking: if this process dies in between, the job runs again
    // (at-least-once) instead of finishing without a result.
    const stored = data === undefined || (await this.publishResult(job.jobId, data, m.headers));
    if (!stored) {
      const delayMs = fullJitterDelayMs(attempt, this.backoff());
      repeatsOf(this.logger).error(
        `result not stored:${this.type}`,
        "job result could not be stored; the job will run again",
        {
          actorType: this.type,
          jobId: job.jobId,
        },
      );
      m.nak(delayMs);
      return;
    }
    m.ack();
    this.succeeded++;
    this.emit({ kind: "succeeded", type: this.type, jobId: job.jobId, attempt, atMs: Date.now() });
  }

  async failed(
    m: QueueMessage,
    job: JobEnvelope,
    attempt: number,
    maxAttempts: number,
    err: unknown,
  ): Promise<void> {
    const v = verdictAfterFailure(
      err,
      attempt,
      maxAttempts,
      m.storedAtMs,
      this.s,
      this.resilience.budget(this.type),
    );
    if (v.action === "dead-letter") {
      await this.deadLetter(m, job, v.attempts, v.reason, err);
      return;
    }
    const delayMs = v.delayMs;
    this.logger.debug("job attempt failed; retrying", {
      actorType: this.type,
      jobId: job.jobId,
      attempt,
      delayMs,
      err,
    });
    m.nak(delayMs);
    this.retried++;
    this.emit({
      kind: "retry",
      type: this.type,
      jobId: job.jobId,
      attempt,
      atMs: Date.now(),
      delayMs,
      error: err as Error,
    });
  }

  private backoff() {
    return { initialDelayMs: this.s.initialDelayMs, maxDelayMs: this.s.maxDelayMs };
  }

  /** Result writes are retried a few times in place: they are cheap and the turn already ran. */
  private async publishResult(
    jobId: string,
    data: Uint8Array,
    headers: QueueMessage["headers"],
  ): Promise<boolean> {
    for (let i = 1; ; i++) {
      try {
        await this.storeResult(jobId, data, headers);
        return true;
      } catch (err) {
        if (i >= 5) {
          repeatsOf(this.logger).warn(
            `storing a result failed:${failureKind(err)}`,
            "storing a job result failed",
            {
              jobId,
              err,
            },
          );
          return false;
        }
        await sleep(fullJitterDelayMs(i, { initialDelayMs: 500, maxDelayMs: 5000 }) + 100);
      }
    }
  }

  /**
   * Stores a result under the job's id and, for a job enqueued in another JetStream domain (an edge
   * site), a second copy for that domain: the edge's results stream sources those back.
   */
  private async storeResult(jobId: string, data: Uint8Array, headers: QueueMessage["headers"]) {
    await this.q.publish(this.names.resultSubject(jobId), data);
    const origin = originDomainOf(headers);
    if (origin !== undefined && origin !== (await domainOf(this.mesh))) {
      await this.q.publish(this.names.returnedResultSubject(jobId, origin), data);
    }
  }

  /**
   * Moves the job to the DLQ (with its error, attempts, times, original headers and bytes), stores
   * a dead-lettered result for `job.result()`, then acks the original. If the DLQ write fails, the
   * job is handed back and dead-lettered again on its next delivery.
   */
  async deadLetter(
    m: QueueMessage,
    job: JobEnvelope | undefined,
    attempts: number,
    reason: DeadLetterReason,
    err: unknown,
  ): Promise<void> {
    const record = deadLetterOf(m, {
      reason,
      type: this.type,
      attempts,
      host: this.s.hostName,
      error: err,
      jobId: job?.jobId,
      actorId: job?.actorId,
      method: job?.method,
    });
    const wire = record.error;
    try {
      await publishDeadLetter(this.q, this.names, record, `dlq-${this.stream}-${m.streamSeq}`);
      if (job?.keepResult) {
        await this.storeResult(
          job.jobId,
          encodeOutcome({ ok: false, error: wire, attempts, finishedAtMs: Date.now() }),
          m.headers,
        );
      }
    } catch (publishErr) {
      const again = redeliveryAfterFailedDeadLetter(publishErr, this.s);
      repeatsOf(this.logger).error(
        `dead-lettering failed:${this.type}:${again.tooLarge}`,
        again.tooLarge
          ? "a job too large to dead-letter stays in the queue; raise the server's max_payload or remove it"
          : "dead-lettering a job failed; it will be retried",
        { actorType: this.type, jobId: job?.jobId, seq: m.streamSeq, reason, err: publishErr },
      );
      m.nak(again.delayMs);
      return;
    }
    m.ack();
    this.deadLettered++;
    repeatsOf(this.logger).warn(
      `job dead-lettered:${this.type}:${reason}:${wire.code}`,
      "job dead-lettered",
      {
        actorType: this.type,
        jobId: job?.jobId,
        reason,
        attempts,
        code: wire.code,
        error: wire.message,
      },
    );
    this.emit({
      kind: "dead-lettered",
      type: this.type,
      jobId: job?.jobId,
      attempt: attempts,
      atMs: Date.now(),
      reason,
      error: err,
    });
  }
}
