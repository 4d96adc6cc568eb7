/**
 * Troupe's metrics through the OpenTelemetry metrics API. Instruments are created from the
 * registered MeterProvider on first use (and again if the provider changes); with no provider
 * registered every `record*` function returns before building any attribute object.
 *
 * Not wired into the runtime yet (issue 6 item 4): the names below are the contract.
 */
import {
  type Counter,
  createNoopMeter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableGauge,
  type ObservableResult,
} from "@opentelemetry/api";
import { ATTR_ERROR_TYPE, ATTR_TROUPE_ACTOR_TYPE, ATTR_TROUPE_METHOD } from "./semconv.js";

export const METER_NAME = "troupe";

/** Calls made (counter; `troupe.actor.type`, `troupe.method`, `error.type` on failures). */
export const METRIC_CALLS = "troupe.calls";
/** Call latency seen by the caller, in seconds (histogram; same attributes). */
export const METRIC_CALL_DURATION = "troupe.call.duration";
/** Turns waiting in mailboxes (gauge, per `troupe.actor.type`). */
export const METRIC_MAILBOX_DEPTH = "troupe.mailbox.depth";
/** Live activations (gauge, per `troupe.actor.type`). */
export const METRIC_ACTIVATIONS = "troupe.activations";
/** Jobs waiting to be delivered (gauge, per queue). */
export const METRIC_JOBS_PENDING = "troupe.jobs.pending";
/** Jobs delivered and not yet acknowledged (gauge, per queue). */
export const METRIC_JOBS_IN_FLIGHT = "troupe.jobs.in_flight";
/** Dead-lettered jobs (gauge, per queue). */
export const METRIC_DLQ_SIZE = "troupe.dlq.size";
/** Job redeliveries and retries (counter, per queue). */
export const METRIC_JOB_RETRIES = "troupe.job.retries";
/** Tells dropped by their sender: no host served them in time (counter; `troupe.actor.type`, `error.type`). */
export const METRIC_TELLS_DROPPED = "troupe.tells.dropped";
/** HTTP requests a gateway answered (by method, route template and status). */
export const METRIC_HTTP_REQUESTS = "troupe.gateway.requests";
/** HTTP request duration at a gateway, in seconds. */
export const METRIC_HTTP_DURATION = "troupe.gateway.request.duration";

/** Turns a throttling enforcer decided on (observable counter; `troupe.throttle.policy`, `troupe.throttle.outcome` allowed|refused). */
export const METRIC_THROTTLE_DECISIONS = "troupe.throttle.decisions";
/** Attribute naming the throttle policy of the throttle metrics. */
export const ATTR_TROUPE_THROTTLE_POLICY = "troupe.throttle.policy";
/** Attribute saying whether a throttle decision allowed or refused the turn. */
export const ATTR_TROUPE_THROTTLE_OUTCOME = "troupe.throttle.outcome";

/** Attribute naming the job queue of the job metrics. */
export const ATTR_TROUPE_QUEUE = "troupe.queue";

interface Instruments {
  readonly meter: Meter;
  readonly calls: Counter;
  readonly callDuration: Histogram;
  readonly jobRetries: Counter;
  readonly tellsDropped: Counter;
  readonly httpRequests: Counter;
  readonly httpDuration: Histogram;
}

const NOOP_METER = createNoopMeter();
let cachedProvider: MeterProvider | undefined;
let cached: Instruments | undefined;

function instruments(): Instruments | undefined {
  const provider = metrics.getMeterProvider();
  if (provider !== cachedProvider) {
    cachedProvider = provider;
    const meter = provider.getMeter(METER_NAME);
    cached = meter === NOOP_METER ? undefined : create(meter);
  }
  return cached;
}

function create(meter: Meter): Instruments {
  return {
    meter,
    calls: meter.createCounter(METRIC_CALLS, { description: "Actor calls made by this process" }),
    callDuration: meter.createHistogram(METRIC_CALL_DURATION, {
      description: "Actor call latency seen by the caller",
      unit: "s",
      advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
    }),
    jobRetries: meter.createCounter(METRIC_JOB_RETRIES, { description: "Job redeliveries and retries" }),
    tellsDropped: meter.createCounter(METRIC_TELLS_DROPPED, {
      description: "Tells this process dropped because no host served them in time",
    }),
    httpRequests: meter.createCounter(METRIC_HTTP_REQUESTS, {
      description: "HTTP requests a gateway answered",
    }),
    httpDuration: meter.createHistogram(METRIC_HTTP_DURATION, {
      description: "HTTP request duration at the gateway",
      unit: "s",
      advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
    }),
  };
}

/** Whether a MeterProvider is registered. */
export function metricsEnabled(): boolean {
  return instruments() !== undefined;
}

/** Records one finished call (`errorType` from `errorType(err)` when it failed). */
export function recordCall(actorType: string, method: string, durationMs: number, errorType?: string): void {
  const i = instruments();
  if (!i) return;
  const attributes: Record<string, string> = {
    [ATTR_TROUPE_ACTOR_TYPE]: actorType,
    [ATTR_TROUPE_METHOD]: method,
  };
  if (errorType) attributes[ATTR_ERROR_TYPE] = errorType;
  i.calls.add(1, attributes);
  i.callDuration.record(durationMs / 1000, attributes);
}

/** One HTTP request answered by a gateway; `route` is the template, never the raw path. */
export function recordHttpRequest(method: string, route: string, status: number, durationMs: number): void {
  const i = instruments();
  if (!i) return;
  const attributes = {
    "http.request.method": method,
    "http.route": route,
    "http.response.status_code": status,
  };
  i.httpRequests.add(1, attributes);
  i.httpDuration.record(durationMs / 1000, attributes);
}

/** A job of `queue` is delivered again. */
export function recordJobRetry(queue: string): void {
  instruments()?.jobRetries.add(1, { [ATTR_TROUPE_QUEUE]: queue });
}

/** A tell to `actorType` (undefined when unknown) was dropped with `errorType`. */
export function recordTellDropped(actorType: string | undefined, errorType: string): void {
  const i = instruments();
  if (!i) return;
  const attributes: Record<string, string> = { [ATTR_ERROR_TYPE]: errorType };
  if (actorType) attributes[ATTR_TROUPE_ACTOR_TYPE] = actorType;
  i.tellsDropped.add(1, attributes);
}

/**
 * Registers a gauge read at each collection (mailbox depth, jobs pending or in flight, DLQ size):
 * `observe` reports one value per attribute set. Returns a function that unregisters it; does
 * nothing (and returns a no-op) when no MeterProvider is registered.
 */
export function observeGauge(
  name: string,
  description: string,
  observe: (report: (value: number, attributes: Record<string, string>) => void) => void,
): () => void {
  const i = instruments();
  if (!i) return () => {};
  const gauge: ObservableGauge = i.meter.createObservableGauge(name, { description });
  const callback = (result: ObservableResult) =>
    observe((value, attributes) => result.observe(value, attributes));
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}

/**
 * Registers a monotonic counter whose running totals are read at each collection (e.g. an
 * enforcer's allowed/refused counts): `observe` reports each attribute set's total so far. Returns
 * a function that unregisters it; a no-op when no MeterProvider is registered.
 */
export function observeCounter(
  name: string,
  description: string,
  observe: (report: (total: number, attributes: Record<string, string>) => void) => void,
): () => void {
  const i = instruments();
  if (!i) return () => {};
  const counter = i.meter.createObservableCounter(name, { description });
  const callback = (result: ObservableResult) =>
    observe((total, attributes) => result.observe(total, attributes));
  counter.addCallback(callback);
  return () => counter.removeCallback(callback);
}
