/**
 * Typed errors of durable jobs. Like every Troupe error: a stable `code` and the retry decision in
 * `retryable`.
 */
import { type ErrorDetails, TroupeError, type TroupeErrorOptions } from "../errors.js";

export { JobResultUnavailableError, QueueFullError, TerminalError } from "../errors.js";

/** The job ran and failed (the error is final: no attempt is left). `cause` is the remote error. */
export class JobFailedError extends TroupeError {
  readonly code: string = "TROUPE_JOB_FAILED";
  readonly retryable = false;
  constructor(
    message: string,
    /** The error the last attempt ended with, as the job's actor threw it (typed). */
    readonly remote: TroupeError,
    options: TroupeErrorOptions = {},
  ) {
    super(message, { ...options, cause: options.cause ?? remote });
  }
  get jobId(): string {
    return String(this.details.jobId ?? "");
  }
  get attempts(): number {
    return Number(this.details.attempts ?? 0);
  }
}

/** The job failed for good and sits in the dead-letter queue (`troupe dlq show`); a replay may still run it. */
export class JobDeadLetteredError extends JobFailedError {
  override readonly code = "TROUPE_JOB_DEAD_LETTERED";
}

export function jobDetails(jobId: string, more: ErrorDetails = {}): ErrorDetails {
  return { jobId, ...more };
}
