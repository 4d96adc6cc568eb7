/**
 * The `@subscribe` decorator (TC39 standard decorators): marks an actor method as the handler of
 * events on a topic pattern. Subscriptions are recorded on the class (decorator metadata, with a
 * fallback keyed by the method function) and started by `startSubscribers` / `mesh.host`.
 *
 * @example
 * ```ts
 * class Cart extends Actor<{ items: Item[] }> {
 *   @subscribe("orders.cancelled", { key: (e: OrderCancelled) => e.cartId })
 *   async onCancelled(e: OrderCancelled, info: EventInfo) { this.state.items = []; }
 * }
 * ```
 */
import type { ActorClass } from "../actor/index.js";
import { ConfigurationError } from "../errors.js";
import { type DevicePayload, mqttFilterToSubject } from "./devices.js";
import type { EventInfo } from "./event.js";
import { type CompiledFilter, compileFilter } from "./filter.js";
import { assertPattern } from "./topics.js";

// Node 20 has no Symbol.metadata: without it, compilers give decorators no `context.metadata`.
// Symbol.for matches the fallback esbuild (tsx) uses for the same well-known symbol.
(Symbol as { metadata?: symbol }).metadata ??= Symbol.for("Symbol.metadata");

export interface SubscribeOptions<E = unknown> {
  /**
   * Maps an event to the id of the actor that handles it (the handler runs as a turn of that
   * actor, on the host that owns it). Without it: a stateless worker type spreads events over
   * ids `<method>-<n>`, n < `capacity`; any other type handles every event with the one actor
   * whose id is the method's name.
   */
  key?: (event: E) => string;
  /**
   * Content filter, applied by the subscriber before the handler runs: a predicate, or a filter
   * expression (see filter.ts), e.g. `'amount > 100 && status == "paid"'`. Events it rejects are
   * acknowledged and skipped.
   */
  filter?: ((event: E) => boolean) | string;
  /**
   * Durable (default): a JetStream consumer, at-least-once with retries and dead letters.
   * `false`: a core NATS queue group, at-most-once, only while a host of the type is connected.
   */
  durable?: boolean;
  /** Where a NEW durable subscription starts: `"new"` (default) events, or `"all"` stored ones. */
  startAt?: "new" | "all";
  /**
   * One event in flight per subscription (over all hosts of the type): events are handled in
   * stream order, also across retries (a failing event holds the others back until it succeeds
   * or is dead-lettered). Default false.
   */
  ordered?: boolean;
  /** Attempts before an event is dead-lettered for this subscriber. Default: the subscribers' (5). */
  maxAttempts?: number;
  /** Deadline of one handler turn. Default: the type's, else the mesh's. */
  timeoutMs?: number;
  /** Events of this subscription one host handles at once. Default: the subscribers' (16). */
  capacity?: number;
  /**
   * Subscribe to MQTT devices instead of Troupe events: the pattern is an MQTT topic filter
   * (`devices/+/telemetry`) and the handler receives a `DeviceMessage` (topic, payload decoded as
   * `payload` says: `"json"` by default, `"text"` or `"bytes"`). See docs/patterns/mqtt-devices.md.
   */
  mqtt?: true | { payload?: DevicePayload };
}

/** A subscription as recorded on a class. */
export interface SubscriptionSpec {
  readonly method: string;
  readonly pattern: string;
  readonly key: ((event: unknown) => string) | undefined;
  readonly filter: ((event: unknown) => boolean) | undefined;
  /** The filter expression, when the filter is one (shown by `troupe subs ls`). */
  readonly filterSource: string | undefined;
  readonly durable: boolean;
  readonly startAt: "new" | "all";
  readonly ordered: boolean;
  readonly maxAttempts: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly capacity: number | undefined;
  /** Set for MQTT subscriptions: how device payloads are decoded. */
  readonly mqtt?: { readonly payload: DevicePayload } | undefined;
}

const KEY = Symbol("troupe.subscriptions");
const byFunction = new WeakMap<object, SubscriptionSpec>();

function positive(what: string, n: number | undefined): number | undefined {
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) {
    throw new ConfigurationError(`@subscribe ${what} must be a positive integer, got ${n}`);
  }
  return n;
}

/** Builds a spec (validating it); also used for subscriptions given by configuration. */
export function subscriptionSpec(
  method: string,
  pattern: string,
  options: SubscribeOptions<never> = {},
): SubscriptionSpec {
  const o = options as SubscribeOptions<unknown>;
  const mqtt = mqttOption(o.mqtt);
  if (mqtt) mqttFilterToSubject(pattern);
  else assertPattern(pattern);
  let filter: ((event: unknown) => boolean) | undefined;
  let filterSource: string | undefined;
  if (typeof o.filter === "string") {
    const compiled: CompiledFilter = compileFilter(o.filter);
    filter = compiled;
    filterSource = compiled.source;
  } else if (typeof o.filter === "function") {
    filter = o.filter;
  } else if (o.filter !== undefined) {
    throw new ConfigurationError("@subscribe filter must be a function or a filter expression");
  }
  if (o.key !== undefined && typeof o.key !== "function") {
    throw new ConfigurationError("@subscribe key must be a function of the event");
  }
  const startAt = o.startAt ?? "new";
  if (startAt !== "new" && startAt !== "all") {
    throw new ConfigurationError(`@subscribe startAt must be "new" or "all", got ${String(startAt)}`);
  }
  if (o.timeoutMs !== undefined && !(o.timeoutMs > 0)) {
    throw new ConfigurationError(`@subscribe timeoutMs must be positive, got ${o.timeoutMs}`);
  }
  return {
    method,
    pattern,
    key: o.key,
    filter,
    filterSource,
    durable: o.durable !== false,
    startAt,
    ordered: o.ordered === true,
    maxAttempts: positive("maxAttempts", o.maxAttempts),
    timeoutMs: o.timeoutMs,
    capacity: positive("capacity", o.capacity),
    ...(mqtt ? { mqtt } : {}),
  };
}

function mqttOption(o: SubscribeOptions["mqtt"]): { payload: DevicePayload } | undefined {
  if (o === undefined) return undefined;
  const payload = o === true ? "json" : (o?.payload ?? "json");
  if (payload !== "json" && payload !== "text" && payload !== "bytes") {
    throw new ConfigurationError(
      `@subscribe mqtt.payload must be "json", "text" or "bytes", got ${String(payload)}`,
    );
  }
  return { payload };
}

type Metadata = Record<PropertyKey, unknown>;

/**
 * Subscribes the decorated actor method to events whose topic matches `pattern` (`*` matches one
 * token, a final `>` one or more). One `@subscribe` per method.
 */
export function subscribe<E>(pattern: string, options: SubscribeOptions<E> = {}) {
  // Validated (and the filter compiled) once, where the class is defined.
  const checked = subscriptionSpec("", pattern, options as SubscribeOptions<never>);
  return <This, R>(
    value: (this: This, event: E, info: EventInfo) => R,
    context: ClassMethodDecoratorContext<This, (this: This, event: E, info: EventInfo) => R>,
  ): void => {
    if (context.kind !== "method" || context.static || context.private || typeof context.name !== "string") {
      throw new ConfigurationError("@subscribe decorates public instance methods of an actor class");
    }
    const method = context.name;
    if (method.startsWith("_")) {
      throw new ConfigurationError(`@subscribe: ${method} starts with "_" and so is not a handler`);
    }
    const spec: SubscriptionSpec = { ...checked, method };
    const meta = context.metadata as Metadata | undefined;
    if (meta) {
      if (!Object.hasOwn(meta, KEY)) {
        // Copy the base class's subscriptions: the metadata object inherits from the base's.
        meta[KEY] = [...((meta[KEY] as SubscriptionSpec[] | undefined) ?? [])];
      }
      const own = meta[KEY] as SubscriptionSpec[];
      if (own.some((s) => s.method === method)) {
        throw new ConfigurationError(
          `@subscribe: ${method} is subscribed twice; use one pattern with wildcards, or another method`,
        );
      }
      own.push(spec);
    }
    byFunction.set(value as object, spec);
  };
}

/** The subscriptions declared on `cls` and its base classes, one per method. */
export function subscriptionsOf(cls: ActorClass): SubscriptionSpec[] {
  const out = new Map<string, SubscriptionSpec>();
  const meta = (cls as unknown as Record<symbol, Metadata | undefined>)[
    (Symbol as unknown as { metadata: symbol }).metadata
  ];
  for (const s of (meta?.[KEY] as SubscriptionSpec[] | undefined) ?? []) out.set(s.method, s);
  // Fallback for code compiled without decorator metadata: find the decorated functions.
  for (let p = cls.prototype as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, name);
      const spec = d && typeof d.value === "function" ? byFunction.get(d.value) : undefined;
      if (spec && !out.has(spec.method)) out.set(spec.method, spec);
    }
  }
  return [...out.values()];
}
