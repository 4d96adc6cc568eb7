/**
 * Setting up JetStream assets (streams, consumers, KV buckets) when JetStream is slow or not ready.
 *
 * A host creates its streams and buckets when it starts, and it often starts at the same moment as
 * the NATS servers (a Kubernetes rollout, a cluster that has not elected its meta leader yet, a
 * server busy syncing its store). Those API requests then time out, find no responder, or get
 * "JetStream system temporarily unavailable" (10008). None of that is a reason for a host to die:
 * {@link withJetStreamSetupRetry} retries them with full-jitter backoff, warning each time, until a
 * deadline, and only then fails with a {@link JetStreamUnavailableError} that says what it was doing.
 * Any other error (a conflicting stream config, a permission violation) fails at once.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { JetStreamApiError } from "@nats-io/jetstream";
import { NoRespondersError, RequestError, TimeoutError } from "@nats-io/nats-core";
import { DeadlineExceededError, JetStreamUnavailableError } from "../errors.js";
import type { Logger } from "../log.js";
import { fullJitterDelayMs } from "../resilience/index.js";

/** How long one JetStream API request may take (the nats.js default). */
export const DEFAULT_JETSTREAM_API_TIMEOUT_MS = 5_000;
/** How long setting up one stream, consumer or bucket keeps retrying a JetStream that is not ready. */
export const DEFAULT_JETSTREAM_SETUP_DEADLINE_MS = 60_000;

/** JetStream API code for "JetStream system temporarily unavailable" (no meta leader, catching up). */
const JS_CLUSTER_NOT_AVAILABLE = 10008;

export interface JetStreamSetupOptions {
  /** One JetStream API request times out after this. Default {@link DEFAULT_JETSTREAM_API_TIMEOUT_MS}. */
  apiTimeoutMs?: number;
  /** Give up retrying after this long. Default {@link DEFAULT_JETSTREAM_SETUP_DEADLINE_MS}. */
  setupDeadlineMs?: number;
}

/** True for the failures that mean "JetStream is not answering yet", not "your request is wrong". */
export function isJetStreamNotReady(err: unknown): boolean {
  // nats.js's own API calls time out with TimeoutError; requests over Troupe's multiplexed inbox
  // (bucket listings) with DeadlineExceededError, and find nobody serving the API as "no responders".
  if (err instanceof TimeoutError || err instanceof DeadlineExceededError) return true;
  if (err instanceof NoRespondersError) return true;
  if (err instanceof RequestError) return err.isNoResponders() || err.cause instanceof TimeoutError;
  if (err instanceof JetStreamApiError) return err.code === JS_CLUSTER_NOT_AVAILABLE || err.status === 503;
  // nats.js turns "no responders" on the JetStream API into this (a server without JetStream, or a
  // cluster whose JetStream is not up yet); not exported as a class.
  return err instanceof Error && err.name === "JetStreamNotEnabled";
}

/**
 * Runs `op` (one idempotent setup step, e.g. "create the stream unless it exists") until it succeeds,
 * retrying while {@link isJetStreamNotReady}; the first other error is thrown as it is.
 *
 * @throws JetStreamUnavailableError when JetStream was still not ready at the deadline (`cause`:
 *   the last failure; `details`: what, attempts, elapsedMs).
 */
export async function withJetStreamSetupRetry<T>(
  what: string,
  op: () => Promise<T>,
  log: Logger,
  deadlineMs: number = DEFAULT_JETSTREAM_SETUP_DEADLINE_MS,
): Promise<T> {
  const start = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (!isJetStreamNotReady(err)) throw err;
      const elapsedMs = Math.round(performance.now() - start);
      const delayMs = Math.max(50, fullJitterDelayMs(attempt, { initialDelayMs: 250, maxDelayMs: 5_000 }));
      if (elapsedMs + delayMs >= deadlineMs) {
        throw new JetStreamUnavailableError(
          `JetStream did not become ready for ${what} within ${deadlineMs} ms (${attempt} attempts): ${errorText(err)}`,
          { cause: err, details: { what, attempts: attempt, elapsedMs } },
        );
      }
      log.warn("JetStream not ready, retrying", { what, attempt, elapsedMs, retryInMs: delayMs, err });
      await sleep(delayMs);
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
