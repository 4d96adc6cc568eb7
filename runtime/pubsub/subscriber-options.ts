/**
 * What a host's subscriptions are configured with and what they report: the options of
 * `startSubscribers`, the settings resolved from them (defaults applied once), the delivery
 * outcomes an observer sees, and the per-subscription counts.
 */
import os from "node:os";
import type { RedeliveryPolicy } from "../durable/index.js";
import type { InboundInterceptor } from "../interceptors/index.js";
import { DEFAULT_MAX_DELAY_MS } from "../resilience/index.js";
import type { EventStreamOptions } from "./streams.js";

export const DEFAULT_SUBSCRIPTION_CAPACITY = 16;
export const DEFAULT_EVENT_MAX_ATTEMPTS = 5;

export interface SubscribersOptions {
  /** Name recorded in dead letters. Default `<hostname>-<pid>`. */
  hostName?: string;
  /** Attempts of an event per subscriber (first included), unless the subscription sets its own. Default 5. */
  maxAttempts?: number;
  /** An event is dead-lettered instead of retried once this long has passed since it was stored. Default 24 h. */
  maxElapsedMs?: number;
  /** Upper bound of the first retry's delay (full jitter, doubling per attempt). Default 1 s. */
  initialDelayMs?: number;
  /** Cap of a retry's delay. Default 30 s. */
  maxDelayMs?: number;
  /** Redelivery delay after a host stops acking (it died). Default 30 s. */
  ackWaitMs?: number;
  /** Events of one subscription a host handles at once, unless the subscription sets its own. Default 16. */
  capacity?: number;
  /** Events of one subscription awaiting their ack, over all hosts of the type. Default 1000. */
  maxAckPending?: number;
  /** How long one pull waits for events (min 1 s). Default 5 s. */
  pullExpiresMs?: number;
  /** How long `stop()` waits for running handlers before handing their events back. Default 30 s. */
  drainTimeoutMs?: number;
  /** Ephemeral subscriptions: events handled at once per subscription; beyond it they are dropped. Default 1000. */
  ephemeralMaxInFlight?: number;
  /**
   * Filter expressions from configuration, by subscription (`"<Type>.<method>"`): replaces the
   * subscription's own filter. E.g. `{ "Mailer.onOrder": "total > 100" }`.
   */
  filters?: Record<string, string>;
  /** Stream settings used if this host creates the events stream. */
  stream?: EventStreamOptions;
  /** Observes every delivery outcome (tests, metrics). Must not throw. */
  onEvent?: (event: SubscriberEvent) => void;
}

export type SubscriberEvent =
  | {
      kind: "handled" | "filtered";
      subscription: string;
      topic: string;
      attempt: number;
      seq: number | undefined;
    }
  | {
      kind: "retry";
      subscription: string;
      topic: string;
      attempt: number;
      seq: number;
      delayMs: number;
      error: unknown;
    }
  | {
      kind: "dead-lettered" | "failed" | "dropped";
      subscription: string;
      topic: string;
      attempt: number;
      seq: number | undefined;
      error: unknown;
    };

export interface SubscriptionStats {
  readonly durable: boolean;
  readonly pattern: string;
  readonly handled: number;
  readonly filtered: number;
  readonly retried: number;
  readonly deadLettered: number;
  /** Ephemeral: handler failures (not retried). */
  readonly failed: number;
  /** Ephemeral: events dropped because `ephemeralMaxInFlight` were running. */
  readonly dropped: number;
  /** Durable: deliveries the inbound chain refused with ThrottledError, handed back to run later. */
  readonly throttled: number;
  readonly held: number;
  readonly maxHeld: number;
}

export interface SubscriptionSettings extends RedeliveryPolicy {
  maxAttempts: number;
  ackWaitMs: number;
  capacity: number;
  maxAckPending: number;
  pullExpiresMs: number;
  hostName: string;
  ephemeralMaxInFlight: number;
  onEvent: ((event: SubscriberEvent) => void) | undefined;
  /** The host's inbound interceptors, around every delivery. */
  inbound: readonly InboundInterceptor[];
}

/** The settings of every subscription of a host, from its options and inbound interceptors. */
export function settingsOf(
  options: SubscribersOptions,
  inbound: readonly InboundInterceptor[],
): SubscriptionSettings {
  return {
    maxAttempts: options.maxAttempts ?? DEFAULT_EVENT_MAX_ATTEMPTS,
    maxElapsedMs: options.maxElapsedMs ?? 24 * 3600_000,
    initialDelayMs: options.initialDelayMs ?? 1000,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
    ackWaitMs: options.ackWaitMs ?? 30_000,
    capacity: options.capacity ?? DEFAULT_SUBSCRIPTION_CAPACITY,
    maxAckPending: options.maxAckPending ?? 1000,
    pullExpiresMs: Math.max(1000, options.pullExpiresMs ?? 5000),
    hostName: options.hostName ?? `${os.hostname()}-${process.pid}`,
    ephemeralMaxInFlight: options.ephemeralMaxInFlight ?? 1000,
    onEvent: options.onEvent,
    inbound,
  };
}

/** The counts of one subscription over two of its streams (at an edge site, its own and the hub's). */
export function addStats(a: SubscriptionStats, b: SubscriptionStats): SubscriptionStats {
  return {
    durable: a.durable,
    pattern: a.pattern,
    handled: a.handled + b.handled,
    filtered: a.filtered + b.filtered,
    retried: a.retried + b.retried,
    deadLettered: a.deadLettered + b.deadLettered,
    failed: a.failed + b.failed,
    dropped: a.dropped + b.dropped,
    throttled: a.throttled + b.throttled,
    held: a.held + b.held,
    maxHeld: Math.max(a.maxHeld, b.maxHeld),
  };
}
