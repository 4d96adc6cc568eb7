/**
 * Durable jobs: a JetStream work queue per actor type, runners that pull within their capacity,
 * retries with backoff, a dead-letter queue and a results stream readable by job id.
 * See docs/patterns/long-running-work.md.
 */

export type { DeadLetter, DeadLetterReason } from "../durable/index.js";
export { JobNames, jobIdForKey } from "../messaging/index.js";
export {
  type DeadLetterEntry,
  deadLetter,
  deadLetters,
  purgeDeadLetter,
  purgeDeadLetters,
  type ReplayOutcome,
  replayDeadLetter,
} from "./dlq.js";
export {
  DEFAULT_JOB_TIMEOUT_MS,
  type EnqueueOptions,
  type EnqueueRef,
  enqueue,
  enqueueByName,
  prepareJobQueue,
} from "./enqueue.js";
export {
  JobDeadLetteredError,
  JobFailedError,
  JobResultUnavailableError,
  QueueFullError,
  TerminalError,
} from "./errors.js";
export { Job, jobHandle, type ResultOptions } from "./job.js";
export { JobRunner, startJobRunner } from "./runner.js";
export {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_CAPACITY,
  DEFAULT_MAX_ATTEMPTS,
  type JobEvent,
  type JobRunnerOptions,
  type RunnerTypeStats,
} from "./runner-options.js";
export { ensureJobStream, ensureResultsStream, type JobQueueOptions } from "./streams.js";
