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
import type { AnyActor } from "./actor/actor.js";
import { type ActorClass, type ActorRef, type CallOptions, createActorRef } from "./actor/actor-ref.js";
import { actorTypeOf } from "./actor/actor-type.js";
import {
  checkActorId,
  checkCallOptions,
  checkConnectOptions,
  checkTimeoutMs,
  checkTypeName,
} from "./client-options.js";
import {
  ActorUnavailableError,
  ConfigurationError,
  DeadlineExceededError,
  HostShuttingDownError,
  OfflineError,
  OverloadedError,
  TroupeError,
  UnknownActorTypeError,
} from "./errors.js";
import { Host, type HostOptions } from "./host/host.js";
import { type TypeRecord, TypeRegistry } from "./host/type-registry.js";
import { type OutboundContext, type OutboundInterceptor, runChain } from "./interceptors/index.js";
import {
  type EnqueueOptions,
  type EnqueueRef,
  enqueue as enqueueJob,
  prepareJobQueue,
} from "./jobs/enqueue.js";
import { type Job, jobHandle } from "./jobs/job.js";
import { startJobRunner } from "./jobs/runner.js";
import { consoleLogger, failureKind, type Logger, repeatsOf } from "./log.js";
import {
  assertCaller,
  CALLER_HEADER,
  type CallEnvelope,
  decodeCall,
  decodeReply,
  encodeCall,
  Subjects,
} from "./messaging/index.js";
import { Outbox, type OutboxOptions, resolveOutboxOptions } from "./outbox/index.js";
import { outboxLink } from "./outbox-link.js";
import { shardOf } from "./placement/shard.js";
import {
  type PublishOptions,
  type PublishReceipt,
  prepareEventsStream,
  publish as publishEvent,
} from "./pubsub/publish.js";
import { startSubscribers } from "./pubsub/subscribers.js";
import { startReminderRunner } from "./reminders/runner.js";
import { remind, unremind } from "./reminders/store.js";
import { resilienceOf } from "./resilience/breakers.js";
import { type CallRetryOptions, callWithRetry } from "./resilience/call-retry.js";
import { pacedCall } from "./resilience/index.js";
import {
  endHop,
  errorType,
  metricsEnabled,
  recordCall,
  recordTellDropped,
  startCallSpan,
  startTellSpan,
} from "./telemetry/index.js";
import type { NatsOptions } from "./transport/connection.js";
import { LateTransport } from "./transport/late-transport.js";
import { NatsTransport } from "./transport/nats-transport.js";
import type { RetainedMessage } from "./transport/one-way-ring.js";
import { withMeshDefaults } from "./transport/servers.js";
import type { RequestOutcome, Transport } from "./transport/transport.js";

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 15_000;
/**
 * Tells waiting to be sent again at most (each waits for a host within its deadline). Past it a
 * flood of tells to a type without a host is dropped with warnings instead of piling up timers and
 * resending each some twenty times.
 */
export const MAX_PENDING_TELL_RESENDS = 1024;

export interface ConnectOptions extends NatsOptions {
  /**
   * Subject and bucket prefix; meshes with different prefixes on one NATS do not see each other.
   * Default `TROUPE_PREFIX`, else the dev mesh's when connecting to the dev mesh of this folder
   * (`troupe dev --prefix`), else `troupe`.
   */
  prefix?: string;
  /** Deadline of calls that set none (per call, per type, then this). Default 10 s. */
  defaultTimeoutMs?: number;
  /** Replicas of the JetStream buckets and streams Troupe creates. Default 1; use 3 on a 3-node cluster. */
  replicas?: number;
  logger?: Logger;
  /**
   * Deliver calls and tells to actors hosted on this same connection in-process, skipping the
   * broker (same bytes, same checks, same turn). Default true; false sends everything through NATS.
   */
  localDelivery?: boolean;
  /**
   * A call whose host has sent neither its reply nor a keepalive for this long fails with
   * `HostUnresponsiveError` instead of waiting for its deadline: the host died, was paused or was
   * cut off. Hosts send keepalives every `keepaliveEveryMs` (host option, default 2 000 ms); this
   * must be well above it (a keepalive announcing a longer interval stretches it to 3 intervals).
   * Only calls with a longer timeout are affected. Default 15 000 ms.
   */
  keepaliveTimeoutMs?: number;
  /**
   * Who this client is: sent with every call, tell, enqueue and publish (unless a call names
   * another `caller`) and read by hosts as `ctx.caller` in their interceptors. Default: none (no
   * header is sent). 1-256 printable ASCII characters.
   */
  clientId?: string;
  /**
   * Outbound interceptors, outermost first, around every call, tell, enqueue and publish this
   * client makes (see docs/interceptors.md). Default none: the send path skips the chain.
   */
  interceptors?: OutboundInterceptor[];
  /**
   * A durable local outbox (docs/patterns/sparse-connectivity.md): every tell, enqueue and publish
   * is written to it before the call returns and forwarded in order while connected; `connect()`
   * returns even when NATS is unreachable; calls fail at once with `OfflineError` while offline.
   */
  outbox?: OutboxOptions;
  /**
   * Pace calls to an actor type once it has refused one with `ThrottledError`: a client-side
   * adaptive rate per type (docs/patterns/throttling.md) that backs off on throttles and recovers
   * while calls succeed, so a client over its limit sends little more than its limit. Default true;
   * false: calls are never paced (a ref may still opt in with `retry: { adaptive: true }`). A
   * process that calls on behalf of many clients (the HTTP gateway) turns it off.
   */
  adaptiveRate?: boolean;
}

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
  private readonly localDelivery: boolean;
  private readonly keepaliveTimeoutMs: number;
  private tellResends = 0;
  /** The caller identity sent when a call names none (`connect({ clientId })`). */
  readonly clientId: string | undefined;
  /** @internal The outbound interceptors, outermost first (empty: no chain runs). */
  readonly outbound: readonly OutboundInterceptor[];
  /** The durable outbox (`connect({ outbox })`): `status()`, events, dead letters. Undefined without one. */
  readonly outbox: Outbox | undefined;
  private readonly adaptiveRate: boolean;

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
    this.localDelivery = options.localDelivery ?? true;
    this.keepaliveTimeoutMs = options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
    this.clientId = assertCaller(options.clientId, "clientId");
    this.outbound = [...(options.interceptors ?? [])];
    this.adaptiveRate = options.adaptiveRate ?? true;
    for (const i of this.outbound) {
      if (typeof i !== "function") throw new ConfigurationError("every interceptor must be a function");
    }
    this.registry = new TypeRegistry(transport, this.subjects, this.replicas);
    // The answers to tells the outbox forwarded are its own (it keeps them until a host took them).
    const link = options.outbox
      ? outboxLink(
          transport,
          (type, queue) => prepareJobQueue(this, type, queue),
          (stream) => prepareEventsStream(this, stream),
        )
      : undefined;
    transport.onOneWayAnswer((sent, outcome, token) => {
      if (!link?.claim(token, outcome)) this.tellAnswered(sent, outcome);
    });
    this.outbox = options.outbox && link ? Outbox.open(options.outbox, link, this.logger) : undefined;
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
          ref: (type, id, opts) => this.ref(type, id, opts),
          enqueue: (type, id, opts) => this.enqueue(type, id, opts),
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
  enqueue<A extends AnyActor>(type: ActorClass<A>, id: string, options: EnqueueOptions = {}): EnqueueRef<A> {
    return enqueueJob(this, type, id, options);
  }

  /**
   * @internal Runs an outbound hop of `ctx.kind` "enqueue" or "publish" through the interceptors
   * (directly when there are none).
   */
  intercept(ctx: OutboundContext, send: () => Promise<unknown>): Promise<unknown> {
    return this.outbound.length === 0 ? send() : runChain(this.outbound, ctx, send);
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
  ref<A extends AnyActor>(type: ActorClass<A>, id: string, options: CallOptions = {}): ActorRef<A> {
    checkActorId(id);
    checkCallOptions(options);
    const { name, opts } = this.typeForCalls(type, options);
    return createActorRef<A>(this, name, id, opts);
  }

  /** The type's name, with its shard count noted for routing and its default timeout applied. */
  private typeForCalls(type: ActorClass, options: CallOptions): { name: string; opts: CallOptions } {
    const t = actorTypeOf(type);
    this.shardCounts.set(t.name, t.shards);
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
    if (!this.shardCounts.has(type)) {
      const rec = await this.registry.lookup(type);
      if (!rec)
        throw new UnknownActorTypeError(`no host serves actor type ${type}`, {
          details: { actorType: type },
        });
      this.shardCounts.set(type, rec.shards);
    }
    return this.call(type, id, method, args, options);
  }

  /** Actor types registered by some host. */
  listTypes(): Promise<TypeRecord[]> {
    return this.registry.list();
  }

  private readonly shardCounts = new Map<string, number>();

  /** Call subjects per type, by shard (built once: a call should not concatenate strings). */
  private readonly rpcSubjects = new Map<string, string[]>();

  private subjectFor(type: string, id: string): string {
    const shards = this.shardCounts.get(type);
    if (shards === undefined) throw new ConfigurationError(`unknown shard count for ${type}`);
    let byShard = this.rpcSubjects.get(type);
    if (byShard?.length !== shards) {
      byShard = Array.from({ length: shards }, (_, shard) => this.subjects.rpc(type, shard));
      this.rpcSubjects.set(type, byShard);
    }
    return byShard[shardOf(id, shards)] as string;
  }

  private timeoutFor(options: CallOptions): number {
    const wanted = options.timeoutMs === undefined ? this.defaultTimeoutMs : options.timeoutMs;
    checkTimeoutMs("timeoutMs", wanted);
    if (!options.turnDeadline) return wanted;
    // A call made with this.ref() during a turn never outlives the turn's own deadline.
    const left = options.turnDeadline() - performance.now();
    if (left <= 0) {
      throw new DeadlineExceededError("the deadline of the calling turn has passed", {
        details: { timeoutMs: wanted },
      });
    }
    return Math.min(wanted, left);
  }

  /**
   * @internal The request-reply path behind every `ActorRef` method. The first attempt is a plain
   * promise chain (no async frame, no retry state); only a shard without a serving host takes the
   * retry path.
   */
  call(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    options: CallOptions,
    /** The caller hands `args` over (see {@link callActor}): an in-process delivery need not copy them. */
    argsOwned = false,
  ): Promise<unknown> {
    if (this.outbox?.offline && !this.localHostFor(type, id)) return Promise.reject(offline(type, method));
    const adaptive = options.adaptive ?? this.adaptiveRate;
    if (options.retry) {
      try {
        checkCallOptions(options); // ref.with() may have added them
      } catch (err) {
        return Promise.reject(err);
      }
      const { retry, ...once } = options;
      const policy = retry.adaptive === undefined ? { ...retry, adaptive } : retry;
      return callWithRetry(
        resilienceOf(this),
        type,
        () => this.callOnce(type, id, method, args, once),
        policy,
      );
    }
    // Runners' deliveries (argsOwned) are the host's own work, never paced.
    if (!adaptive || argsOwned) return this.callOnce(type, id, method, args, options, argsOwned);
    return pacedCall(resilienceOf(this), type, () => this.callOnce(type, id, method, args, options, false));
  }

  /** One attempt of a call: the outbound interceptors, then {@link send}. */
  private callOnce(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    options: CallOptions,
    argsOwned = false,
  ): Promise<unknown> {
    let subject: string;
    let timeoutMs: number;
    let caller: string | undefined;
    try {
      subject = this.subjectFor(type, id);
      timeoutMs = this.timeoutFor(options);
      caller = options.caller === undefined ? this.clientId : assertCaller(options.caller, "caller");
    } catch (err) {
      return Promise.reject(err);
    }
    // Runners' deliveries (argsOwned) are the host's own work, not a client's call: no chain.
    if (this.outbound.length === 0 || argsOwned) {
      return this.send(type, id, method, args, subject, timeoutMs, caller, undefined, argsOwned);
    }
    const ctx: OutboundContext = {
      kind: "call",
      actorType: type,
      actorId: id,
      method,
      headers: {},
      deadline: performance.now() + timeoutMs,
      caller,
    };
    return runChain(this.outbound, ctx, () => {
      const left = ctx.deadline - performance.now();
      if (left <= 0) return Promise.reject(deadlinePassed(type, method, timeoutMs));
      return this.send(type, id, method, args, subject, left, caller, ctx.headers, false);
    });
  }

  /** One call, after the outbound interceptors: local or remote delivery, then the reply. */
  private send(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    subject: string,
    timeoutMs: number,
    caller: string | undefined,
    extraHeaders: Record<string, string> | undefined,
    argsOwned: boolean,
  ): Promise<unknown> {
    const hop = startCallSpan(type, method, id, subject);
    const deadline = performance.now() + timeoutMs;
    const headers = headersFor(hop?.headers, extraHeaders, caller);
    const started = metricsEnabled() ? performance.now() : -1;
    const local = this.localHostFor(type, id);
    let sent: Promise<RequestOutcome>;
    if (local && argsOwned) {
      sent = this.transport.requestLocally(timeoutMs, (replyTo) =>
        local.runLocally(type, id, subject, method, args, timeoutMs, replyTo, headers),
      );
    } else {
      const data = encodeCall({ actorId: id, method, timeoutMs, args });
      sent = local
        ? this.transport.requestLocally(timeoutMs, (replyTo) =>
            local.deliverLocally(type, id, subject, data, replyTo, headers),
          )
        : this.transport.request(subject, data, timeoutMs, headers, this.keepaliveTimeoutMs);
    }
    const result = sent.then((outcome) => {
      if (outcome.kind === "reply") {
        const reply = decodeReply(outcome.data);
        if (reply.ok) return reply.value;
        // A host that no longer holds the shard refused the call without running it: retry.
        if (!(reply.error instanceof HostShuttingDownError)) throw reply.error;
      } else if (outcome.kind === "settled") {
        if (outcome.ok) return outcome.value;
        if (!(outcome.value instanceof HostShuttingDownError)) throw outcome.value;
      }
      return this.retryUntilServed(type, id, method, args, subject, outcome, deadline, timeoutMs, headers);
    });
    if (!hop && started < 0) return result;
    return result.then(
      (value) => {
        endHop(hop);
        if (started >= 0) recordCall(type, method, performance.now() - started);
        return value;
      },
      (err: unknown) => {
        endHop(hop, err);
        if (started >= 0) recordCall(type, method, performance.now() - started, errorType(err));
        throw err;
      },
    );
  }

  /**
   * A host of this very mesh connection that serves the actor right now: calls to it skip the
   * broker (the same encoded bytes are delivered in-process, so behaviour is identical).
   */
  private localHostFor(type: string, id: string): Host | undefined {
    if (this.hosts.size === 0 || !this.localDelivery) return undefined;
    for (const host of this.hosts) if (host.servesLocally(type, id)) return host;
    return undefined;
  }

  /** Retries a call whose shard had no serving host (hand-off, host loss) until its deadline. */
  private async retryUntilServed(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    subject: string,
    first: RequestOutcome,
    deadline: number,
    timeoutMs: number,
    headers: Record<string, string> | undefined,
  ): Promise<unknown> {
    let outcome = first;
    let remaining: number;
    for (let attempt = 0; ; attempt++) {
      // Nobody serves the shard: an unknown type fails now; a known one is between owners, so retry.
      if (outcome.kind === "no-responders") await this.assertTypeKnown(type);
      remaining = deadline - performance.now();
      const pause = Math.min(remaining, backoffMs(attempt));
      if (remaining <= 0 || pause >= remaining) {
        throw new ActorUnavailableError(`no host served ${type}/${id} within ${timeoutMs} ms`, {
          details: { actorType: type, actorId: id, method, timeoutMs },
        });
      }
      await new Promise((r) => setTimeout(r, pause));
      remaining = deadline - performance.now();
      if (remaining <= 0) throw deadlinePassed(type, method, timeoutMs);
      const data = encodeCall({ actorId: id, method, timeoutMs: remaining, args });
      outcome = await this.transport.request(subject, data, remaining, headers, this.keepaliveTimeoutMs);
      if (outcome.kind === "reply") {
        const reply = decodeReply(outcome.data);
        if (reply.ok) return reply.value;
        if (!(reply.error instanceof HostShuttingDownError)) throw reply.error;
      }
    }
  }

  private async assertTypeKnown(type: string): Promise<void> {
    let rec: TypeRecord | null;
    try {
      rec = await this.registry.lookup(type);
    } catch (err) {
      throw new ActorUnavailableError(`no host serves ${type} and the type registry is unreachable`, {
        cause: err,
        details: { actorType: type },
      });
    }
    if (!rec)
      throw new UnknownActorTypeError(`no host serves actor type ${type}`, { details: { actorType: type } });
  }

  /**
   * @internal Fire-and-forget: publishes the call; failures of its turn are logged on the host. A
   * tell that no host serves right now (a shard between owners) is sent again within its deadline,
   * like a call; one that still finds no host is dropped with a warning, never silently.
   */
  tell(type: string, id: string, method: string, args: unknown[], options: CallOptions): void {
    const timeoutMs = this.timeoutFor(options);
    const subject = this.subjectFor(type, id);
    const caller = options.caller === undefined ? this.clientId : assertCaller(options.caller, "caller");
    if (this.outbound.length === 0) {
      this.tellOnce(type, id, method, args, subject, timeoutMs, caller, undefined);
      return;
    }
    const ctx: OutboundContext = {
      kind: "tell",
      actorType: type,
      actorId: id,
      method,
      headers: {},
      deadline: performance.now() + timeoutMs,
      caller,
    };
    // A tell has nobody to reject: what an interceptor refuses is logged, never silently lost.
    runChain(this.outbound, ctx, () => {
      const left = ctx.deadline - performance.now();
      if (left <= 0) return Promise.reject(deadlinePassed(type, method, timeoutMs));
      this.tellOnce(type, id, method, args, subject, left, caller, ctx.headers);
      return Promise.resolve(undefined);
    }).catch((err: unknown) => {
      recordTellDropped(type, errorType(err));
      this.logger.warn("tell not sent", { actorType: type, actorId: id, method, err });
    });
  }

  private tellOnce(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    subject: string,
    timeoutMs: number,
    caller: string | undefined,
    extraHeaders: Record<string, string> | undefined,
  ): void {
    const hop = startTellSpan(type, method, id, subject);
    try {
      const data = encodeCall({ actorId: id, method, timeoutMs, args, oneWay: true });
      this.sendTell(type, id, subject, data, headersFor(hop?.headers, extraHeaders, caller));
      endHop(hop);
    } catch (err) {
      endHop(hop, err);
      throw err;
    }
  }

  private sendTell(
    type: string,
    id: string,
    subject: string,
    data: Uint8Array,
    headers: Record<string, string> | undefined,
    attempt = 0,
  ): void {
    const local = this.localHostFor(type, id);
    if (local) local.deliverLocally(type, id, subject, data, undefined, headers);
    // A first send goes through the outbox when there is one; its resends (no host yet) do not.
    else if (this.outbox && attempt === 0)
      this.outbox.appendNow({ kind: "tell", subject, data, headers, lane: `tell:${type}:${id}` });
    else this.transport.publishOneWay(subject, data, headers, attempt);
  }

  /** The broker found no host for a tell, or the host that got it no longer serves its shard. */
  private tellAnswered(sent: RetainedMessage | undefined, outcome: RequestOutcome): void {
    if (outcome.kind === "reply") {
      const reply = decodeReply(outcome.data);
      if (reply.ok) return; // hosts do not answer tells; had one, nothing was lost
      if (!(reply.error instanceof HostShuttingDownError)) {
        this.tellDropped(sent, reply.error);
        return;
      }
    }
    if (!sent?.data) {
      this.tellDropped(
        sent,
        new ActorUnavailableError("no host served it, and it was not retained for a resend"),
      );
      return;
    }
    if (this.tellResends >= MAX_PENDING_TELL_RESENDS) {
      this.tellDropped(
        sent,
        new OverloadedError(`no host served it, and ${MAX_PENDING_TELL_RESENDS} tells already wait for one`),
      );
      return;
    }
    this.tellResends++;
    void this.resendTell(sent, sent.data)
      .catch((err: unknown) => this.tellDropped(sent, err))
      .finally(() => this.tellResends--);
  }

  /** @internal Tells waiting to be sent again (at most {@link MAX_PENDING_TELL_RESENDS}). */
  get pendingTellResends(): number {
    return this.tellResends;
  }

  private async resendTell(sent: RetainedMessage, data: Uint8Array): Promise<void> {
    const call: CallEnvelope = decodeCall(data);
    const type = this.subjects.rpcType(sent.subject);
    if (!type) throw new ActorUnavailableError(`not a call subject: ${sent.subject}`);
    await this.assertTypeKnown(type);
    const elapsed = performance.now() - sent.sentAt;
    // The same backoff as a call's retries: 20, 40, 80... capped at 500 ms, with jitter.
    const pause = backoffMs(sent.attempt);
    const remaining = call.timeoutMs - elapsed - pause;
    if (remaining <= 0) {
      throw new ActorUnavailableError(`no host served ${type}/${call.actorId} within its deadline`, {
        details: { actorType: type, actorId: call.actorId, method: call.method },
      });
    }
    await new Promise((r) => setTimeout(r, pause));
    if (this.closed || this.transport.isClosed) return;
    const again = encodeCall({ ...call, timeoutMs: remaining, oneWay: true });
    this.sendTell(type, call.actorId, sent.subject, again, sent.headers, sent.attempt + 1);
  }

  private tellDropped(sent: RetainedMessage | undefined, err: unknown): void {
    const type = sent ? this.subjects.rpcType(sent.subject) : undefined;
    recordTellDropped(type, errorType(err));
    // A flood of dropped tells writes one line per interval, with the count (see RepeatLimiter).
    repeatsOf(this.logger).warn(`tell dropped:${type}:${failureKind(err)}`, "tell dropped", {
      subject: sent?.subject,
      err,
    });
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

/**
 * The headers of an outbound message: the trace context, what interceptors added, the caller.
 * Undefined (no header block on the wire) when there is none of them: the common, cheapest case.
 */
function headersFor(
  trace: Record<string, string> | undefined,
  added: Record<string, string> | undefined,
  caller: string | undefined,
): Record<string, string> | undefined {
  if (added === undefined && caller === undefined) return trace;
  const out: Record<string, string> = { ...trace, ...added };
  if (caller !== undefined) out[CALLER_HEADER] = caller;
  for (const _ in out) return out;
  return undefined;
}

function offline(type: string, method: string): OfflineError {
  return new OfflineError(`not connected to NATS: ${type}.${method} needs a reply and was not sent`, {
    details: { actorType: type, method },
  });
}

function deadlinePassed(type: string, method: string, timeoutMs: number): DeadlineExceededError {
  return new DeadlineExceededError(`deadline of ${timeoutMs} ms passed calling ${type}.${method}`, {
    details: { actorType: type, method, timeoutMs },
  });
}

/** Backoff between "no responders" retries while a shard changes owner: 20, 40, 80... capped at 500 ms, with jitter. */
function backoffMs(attempt: number): number {
  const base = Math.min(500, 20 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

/** Options of {@link resilientRef}: call options with a retry policy. */
export interface ResilientRefOptions extends CallOptions {
  retry?: CallRetryOptions;
}

/**
 * @deprecated The same as `mesh.ref(type, id, { retry, ... })`, the one spelling of a retrying
 * reference; kept so existing code keeps working.
 */
export function resilientRef<A extends AnyActor>(
  mesh: Mesh,
  type: ActorClass<A>,
  id: string,
  options: ResilientRefOptions = {},
): ActorRef<A> {
  return mesh.ref(type, id, options);
}

/**
 * Connects to NATS and returns the mesh.
 *
 * @example
 * ```ts
 * const mesh = await connect({ servers: "nats://127.0.0.1:4222", name: "worker-1" });
 * ```
 */
export async function connect(given: ConnectOptions = {}): Promise<Mesh> {
  checkConnectOptions(given);
  // No prefix given: TROUPE_PREFIX, else that of the dev mesh it connects to (transport/servers.ts).
  const options = withMeshDefaults(given);
  const logger = options.logger ?? consoleLogger();
  if (options.outbox) resolveOutboxOptions(options.outbox); // bad options fail before any connecting
  // With an outbox, sends need no server: connect() returns even when NATS cannot be reached yet.
  const transport = options.outbox
    ? await LateTransport.start(options, logger)
    : await NatsTransport.connect(options, logger);
  try {
    return new Mesh(transport, { ...options, logger });
  } catch (err) {
    await transport.close();
    throw err;
  }
}

export function isTroupeError(err: unknown): err is TroupeError {
  return err instanceof TroupeError;
}
