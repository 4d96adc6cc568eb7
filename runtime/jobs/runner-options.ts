/**
 * What a host's job runner is configured with and what it reports: the options of
 * `startJobRunner`, the settings resolved from them (defaults applied and checked once), the
 * attempt outcomes an observer sees, and the per-type counts.
 */
import os from "node:os";
import type { DeadLetterReason } from "../durable/index.js";
import { ConfigurationError, type TroupeError } from "../errors.js";
import type { InboundInterceptor } from "../interceptors/index.js";
import { DEFAULT_MAX_DELAY_MS } from "../resilience/index.js";
import type { JobQueueOptions } from "./streams.js";

export const DEFAULT_CAPACITY = 16;
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_ACK_WAIT_MS = 30_000;

export interface JobRunnerOptions {
  /** Jobs of a type this process holds at once: one number for every type, or per type name. Default 16. */
  capacity?: number | Record<string, number>;
  /** Attempts of a job that does not set its own (first included). Default 5. */
  maxAttempts?: number;
  /** A job is dead-lettered instead of retried once this long has passed since it was stored. Default 24 h. */
  maxElapsedMs?: number;
  /** Upper bound of the first retry's delay (full jitter, doubling per attempt). Default 1 s. */
  initialDelayMs?: number;
  /** Cap of a retry's delay, and the delay used when the retry budget is spent. Default 30 s. */
  maxDelayMs?: number;
  /**
   * Redelivery delay after a runner stops acking (its process died). The consumer's setting: the
   * last runner to start sets it for everyone. Default 30 s.
   */
  ackWaitMs?: number;
  /** Jobs of a type awaiting their ack, over all runners (the server stops delivering beyond). Default 10 000. */
  maxAckPending?: number;
  /** How long one pull waits for jobs (min 1 s). Default 5 s. */
  pullExpiresMs?: number;
  /** How long `stop()` waits for running jobs before handing them back (Nak) for redelivery. Default 30 s. */
  drainTimeoutMs?: number;
  /** Name recorded in dead letters. Default `<hostname>-<pid>`. */
  hostName?: string;
  /** Stream settings used if this runner creates the streams. */
  queue?: JobQueueOptions;
  /** Observes every attempt and its outcome (tests, metrics). Must not throw. */
  onEvent?: (event: JobEvent) => void;
}

export type JobEvent =
  | { kind: "started"; type: string; jobId: string; attempt: number; atMs: number }
  | { kind: "succeeded"; type: string; jobId: string; attempt: number; atMs: number }
  | {
      kind: "retry";
      type: string;
      jobId: string;
      attempt: number;
      atMs: number;
      delayMs: number;
      error: TroupeError | Error;
    }
  | {
      kind: "dead-lettered";
      type: string;
      jobId: string | undefined;
      attempt: number;
      atMs: number;
      reason: DeadLetterReason;
      error: unknown;
    };

export interface RunnerTypeStats {
  readonly capacity: number;
  /** Jobs held now (received, not yet settled). */
  readonly held: number;
  /** Most jobs ever held at once. Never above `capacity`. */
  readonly maxHeld: number;
  readonly succeeded: number;
  readonly retried: number;
  readonly deadLettered: number;
  /** Deliveries the inbound chain refused with ThrottledError, handed back to run later. */
  readonly throttled: number;
}

export interface RunnerSettings {
  maxAttempts: number;
  maxElapsedMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  ackWaitMs: number;
  pullExpiresMs: number;
  hostName: string;
  onEvent: ((event: JobEvent) => void) | undefined;
  /** The host's inbound interceptors, around every attempt. */
  inbound: readonly InboundInterceptor[];
}

/** The settings of every type's loop, from the runner's options and the host's inbound interceptors. */
export function settingsOf(
  options: JobRunnerOptions,
  inbound: readonly InboundInterceptor[],
): RunnerSettings {
  return {
    maxAttempts: positiveInt("maxAttempts", options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
    maxElapsedMs: options.maxElapsedMs ?? 24 * 3600_000,
    initialDelayMs: options.initialDelayMs ?? 1000,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
    ackWaitMs: options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
    pullExpiresMs: Math.max(1000, options.pullExpiresMs ?? 5000),
    hostName: options.hostName ?? `${os.hostname()}-${process.pid}`,
    onEvent: options.onEvent,
    inbound,
  };
}

/** The capacity of `type`: the one number for every type, or its entry, or the default. */
export function capacityOf(options: JobRunnerOptions, type: string): number {
  return positiveInt(
    `capacity of ${type}`,
    typeof options.capacity === "number" ? options.capacity : (options.capacity?.[type] ?? DEFAULT_CAPACITY),
  );
}

function positiveInt(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigurationError(`${what} must be a positive integer, got ${n}`);
  return n;
}
