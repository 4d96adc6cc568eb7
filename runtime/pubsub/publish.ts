/**
 * Publishing events: `publish(mesh, "orders.created", event)`.
 *
 * - durable (default): a JetStream publish to `<prefix>.evt.<topic>`, stored in the events stream;
 *   resolves once JetStream acknowledged it (PubAck), rejects with `PublishFailedError` otherwise.
 *   With `msgId`, a second publish of the same id within the duplicate window is dropped (the
 *   receipt says `duplicate: true`).
 * - `durable: false`: a core NATS publish, fire-and-forget (at-most-once to ephemeral subscribers;
 *   stored for durable ones if the events stream exists, but the publisher does not learn it).
 *
 * @example
 * ```ts
 * await publish(mesh, "orders.created", { orderId: "o-17", total: 42 }, { msgId: "o-17-created" });
 * await publish(mesh, "prices.tick", { sku: "tea", price: 3 }, { durable: false });
 * ```
 */

import type { PublishOptions, PublishReceipt } from "../actor/index.js";
import { domainOf, type MeshConnection, type OutboundSends, settledDomainOf } from "../durable/index.js";
import { ConfigurationError } from "../errors.js";
import { chainIdle } from "../interceptors/index.js";
import { CALLER_HEADER, ORIGIN_DOMAIN_HEADER } from "../messaging/index.js";
import { jetStreamQueues } from "../transport/index.js";
import { publishToDevices } from "./device-publish.js";
import { PublishFailedError } from "./errors.js";
import { CONTENT_TYPE_HEADER, encodeEvent, JSON_CONTENT_TYPE } from "./event.js";
import { type EventStreamOptions, ensureEventsStream, eventNamesOf } from "./streams.js";
import { assertTopic } from "./topics.js";

export type { PublishOptions, PublishReceipt };

export async function publish(
  mesh: OutboundSends,
  topic: string,
  event: unknown,
  options: PublishOptions = {},
): Promise<PublishReceipt> {
  if (options.mqtt) {
    const send = () => publishToDevices(mesh.transport, topic, event, options);
    if (chainIdle(mesh.outbound)) return send();
    const ctx = {
      kind: "publish" as const,
      topic,
      headers: {},
      deadline: performance.now() + (options.timeoutMs ?? 5000),
      caller: mesh.callerFor(options.caller),
    };
    return (await mesh.intercept(ctx, send)) as PublishReceipt;
  }
  assertTopic(topic);
  const { msgId } = options;
  if (msgId !== undefined && (typeof msgId !== "string" || msgId.length === 0 || msgId.length > 256)) {
    throw new ConfigurationError("msgId must be 1-256 characters");
  }
  const names = eventNamesOf(mesh);
  const subject = names.subject(topic);
  const data = options.json
    ? new Uint8Array(Buffer.from(JSON.stringify(event) ?? "null", "utf8"))
    : encodeEvent(event);
  const caller = mesh.callerFor(options.caller);
  if (chainIdle(mesh.outbound)) return send(mesh, topic, subject, data, options, caller, undefined);
  const ctx = {
    kind: "publish" as const,
    topic,
    headers: {},
    deadline: performance.now() + (options.timeoutMs ?? 5000),
    caller,
    delivery: { subject, messageId: msgId },
  };
  return (await mesh.intercept(ctx, () =>
    send(mesh, topic, subject, data, options, caller, ctx.headers),
  )) as PublishReceipt;
}

/** Creates the events stream (with `stream` settings if it creates it), if missing. */
export function prepareEventsStream(mesh: MeshConnection, stream?: EventStreamOptions): Promise<void> {
  return ensureEventsStream(mesh, stream);
}

/** Sends the event (after the outbound chain: tracing added its `traceparent` to `added`). */
async function send(
  mesh: OutboundSends,
  topic: string,
  subject: string,
  data: Uint8Array,
  options: PublishOptions,
  caller: string | undefined,
  added: Record<string, string> | undefined,
): Promise<PublishReceipt> {
  const { msgId } = options;
  const durable = options.durable !== false;
  const headers: Record<string, string> = { ...added };
  if (caller !== undefined) headers[CALLER_HEADER] = caller;
  if (options.json) headers[CONTENT_TYPE_HEADER] = JSON_CONTENT_TYPE;
  // The domain the event is published in: an edge site's subscribers skip their own events when
  // the hub's copies come back (hub-events.ts). Core publishes and the outbox do not wait for it.
  const origin = mesh.outbox
    ? settledDomainOf(mesh)
    : durable
      ? await domainOf(mesh)
      : settledDomainOf(mesh, true);
  if (origin !== undefined) headers[ORIGIN_DOMAIN_HEADER] = origin;
  if (mesh.outbox) {
    // Written to the local outbox, forwarded in order while connected (a durable event with the
    // msgId given, or one the outbox assigns, so a resend after a crash is a duplicate). It fails
    // with the outbox's own typed errors (OutboxFullError, OutboxStoreError).
    const hs = Object.keys(headers).length ? headers : undefined;
    await mesh.outbox.append(
      durable
        ? { kind: "event", subject, data, headers: hs, msgId, prepare: { events: { ...options.stream } } }
        : { kind: "core", subject, data, headers: msgId ? { ...hs, "Nats-Msg-Id": msgId } : hs },
    );
    return { topic, subject, durable, queued: true };
  }
  try {
    if (!durable) {
      if (msgId) headers["Nats-Msg-Id"] = msgId;
      mesh.transport.publish(subject, data, Object.keys(headers).length ? headers : undefined);
      return { topic, subject, durable };
    }
    await ensureEventsStream(mesh, options.stream);
    const ack = await jetStreamQueues(mesh.transport).publish(subject, data, {
      ...(msgId ? { msgId } : {}),
      ...(Object.keys(headers).length ? { headers } : {}),
      timeoutMs: options.timeoutMs ?? 5000,
    });
    return { topic, subject, durable, seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    if (err instanceof ConfigurationError) throw err;
    throw new PublishFailedError(
      `publishing on ${topic} was not acknowledged: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err, details: { topic, ...(msgId ? { msgId } : {}) } },
    );
  }
}
