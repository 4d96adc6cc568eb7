/**
 * The mesh connection: the entry point of the public API.
 *
 * @example
 * ```ts
 * import { connect } from "troupe";
 * const mesh = await connect({ servers: process.env.NATS_URL, name: "shop-1" });
 * const host = await mesh.host([Cart]);          // this process now hosts Cart actors
 * const cart = mesh.ref(Cart, "cart-42");
 * await cart.add({ sku: "tea", qty: 1 });
 * await host.drain();
 * await mesh.close();
 * ```
 */

import type { ActorShape } from "./actor/index.js";
import {
  type ActorClass,
  type ActorRef,
  actorTypeOf,
  type CallOptions,
  createActorRef,
} from "./actor/index.js";
import { Caller, MAX_PENDING_TELL_RESENDS, Routes, Tells } from "./caller/index.js";
import { checkActorId, checkCallOptions, checkConnectOptions, checkTypeName } from "./client-options.js";
import {
  type ConnectOptions,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
} from "./connect-options.js";
import { readDomainOf, settledDomainOf } from "./durable/index.js";
import { ConfigurationError, TroupeError, UnknownActorTypeError } from "./errors.js";
import { Host, type HostOptions, type TypeRecord, TypeRegistry } from "./host/index.js";
import {
  chainIdle,
  type OutboundContext,
  type OutboundInterceptor,
  runChain,
  withBuiltins,
} from "./interceptors/index.js";
import {
  type EnqueueOptions,
  type EnqueueRef,
  enqueue as enqueueJob,
  type Job,
  jobHandle,
  prepareJobQueue,
  startJobRunner,
} from "./jobs/index.js";
import { consoleLogger, type Logger } from "./log.js";
import { assertCaller, Subjects } from "./messaging/index.js";
import { Outbox } from "./outbox/index.js";
import { outboxLink } from "./outbox-link.js";
import {
  type PublishOptions,
  type PublishReceipt,
  prepareEventsStream,
  publish as publishEvent,
  startSubscribers,
} from "./pubsub/index.js";
import { remind, startReminderRunner, unremind } from "./reminders/index.js";
import { resilienceOf } from "./resilience/index.js";
import { callMetrics, outboundTracing } from "./telemetry/index.js";
import type { Transport } from "./transport/index.js";

export {
  type ConnectOptions,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  MAX_PENDING_TELL_RESENDS,
};

export class Mesh {
  readonly subjects: Subjects;
  readonly logger: Logger;
  /** @internal */
  readonly registry: TypeRegistry;
  private readonly hosts = new Set<Host>();
  /** @internal Deadline of calls that set none. */
  readonly defaultTimeoutMs: number;
  /** Replicas of the buckets and streams this mesh creates. */
  readonly replicas: number;
  private closed = false;
  private readonly routes: Routes;
  private readonly caller: Caller;
  private readonly tells: Tells;
  /** The caller identity sent when a call names none (`connect({ clientId })`). */
  readonly clientId: string | undefined;
  /**
   * @internal The outbound chain, outermost first: the built-ins (tracing, metrics; idle without
   * an SDK), then the application's. Skipped while every link is idle.
   */
  readonly outbound: readonly OutboundInterceptor[];
  /** The durable outbox (`connect({ outbox })`): `status()`, events, dead letters. Undefined without one. */
  readonly outbox: Outbox | undefined;

  /** @internal Use {@link connect}. */
  constructor(
    /** @internal The broker connection (services of this repo reach it through `troupe/internal`). */
    readonly transport: Transport,
    options: ConnectOptions = {},
  ) {
    checkConnectOptions(options);
    this.subjects = new Subjects(options.prefix);
    this.logger = options.logger ?? consoleLogger();
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.replicas = options.replicas ?? 1;
    const localDelivery = options.localDelivery ?? true;
    this.clientId = assertCaller(options.clientId, "clientId");
    const listed = [...(options.interceptors ?? [])];
    for (const i of listed) {
      if (typeof i !== "function") throw new ConfigurationError("every interceptor must be a function");
    }
    this.outbound = withBuiltins(
      [outboundTracing, callMetrics],
      listed,
      options.builtinInterceptors !== false,
    );
    this.registry = new TypeRegistry(transport, this.subjects, this.replicas);
    // The answers to tells the outbox forwarded are its own (it keeps them until a host took them).
    const link = options.outbox
      ? outboxLink(
          transport,
          (type, queue) => prepareJobQueue(this, type, queue),
          (stream) => prepareEventsStream(this, stream),
          { get: () => readDomainOf(this), now: () => settledDomainOf(this) },
        )
      : undefined;
    this.outbox = options.outbox && link ? Outbox.open(options.outbox, link, this.logger) : undefined;
    this.routes = new Routes(this.subjects, this.registry, this.defaultTimeoutMs, this.hosts, localDelivery);
    this.caller = new Caller({
      transport,
      routes: this.routes,
      keepaliveTimeoutMs: options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
      clientId: this.clientId,
      outbound: this.outbound,
      outbox: this.outbox,
      adaptiveRate: options.adaptiveRate ?? true,
      resilience: () => resilienceOf(this),
    });
    this.tells = new Tells({
      transport,
      subjects: this.subjects,
      routes: this.routes,
      logger: this.logger,
      clientId: this.clientId,
      outbound: this.outbound,
      outbox: this.outbox,
      outboxClaims: link ? (token, outcome) => link.claim(token, outcome) : undefined,
      adaptiveRate: options.adaptiveRate ?? true,
      resilience: () => resilienceOf(this),
      isClosed: () => this.closed,
    });
  }

  /**
   * Starts hosting `types` in this process: their calls, and (unless `options.jobs` is false) a job
   * runner pulling their durable jobs up to its capacity, a reminder runner firing their durable
   * reminders (unless `options.reminders` is false), and their event subscriptions.
   */
  async host(types: ActorClass[], options: HostOptions = {}): Promise<Host> {
    const host = await Host.start(
      {
        transport: this.transport,
        subjects: this.subjects,
        registry: this.registry,
        logger: this.logger,
        contextServices: {
          ref: (type, id, opts) => this.ref(type, id, opts) as never,
          enqueue: (type, id, opts) => this.enqueue(type, id, opts) as never,
          publish: (topic, event, opts) => this.publish(topic, event, opts),
          remind: (type, id, name, schedule) => remind(this, type, id, name, schedule),
          unremind: (type, id, name) => unremind(this, type, id, name),
        },
        replicas: this.replicas,
      },
      types,
      options,
    );
    this.hosts.add(host);
    if (options.jobs !== false) {
      try {
        const runner = await startJobRunner(
          this,
          types,
          { hostName: host.name, ...(options.jobs ?? {}) },
          host.inbound,
        );
        // The runner stops pulling and finishes its jobs while the host can still run their turns.
        host.beforeDrain(() => runner.stop());
      } catch (err) {
        await host.drain();
        this.hosts.delete(host);
        throw err;
      }
    }
    if (options.reminders !== false) {
      try {
        const reminders = await startReminderRunner(this, types, options.reminders ?? {}, host.inbound);
        host.beforeDrain(() => reminders.stop());
      } catch (err) {
        await host.drain();
        this.hosts.delete(host);
        throw err;
      }
    }
    if (options.subscriptions !== false) {
      try {
        const subs = await startSubscribers(
          this,
          types,
          { hostName: host.name, ...(options.subscriptions ?? {}) },
          host.inbound,
        );
        host.beforeDrain(() => subs.stop());
      } catch (err) {
        await host.drain();
        this.hosts.delete(host);
        throw err;
      }
    }
    return host;
  }

  /**
   * Publishes an event on `topic`: durable by default (stored in the events stream, deduplicated by
   * `msgId`, at-least-once to every subscribing actor type), or `durable: false` (core NATS,
   * at-most-once).
   */
  publish(topic: string, event: unknown, options: PublishOptions = {}): Promise<PublishReceipt> {
    return publishEvent(this, topic, event, options);
  }

  /**
   * Durable, at-least-once calls: `await mesh.enqueue(Cart, id).add(item)` resolves with a {@link Job}
   * once the job is stored in JetStream; `job.result()` waits for its outcome.
   */
  enqueue<A extends ActorShape>(
    type: ActorClass<A>,
    id: string,
    options: EnqueueOptions = {},
  ): EnqueueRef<A> {
    return enqueueJob(this, type, id, options);
  }

  /**
   * @internal Runs an outbound hop of `ctx.kind` "enqueue" or "publish" through the interceptors
   * (directly when there are none).
   */
  intercept(ctx: OutboundContext, send: () => Promise<unknown>): Promise<unknown> {
    return chainIdle(this.outbound) ? send() : runChain(this.outbound, ctx, send);
  }

  /** @internal The caller identity a hop carries: its own `caller` option, else the client's. */
  callerFor(caller: string | undefined): string | undefined {
    return caller === undefined ? this.clientId : assertCaller(caller, "caller");
  }

  /** A handle on a job by id (e.g. after a restart), to fetch its result. */
  job<T = unknown>(jobId: string): Job<T> {
    return jobHandle<T>(this, jobId);
  }

  /** A typed reference to the actor `id` of `type`. Cheap: nothing is sent until a method is called. */
  ref<A extends ActorShape>(type: ActorClass<A>, id: string, options: CallOptions = {}): ActorRef<A> {
    checkActorId(id);
    checkCallOptions(options);
    const { name, opts } = this.typeForCalls(type, options);
    return createActorRef<A>(this, name, id, opts);
  }

  /** The type's name, with its shard count noted for routing and its default timeout applied. */
  private typeForCalls(type: ActorClass, options: CallOptions): { name: string; opts: CallOptions } {
    const t = actorTypeOf(type);
    this.routes.noteShards(t.name, t.shards);
    const opts =
      options.timeoutMs === undefined && t.defaultTimeoutMs ? { timeoutMs: t.defaultTimeoutMs } : options;
    return { name: t.name, opts };
  }

  /**
   * @internal What a ref's method does, without building a ref, for job runners, subscribers and
   * reminder runners: they call one actor per message, with arguments they just decoded and do not
   * keep. So when a host of this connection holds the actor, the arguments are handed over as they
   * are (no encoding either way).
   */
  callActor(
    type: ActorClass,
    id: string,
    method: string,
    args: unknown[],
    options: CallOptions,
  ): Promise<unknown> {
    const { name, opts } = this.typeForCalls(type, options);
    return this.call(name, id, method, args, opts, true);
  }

  /**
   * Calls an actor by type name, without its class (CLI, gateway). The shard count comes from the
   * type registry.
   */
  async callByName(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    options: CallOptions = {},
  ): Promise<unknown> {
    checkTypeName(type);
    checkActorId(id);
    checkCallOptions(options);
    if (!this.routes.knowsShards(type)) {
      const rec = await this.registry.lookup(type);
      if (!rec)
        throw new UnknownActorTypeError(`no host serves actor type ${type}`, {
          details: { actorType: type },
        });
      this.routes.noteShards(type, rec.shards);
    }
    return this.call(type, id, method, args, options);
  }

  /** Actor types registered by some host. */
  listTypes(): Promise<TypeRecord[]> {
    return this.registry.list();
  }

  /**
   * @internal The request-reply path behind every `ActorRef` method (runtime/caller/).
   * `argsOwned`: the caller hands `args` over (see {@link callActor}).
   */
  call(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    options: CallOptions,
    argsOwned = false,
  ): Promise<unknown> {
    return this.caller.call(type, id, method, args, options, argsOwned);
  }

  /**
   * @internal Fire-and-forget: publishes the call; failures of its turn are logged on the host. A
   * tell that no host serves right now (a shard between owners) is sent again within its deadline,
   * like a call; one that still finds no host is dropped with a warning, never silently.
   */
  tell(type: string, id: string, method: string, args: unknown[], options: CallOptions): void {
    this.tells.tell(type, id, method, args, options);
  }

  /** @internal Tells waiting to be sent again (at most {@link MAX_PENDING_TELL_RESENDS}). */
  get pendingTellResends(): number {
    return this.tells.pendingResends;
  }

  /** Drains every host started by this mesh, then closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.hosts].map((h) => h.drain()));
    await this.outbox?.close();
    await this.transport.close();
  }
}

export function isTroupeError(err: unknown): err is TroupeError {
  return err instanceof TroupeError;
}
