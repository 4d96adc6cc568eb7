/**
 * One subscribing method of one type on this host, the part durable and ephemeral subscriptions
 * share: the common dispatch of an event to its handler. The actor id comes from the
 * subscription's `key` (or the method's name, spread over activations for a stateless type); the
 * handler runs as a turn of that actor through the host's inbound interceptors and the mesh's
 * request-reply path, on the host that owns the actor. While the type's circuit is open, a durable
 * event waits for it (not an attempt); an ephemeral one fails.
 *
 * Durable subscriptions: durable-subscription.ts; ephemeral ones: ephemeral-subscription.ts.
 */
import type { ActorClass, ActorType, AnyActor } from "../actor/index.js";
import { HeldBack, type TurnDelivery, throughInbound, throughOpenCircuit } from "../durable/index.js";
import { TerminalError } from "../errors.js";
import type { Logger } from "../log.js";
import { callerToForward, type EventNames, MAX_ACTOR_ID_LENGTH } from "../messaging/index.js";
import { type Resilience, resilienceOf } from "../resilience/index.js";
import type { InboundMessage, MessageHeaders } from "../transport/index.js";
import type { EventInfo } from "./event.js";
import { decodeFor } from "./sources.js";
import type { SubscriptionSpec } from "./subscribe.js";
import type { SubscriberEvent, SubscriptionSettings, SubscriptionStats } from "./subscriber-options.js";

export abstract class Subscription {
  readonly name: string;
  protected readonly logger: Logger;
  protected readonly resilience: Resilience;
  protected readonly capacity: number;
  protected stopped = false;
  protected n = { handled: 0, filtered: 0, retried: 0, deadLettered: 0, failed: 0, dropped: 0, throttled: 0 };

  constructor(
    protected readonly mesh: TurnDelivery,
    protected readonly cls: ActorClass,
    protected readonly type: ActorType,
    protected readonly spec: SubscriptionSpec,
    protected readonly s: SubscriptionSettings,
    protected readonly names: EventNames,
  ) {
    this.name = names.consumer(type.name, spec.method);
    this.logger = mesh.logger;
    this.resilience = resilienceOf(mesh);
    this.capacity = spec.ordered ? 1 : (spec.capacity ?? s.capacity);
  }

  abstract stats(): SubscriptionStats;
  abstract start(): void;
  abstract stop(drainTimeoutMs: number): Promise<void>;

  /** A Troupe event, or for MQTT subscriptions a device's raw payload (devices.ts). */
  protected decode(subject: string, data: Uint8Array, headers: MessageHeaders | undefined): unknown {
    return decodeFor(this.spec, subject, data, headers);
  }

  protected emit(e: SubscriberEvent): void {
    try {
      this.s.onEvent?.(e);
    } catch (err) {
      this.logger.warn("subscriber event observer threw", { err });
    }
  }

  /** The actor id that handles `event` (see `SubscribeOptions.key`). Throws TerminalError on a bad key. */
  protected actorIdFor(event: unknown, seq: number): string {
    if (this.spec.key) {
      const id = this.spec.key(event);
      if (typeof id !== "string" || id.length === 0 || id.length > MAX_ACTOR_ID_LENGTH) {
        throw new TerminalError(`key of ${this.name} returned ${JSON.stringify(id)}: not an actor id`);
      }
      return id;
    }
    return this.type.stateless ? `${this.spec.method}-${seq % this.capacity}` : this.spec.method;
  }

  /** Runs the handler as a turn of actor `id` (request-reply through the mesh). */
  protected async invoke(id: string, event: unknown, info: EventInfo, headers: InboundMessage["headers"]) {
    const caller = callerToForward(headers);
    const opts = {
      ...(this.spec.timeoutMs ? { timeoutMs: this.spec.timeoutMs } : {}),
      ...(caller === undefined ? {} : { caller }),
    };
    const args = [event, info];
    const deliver = () =>
      this.mesh.callActor(this.cls as ActorClass<AnyActor>, id, this.spec.method, args, opts);
    // A throttle's refusal before the turn ran resolves as HeldBack: a durable event is held back.
    const call = throughInbound(
      this.s.inbound,
      () => ({
        kind: "event",
        actorType: this.type.name,
        actorId: id,
        method: this.spec.method,
        headers,
        timeoutMs: this.spec.timeoutMs ?? this.type.defaultTimeoutMs ?? this.mesh.defaultTimeoutMs,
        delivery: {
          subject: this.names.subject(info.topic),
          traceHeaders: headers,
          destination: this.spec.pattern,
          consumer: this.name,
          ...(info.msgId ? { messageId: info.msgId } : {}),
        },
      }),
      deliver,
    );
    // While the type's circuit is open a durable event waits; an ephemeral one fails.
    const keepWaiting = () => info.durable && !this.stopped;
    const value = await throughOpenCircuit(this.resilience, this.type.name, call, keepWaiting);
    if (value instanceof HeldBack) throw info.durable ? value : value.throttled;
  }
}
