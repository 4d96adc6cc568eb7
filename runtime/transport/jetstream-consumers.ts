/**
 * Durable pull consumers with a start position and a description, and their listing: what event
 * subscriptions need beyond {@link JetStreamQueues} (which creates job consumers that always start
 * at the beginning). Pulling from them goes through `JetStreamQueues.pull`.
 */
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { ConfigurationError } from "../errors.js";
import { JS_CONSUMER_NOT_FOUND, JS_STREAM_NOT_FOUND } from "./jetstream-codes.js";
import { natsTransportOf } from "./late-transport.js";
import type { NatsTransport } from "./nats-transport.js";
import type { Transport } from "./transport.js";

export interface DurableConsumerSpec {
  stream: string;
  durable: string;
  filterSubject: string;
  /** Where a NEW consumer starts: every stored message, or only those stored from now on. */
  startAt: "all" | "new";
  ackWaitMs: number;
  maxAckPending: number;
  description: string;
}

export type EnsureOutcome = "created" | "existing";

export interface ConsumerListing {
  readonly name: string;
  readonly filterSubject: string;
  readonly description: string;
  readonly pending: number;
  readonly ackPending: number;
  readonly redelivered: number;
  /** Deliveries made so far (the consumer sequence: first deliveries and redeliveries). */
  readonly deliveries: number;
  readonly waiting: number;
  readonly maxAckPending: number;
  readonly ackWaitMs: number;
  readonly deliverPolicy: string;
  readonly createdAtMs: number;
}

const managers = new WeakMap<NatsTransport, Promise<JetStreamManager>>();

function jsm(transport: Transport): Promise<JetStreamManager> {
  const nats = natsTransportOf(transport, "durable subscriptions");
  let p = managers.get(nats);
  if (!p) {
    p = jetstreamManager(nats.nc);
    managers.set(nats, p);
    p.catch(() => managers.delete(nats));
  }
  return p;
}

/**
 * Creates the consumer, or keeps an existing one where it is (its position and filter win; its
 * ack wait, max ack pending and description are updated). Throws `ConfigurationError` if an
 * existing consumer filters another subject (the pattern of a subscription changed: delete the
 * consumer, or subscribe from another method).
 */
export async function ensureDurableConsumer(
  transport: Transport,
  spec: DurableConsumerSpec,
): Promise<EnsureOutcome> {
  const m = await jsm(transport);
  let existing: Awaited<ReturnType<JetStreamManager["consumers"]["info"]>> | undefined;
  try {
    existing = await m.consumers.info(spec.stream, spec.durable);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JS_CONSUMER_NOT_FOUND)) throw err;
  }
  if (existing) {
    if (existing.config.filter_subject !== spec.filterSubject) {
      throw new ConfigurationError(
        `consumer ${spec.durable} of ${spec.stream} filters "${existing.config.filter_subject}", not "${spec.filterSubject}": delete it to change the pattern`,
      );
    }
    const c = existing.config;
    if (
      c.ack_wait !== nanos(spec.ackWaitMs) ||
      c.max_ack_pending !== spec.maxAckPending ||
      c.description !== spec.description
    ) {
      await m.consumers.update(spec.stream, spec.durable, {
        ack_wait: nanos(spec.ackWaitMs),
        max_ack_pending: spec.maxAckPending,
        description: spec.description,
      });
    }
    return "existing";
  }
  try {
    await m.consumers.add(spec.stream, {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: spec.startAt === "new" ? DeliverPolicy.New : DeliverPolicy.All,
      filter_subject: spec.filterSubject,
      ack_wait: nanos(spec.ackWaitMs),
      max_ack_pending: spec.maxAckPending,
      // Retries and dead-lettering are decided by the subscriber from the delivery count.
      max_deliver: -1,
      description: spec.description,
    });
    return "created";
  } catch (err) {
    // Another host of the type created it at the same moment: theirs stands.
    if (err instanceof JetStreamApiError && /already (exists|in use)/i.test(err.message)) return "existing";
    throw err;
  }
}

/** The durable consumers of `stream` (empty when there is no such stream). */
export async function listConsumers(transport: Transport, stream: string): Promise<ConsumerListing[]> {
  const m = await jsm(transport);
  const out: ConsumerListing[] = [];
  try {
    for await (const c of m.consumers.list(stream)) {
      out.push({
        name: c.name,
        filterSubject: c.config.filter_subject ?? "",
        description: c.config.description ?? "",
        pending: c.num_pending,
        ackPending: c.num_ack_pending,
        redelivered: c.num_redelivered,
        deliveries: c.delivered.consumer_seq,
        waiting: c.num_waiting,
        maxAckPending: c.config.max_ack_pending ?? -1,
        ackWaitMs: Math.round((c.config.ack_wait ?? 0) / 1e6),
        deliverPolicy: String(c.config.deliver_policy),
        createdAtMs: Date.parse(c.created),
      });
    }
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JS_STREAM_NOT_FOUND) return [];
    throw err;
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Deletes a durable consumer; false if it did not exist. */
export async function deleteConsumer(
  transport: Transport,
  stream: string,
  durable: string,
): Promise<boolean> {
  const m = await jsm(transport);
  try {
    return await m.consumers.delete(stream, durable);
  } catch (err) {
    if (
      err instanceof JetStreamApiError &&
      (err.code === JS_CONSUMER_NOT_FOUND || err.code === JS_STREAM_NOT_FOUND)
    )
      return false;
    throw err;
  }
}
