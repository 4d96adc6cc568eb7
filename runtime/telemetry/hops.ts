/**
 * One `start*` function per kind of hop, following the OpenTelemetry messaging conventions:
 * span names are `{operation} {destination}` with a low-cardinality destination (actor type and
 * method, queue or topic name; never an actor id or an inbox), and the attributes of `semconv.ts`.
 *
 * | hop                        | span                       | kind     | parent                         |
 * | -------------------------- | -------------------------- | -------- | ------------------------------ |
 * | request-reply, caller      | `call Cart.add`            | CLIENT   | active context                 |
 * | request-reply, actor turn  | `process Cart.add`         | SERVER   | context in the request headers |
 * | tell, caller               | `send Cart.add`            | PRODUCER | active context                 |
 * | tell, actor turn           | `process Cart.add`         | CONSUMER | context in the message headers |
 * | job enqueue                | `enqueue <queue>`          | PRODUCER | active context                 |
 * | job, first delivery        | `process <queue>`          | CONSUMER | context in the message headers |
 * | job, redelivery (n > 1)    | `process <queue>`          | CONSUMER | none (new trace), LINK to the  |
 * |                            |                            |          | context in the message headers |
 * | pub-sub publish            | `publish <topic>`          | PRODUCER | active context                 |
 * | pub-sub delivery           | `process <topic>`          | CONSUMER | context in the message headers |
 *
 * Every function returns `undefined` when no SDK is registered, before building any attribute or
 * header object. Outbound hops carry `headers` (the trace context) for the transport. Arguments
 * are positional so that a disabled call allocates nothing.
 */
import {
  type Attributes,
  type Context,
  context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  trace,
} from "@opentelemetry/api";
import type { MessageHeaders } from "../transport/transport.js";
import { activeTracer, Hop, OutboundHop } from "./hop.js";
import { extractContext, injectContext } from "./propagation.js";
import {
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_TROUPE_ACTOR_ID,
  ATTR_TROUPE_ACTOR_TYPE,
  ATTR_TROUPE_DELIVERY_ATTEMPT,
  ATTR_TROUPE_METHOD,
  MESSAGING_SYSTEM_NATS,
  type MessagingOperationType,
} from "./semconv.js";

/** Request-reply, caller side: CLIENT span `call <Type>.<method>`, child of the active context. */
export function startCallSpan(
  actorType: string,
  method: string,
  actorId: string,
  subject: string,
): OutboundHop | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const attributes = messagingAttributes("call", "send", subject);
  actorAttributes(attributes, actorType, method, actorId);
  return outbound(tracer.startSpan(`call ${actorType}.${method}`, { kind: SpanKind.CLIENT, attributes }));
}

/** Tell (fire-and-forget), caller side: PRODUCER span `send <Type>.<method>`. */
export function startTellSpan(
  actorType: string,
  method: string,
  actorId: string,
  subject: string,
): OutboundHop | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const attributes = messagingAttributes("send", "send", subject);
  actorAttributes(attributes, actorType, method, actorId);
  return outbound(tracer.startSpan(`send ${actorType}.${method}`, { kind: SpanKind.PRODUCER, attributes }));
}

/**
 * The actor turn that handles a call (SERVER span) or a tell (CONSUMER span), named
 * `process <Type>.<method>`, child of the context in the message headers. Run the handler with
 * `runInHop`/`callInHop` so that the calls it makes become children of this span.
 */
export function startTurnSpan(
  headers: MessageHeaders | undefined,
  mode: "call" | "tell",
  actorType: string,
  method: string,
  actorId: string,
  /**
   * The subject, or the inbound message to read it from: nats.js decodes a message's subject on
   * first access, which an untraced call should not pay for.
   */
  subject: string | { readonly subject: string },
  queueGroup?: string,
): Hop | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const attributes = messagingAttributes(
    "process",
    "process",
    typeof subject === "string" ? subject : subject.subject,
  );
  actorAttributes(attributes, actorType, method, actorId);
  if (queueGroup) attributes[ATTR_MESSAGING_CONSUMER_GROUP_NAME] = queueGroup;
  const parent = extractContext(headers);
  const kind = mode === "call" ? SpanKind.SERVER : SpanKind.CONSUMER;
  return inbound(tracer.startSpan(`process ${actorType}.${method}`, { kind, attributes }, parent), parent);
}

/** Job enqueue: PRODUCER span `enqueue <queue>`. `queue` must be low-cardinality. */
export function startEnqueueSpan(
  queue: string,
  subject: string,
  messageId?: string,
): OutboundHop | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const attributes = messagingAttributes("enqueue", "send", subject);
  if (messageId) attributes[ATTR_MESSAGING_MESSAGE_ID] = messageId;
  return outbound(tracer.startSpan(`enqueue ${queue}`, { kind: SpanKind.PRODUCER, attributes }));
}

/**
 * Job processing: CONSUMER span `process <queue>`. The first delivery (`attempt` 1) is a child of
 * the context in the message headers. A redelivery (`attempt` > 1) starts a new trace with a LINK
 * to that context: a redelivered JetStream message carries the same headers as the first
 * delivery, so the link points at the span the first attempt was started from.
 */
export function startJobSpan(
  headers: MessageHeaders | undefined,
  queue: string,
  subject: string,
  consumer: string,
  attempt: number,
  messageId?: string,
): Hop | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const attributes = messagingAttributes("process", "process", subject);
  attributes[ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME] = consumer;
  attributes[ATTR_TROUPE_DELIVERY_ATTEMPT] = attempt;
  if (messageId) attributes[ATTR_MESSAGING_MESSAGE_ID] = messageId;
  const carried = extractContext(headers);
  const name = `process ${queue}`;
  if (attempt <= 1) {
    return inbound(tracer.startSpan(name, { kind: SpanKind.CONSUMER, attributes }, carried), carried);
  }
  const carriedSpan = trace.getSpanContext(carried);
  const links: Link[] = carriedSpan ? [{ context: carriedSpan }] : [];
  const span = tracer.startSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes, links, root: true },
    ROOT_CONTEXT,
  );
  return inbound(span, ROOT_CONTEXT);
}

/** Pub-sub publish: PRODUCER span `publish <topic>`. `topic` must be low-cardinality. */
export function startPublishSpan(
  topic: string,
  subject: string,
  messageId?: string,
): OutboundHop | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const attributes = messagingAttributes("publish", "send", subject);
  if (messageId) attributes[ATTR_MESSAGING_MESSAGE_ID] = messageId;
  return outbound(tracer.startSpan(`publish ${topic}`, { kind: SpanKind.PRODUCER, attributes }));
}

/** Pub-sub delivery to one subscriber: CONSUMER span `process <topic>`, child of the publisher. */
export function startEventSpan(
  headers: MessageHeaders | undefined,
  topic: string,
  subject: string,
  subscription: string,
  messageId?: string,
): Hop | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const attributes = messagingAttributes("process", "process", subject);
  attributes[ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME] = subscription;
  if (messageId) attributes[ATTR_MESSAGING_MESSAGE_ID] = messageId;
  const parent = extractContext(headers);
  return inbound(
    tracer.startSpan(`process ${topic}`, { kind: SpanKind.CONSUMER, attributes }, parent),
    parent,
  );
}

function messagingAttributes(
  operationName: string,
  operationType: MessagingOperationType,
  subject: string,
): Attributes {
  return {
    [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_NATS,
    [ATTR_MESSAGING_OPERATION_NAME]: operationName,
    [ATTR_MESSAGING_OPERATION_TYPE]: operationType,
    [ATTR_MESSAGING_DESTINATION_NAME]: subject,
  };
}

function actorAttributes(attributes: Attributes, actorType: string, method: string, actorId: string): void {
  attributes[ATTR_TROUPE_ACTOR_TYPE] = actorType;
  attributes[ATTR_TROUPE_METHOD] = method;
  attributes[ATTR_TROUPE_ACTOR_ID] = actorId;
}

function outbound(span: Span): OutboundHop {
  const ctx = trace.setSpan(context.active(), span);
  return new OutboundHop(span, ctx, injectContext(ctx, {}));
}

function inbound(span: Span, parent: Context): Hop {
  return new Hop(span, trace.setSpan(parent, span));
}
