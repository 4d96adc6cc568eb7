/**
 * Running the subscriptions of a host's actor types (`@subscribe` methods): planning them from the
 * classes (handler check, configured filters), opening their sources (sources.ts), starting one
 * subscription per source, and stopping them together. The modules it builds on:
 *
 * - durable-subscription.ts: the default, a JetStream durable consumer per type and method;
 *   at-least-once, with retries and per-subscriber dead letters.
 * - ephemeral-subscription.ts: `durable: false`, a core NATS queue group; at-most-once.
 * - subscription.ts: the dispatch both share (actor id from `key`, the handler run as a turn).
 * - sources.ts: the events stream, the devices stream (MQTT), the hub's events at an edge site.
 * - subscriber-options.ts: options, settings, outcomes and counts.
 *
 * @example
 * ```ts
 * const subs = await startSubscribers(mesh, [Cart, Mailer], { hostName: "host-1" });
 * await subs.stop();   // before draining the host: stop pulling, let handlers finish
 * ```
 */
import type { ActorClass } from "../actor/index.js";
import { type ActorType, actorTypeOf } from "../actor/index.js";
import type { TurnDelivery } from "../durable/index.js";
import { ConfigurationError } from "../errors.js";
import type { InboundInterceptor } from "../interceptors/index.js";
import { DurableSubscription } from "./durable-subscription.js";
import { EphemeralSubscription } from "./ephemeral-subscription.js";
import { compileFilter } from "./filter.js";
import { openSources } from "./sources.js";
import { type SubscriptionSpec, subscriptionsOf } from "./subscribe.js";
import {
  addStats,
  type SubscribersOptions,
  type SubscriptionStats,
  settingsOf,
} from "./subscriber-options.js";
import type { Subscription } from "./subscription.js";

/** The running subscriptions of one host. */
export class Subscribers {
  /** @internal Use {@link startSubscribers}. */
  constructor(
    private readonly subs: Subscription[],
    private readonly drainTimeoutMs: number,
  ) {}

  /** Subscription names (`<Type>_<method>`). */
  get names(): string[] {
    return [...new Set(this.subs.map((s) => s.name))];
  }

  /** A subscription's counts, summed over its streams (at an edge site, also the hub's events). */
  stats(name: string): SubscriptionStats | undefined {
    const all = this.subs.filter((s) => s.name === name).map((s) => s.stats());
    return all.reduce<SubscriptionStats | undefined>(
      (sum, one) => (sum ? addStats(sum, one) : one),
      undefined,
    );
  }

  /** Stops taking events, waits up to `drainTimeoutMs` for running handlers. Idempotent. */
  async stop(): Promise<void> {
    await Promise.all(this.subs.map((s) => s.stop(this.drainTimeoutMs)));
  }
}

/** Starts the `@subscribe` subscriptions of `classes` (types without any are skipped). */
export async function startSubscribers(
  mesh: TurnDelivery,
  classes: ActorClass[],
  options: SubscribersOptions = {},
  /** The host's inbound interceptors (kind "event"). */
  inbound: readonly InboundInterceptor[] = [],
): Promise<Subscribers> {
  const s = settingsOf(options, inbound);
  const planned: { cls: ActorClass; type: ActorType; spec: SubscriptionSpec }[] = [];
  for (const cls of classes) {
    const type = actorTypeOf(cls);
    for (let spec of subscriptionsOf(cls)) {
      if (!type.handlers.has(spec.method)) {
        throw new ConfigurationError(`${type.name}.${spec.method} is subscribed but is not a handler`);
      }
      const configured = options.filters?.[`${type.name}.${spec.method}`];
      if (configured !== undefined) {
        const f = compileFilter(configured);
        spec = { ...spec, filter: f, filterSource: f.source };
      }
      planned.push({ cls, type, spec });
    }
  }
  const sourcesOf = await openSources(
    mesh,
    planned.map((p) => p.spec),
    options.stream,
  );
  const subs: Subscription[] = [];
  for (const { cls, type, spec } of planned) {
    for (const source of sourcesOf(spec)) {
      if (spec.durable) {
        const sub = new DurableSubscription(mesh, cls, type, spec, s, source.names, source.ownDomain);
        await sub.ensureConsumer();
        subs.push(sub);
      } else {
        subs.push(new EphemeralSubscription(mesh, cls, type, spec, s, source.names));
      }
    }
  }
  for (const sub of subs) sub.start();
  return new Subscribers(subs, options.drainTimeoutMs ?? 30_000);
}
