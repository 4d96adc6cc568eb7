/**
 * Stream, subject and consumer names of durable jobs. (They belong with `messaging/subjects.ts`;
 * kept here while that file is being reworked for placement. Move them there when convenient.)
 *
 * - stream `<prefix>_jobs_<Type>` (work queue), subjects `<prefix>.jobs.<Type>.<jobId>`,
 *   durable pull consumer `runner`;
 * - stream `<prefix>_results`, subject `<prefix>.results.<jobId>` (last message per subject kept);
 * - stream `<prefix>_dlq`, subject `<prefix>.dlq.<Type>`.
 */
import { createHash, randomBytes } from "node:crypto";

export const RUNNER_CONSUMER = "runner";

export class JobNames {
  constructor(readonly prefix: string) {}

  jobsStream(type: string): string {
    return `${this.prefix}_jobs_${type}`;
  }
  jobsStreamPrefix(): string {
    return `${this.prefix}_jobs_`;
  }
  jobsFilter(type: string): string {
    return `${this.prefix}.jobs.${type}.>`;
  }
  jobSubject(type: string, jobId: string): string {
    return `${this.prefix}.jobs.${type}.${jobId}`;
  }
  /** Human name of a type's queue, for spans and logs (low cardinality). */
  queueName(type: string): string {
    return `jobs.${type}`;
  }
  resultsStream(): string {
    return `${this.prefix}_results`;
  }
  resultsFilter(): string {
    return `${this.prefix}.results.>`;
  }
  resultSubject(jobId: string): string {
    return `${this.prefix}.results.${jobId}`;
  }
  dlqStream(): string {
    return `${this.prefix}_dlq`;
  }
  dlqFilter(): string {
    return `${this.prefix}.dlq.>`;
  }
  dlqSubject(type: string): string {
    return `${this.prefix}.dlq.${type}`;
  }
  /** The actor type of a DLQ subject. */
  typeOfDlqSubject(subject: string): string {
    return subject.slice(this.prefix.length + ".dlq.".length);
  }
}

const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** True for strings that can be job ids (one subject token). */
export function isJobId(id: string): boolean {
  return JOB_ID.test(id);
}

/** A fresh random job id (128 bits). */
export function newJobId(): string {
  return `j${randomBytes(16).toString("base64url")}`;
}

/**
 * The job id of an idempotency key: the same type and key always give the same job id (and so the
 * same `Nats-Msg-Id` and the same result subject).
 */
export function jobIdForKey(type: string, key: string): string {
  return `k${createHash("sha256").update(`${type}\n${key}`).digest("base64url").slice(0, 32)}`;
}
