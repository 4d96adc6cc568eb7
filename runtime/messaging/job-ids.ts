/**
 * Job ids. (The stream, subject and consumer names of jobs are built in `subjects.ts`,
 * with every other name.)
 */
import { createHash, randomBytes } from "node:crypto";

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
