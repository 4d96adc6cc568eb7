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
 *
 * A hop that is not sampled costs little more than propagation needs: with Troupe's tracer (a
 * {@link HopTracer}) the sampling decision comes first, and an unsampled hop gets no span, no name,
 * no attributes and no context of its own: outbound, the `traceparent` with the sampled flag off
 * (so downstream hops agree); inbound, the extracted context as the turn's context (user spans in
 * it are non-recording, calls made from it stay in the trace, unsampled).
 */
import {
  type Attributes,
  type Context,
  context,
  type Link,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  TraceFlags,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { MessageHeaders } from "../transport/index.js";
import { activeHopTracer, activeTracer, Hop, type HopTracer, OutboundHop } from "./hop.js";
import { extractContext, headersFor, injectContext } from "./propagation.js";
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
  const hops = activeHopTracer();
  const ctx = context.active();
  let sc: SpanContext | undefined;
  if (hops) {
    sc = hops.decideHop(ctx, SpanKind.CLIENT);
    if (!isSampled(sc)) return unsampledOutbound(ctx, sc);
  }
  const attributes = messagingAttributes("call", "send", subject);
  actorAttributes(attributes, actorType, method, actorId);
  return outbound(tracer, hops, sc, ctx, `call ${actorType}.${method}`, SpanKind.CLIENT, attributes);
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
  const hops = activeHopTracer();
  const ctx = context.active();
  let sc: SpanContext | undefined;
  if (hops) {
    sc = hops.decideHop(ctx, SpanKind.PRODUCER);
    if (!isSampled(sc)) return unsampledOutbound(ctx, sc);
  }
  const attributes = messagingAttributes("send", "send", subject);
  actorAttributes(attributes, actorType, method, actorId);
  return outbound(tracer, hops, sc, ctx, `send ${actorType}.${method}`, SpanKind.PRODUCER, attributes);
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
  const parent = extractContext(headers);
  const kind = mode === "call" ? SpanKind.SERVER : SpanKind.CONSUMER;
  const hops = activeHopTracer();
  let sc: SpanContext | undefined;
  if (hops) {
    sc = hops.decideHop(parent, kind);
    if (!isSampled(sc)) return unsampledInbound(parent, sc);
  }
  const attributes = messagingAttributes(
    "process",
    "process",
    typeof subject === "string" ? subject : subject.subject,
  );
  actorAttributes(attributes, actorType, method, actorId);
  if (queueGroup) attributes[ATTR_MESSAGING_CONSUMER_GROUP_NAME] = queueGroup;
  return inbound(tracer, hops, sc, parent, `process ${actorType}.${method}`, kind, attributes);
}

/** Job enqueue: PRODUCER span `enqueue <queue>`. `queue` must be low-cardinality. */
export function startEnqueueSpan(
  queue: string,
  subject: string,
  messageId?: string,
): OutboundHop | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const hops = activeHopTracer();
  const ctx = context.active();
  let sc: SpanContext | undefined;
  if (hops) {
    sc = hops.decideHop(ctx, SpanKind.PRODUCER);
    if (!isSampled(sc)) return unsampledOutbound(ctx, sc);
  }
  const attributes = messagingAttributes("enqueue", "send", subject);
  if (messageId) attributes[ATTR_MESSAGING_MESSAGE_ID] = messageId;
  return outbound(tracer, hops, sc, ctx, `enqueue ${queue}`, SpanKind.PRODUCER, attributes);
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
  const carried = extractContext(headers);
  // A redelivery starts a new trace (linked to the first delivery's parent).
  const parent = attempt <= 1 ? carried : ROOT_CONTEXT;
  const hops = activeHopTracer();
  let sc: SpanContext | undefined;
  if (hops) {
    sc = hops.decideHop(parent, SpanKind.CONSUMER);
    if (!isSampled(sc)) return unsampledInbound(parent, sc);
  }
  const attributes = messagingAttributes("process", "process", subject);
  attributes[ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME] = consumer;
  attributes[ATTR_TROUPE_DELIVERY_ATTEMPT] = attempt;
  if (messageId) attributes[ATTR_MESSAGING_MESSAGE_ID] = messageId;
  const name = `process ${queue}`;
  if (attempt <= 1) return inbound(tracer, hops, sc, carried, name, SpanKind.CONSUMER, attributes);
  const carriedSpan = trace.getSpanContext(carried);
  const links: Link[] = carriedSpan ? [{ context: carriedSpan }] : [];
  return inbound(tracer, hops, sc, ROOT_CONTEXT, name, SpanKind.CONSUMER, attributes, links);
}

/** Pub-sub publish: PRODUCER span `publish <topic>`. `topic` must be low-cardinality. */
export function startPublishSpan(
  topic: string,
  subject: string,
  messageId?: string,
): OutboundHop | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const hops = activeHopTracer();
  const ctx = context.active();
  let sc: SpanContext | undefined;
  if (hops) {
    sc = hops.decideHop(ctx, SpanKind.PRODUCER);
    if (!isSampled(sc)) return unsampledOutbound(ctx, sc);
  }
  const attributes = messagingAttributes("publish", "send", subject);
  if (messageId) attributes[ATTR_MESSAGING_MESSAGE_ID] = messageId;
  return outbound(tracer, hops, sc, ctx, `publish ${topic}`, SpanKind.PRODUCER, attributes);
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
  const parent = extractContext(headers);
  const hops = activeHopTracer();
  let sc: SpanContext | undefined;
  if (hops) {
    sc = hops.decideHop(parent, SpanKind.CONSUMER);
    if (!isSampled(sc)) return unsampledInbound(parent, sc);
  }
  const attributes = messagingAttributes("process", "process", subject);
  attributes[ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME] = subscription;
  if (messageId) attributes[ATTR_MESSAGING_MESSAGE_ID] = messageId;
  return inbound(tracer, hops, sc, parent, `process ${topic}`, SpanKind.CONSUMER, attributes);
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

/** Whether a decided span context is sampled (undefined: suppressed, nothing to record). */
function isSampled(sc: SpanContext | undefined): sc is SpanContext {
  return sc !== undefined && (sc.traceFlags & TraceFlags.SAMPLED) !== 0;
}

/** An outbound hop that records nothing: only the trace context, unsampled, for the message. */
function unsampledOutbound(ctx: Context, sc: SpanContext | undefined): OutboundHop | undefined {
  return sc === undefined ? undefined : new OutboundHop(undefined, ctx, headersFor(ctx, sc));
}

/**
 * An inbound hop that records nothing. Its context is the extracted one when the sender's span is
 * the unsampled parent (no context built), else one holding the fresh unsampled span context.
 */
function unsampledInbound(parent: Context, sc: SpanContext | undefined): Hop | undefined {
  if (sc === undefined) return undefined;
  return new Hop(undefined, sc === trace.getSpanContext(parent) ? parent : trace.setSpanContext(parent, sc));
}

/** A sampled outbound hop (`sc` from `hops.decideHop`), or through the tracer's API without one. */
function outbound(
  tracer: Tracer,
  hops: HopTracer | undefined,
  sc: SpanContext | undefined,
  parent: Context,
  name: string,
  kind: SpanKind,
  attributes: Attributes,
): OutboundHop {
  if (hops && sc) {
    const span = hops.startDecided(sc, parent, name, kind, attributes);
    return new OutboundHop(span, trace.setSpan(parent, span), headersFor(parent, sc));
  }
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  return new OutboundHop(span, ctx, injectContext(ctx, {}));
}

function inbound(
  tracer: Tracer,
  hops: HopTracer | undefined,
  sc: SpanContext | undefined,
  parent: Context,
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  links?: Link[],
): Hop {
  const span =
    hops && sc
      ? hops.startDecided(sc, parent, name, kind, attributes, links)
      : tracer.startSpan(name, { kind, attributes, ...(links ? { links, root: true } : {}) }, parent);
  return new Hop(span, trace.setSpan(parent, span));
}
