/**
 * A host: this process serving actor types. It announces itself in the membership bucket, and for
 * each type:
 * - stateful (and plain) types: owns the shards placement assigns to it (a fence per shard, written
 *   when ownership changes, under this host's one lease) and subscribes to a shard's subject only
 *   while it owns it (see placement/shard-ownership.ts);
 * - stateless worker types: subscribes to every shard subject in the type's queue group, so calls
 *   are load-balanced over every host of the type, with no leases.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { Turn, TurnOutcome } from "../actor/activation.js";
import type { ContextServices } from "../actor/actor-context.js";
import type { ActorClass } from "../actor/actor-ref.js";
import { type ActorType, actorTypeOf } from "../actor/actor-type.js";
import { type ActivationInfo, Catalog, type CatalogStats } from "../actor/catalog.js";
import { KvStateStore } from "../actor/state-store.js";
import {
  ActorMethodError,
  ConfigurationError,
  fromWireError,
  HostShuttingDownError,
  MalformedMessageError,
  PayloadTooLargeError,
  TroupeError,
  toWireError,
  UnknownMethodError,
} from "../errors.js";
import { type InboundInterceptor, type InboundKind, interceptTurn } from "../interceptors/index.js";
import type { JobRunnerOptions } from "../jobs/runner.js";
import { failureKind, type Logger, repeatsOf } from "../log.js";
import type { Subjects } from "../messaging/index.js";
import {
  type CallEnvelope,
  type DecodeLimits,
  decodeCall,
  encode,
  encodeError,
  encodeResult,
} from "../messaging/index.js";
import type { ChangeStream } from "../placement/change-stream.js";
import { FenceStore, provedGone } from "../placement/index.js";
import { type HostRecord, Membership, type MembershipChange } from "../placement/membership.js";
import { type PlacementOptions, resolvePlacementOptions } from "../placement/options.js";
import { retryStartup } from "../placement/retry.js";
import { shardOf } from "../placement/shard.js";
import { type HeldShard, ShardOwnership } from "../placement/shard-ownership.js";
import type { SubscribersOptions } from "../pubsub/subscribers.js";
import type { ReminderRunnerOptions } from "../reminders/runner.js";
import {
  ATTR_TROUPE_ACTOR_TYPE,
  endHopWith,
  type Hop,
  METRIC_ACTIVATIONS,
  METRIC_MAILBOX_DEPTH,
  observeGauge,
  startTurnSpan,
} from "../telemetry/index.js";
import {
  type ControlPlaneClientOptions,
  HostChannelClient,
  type HostChannelClientOptions,
  LocalEnforcer,
  observeThrottleDecisions,
  type ThrottleKeyFunction,
  throttlingInterceptor,
} from "../throttling/index.js";
import { assertWellFormedHeaders } from "../transport/headers.js";
import type { KeyValueBucket } from "../transport/index.js";
import type {
  InboundMessage,
  MessageHeaders,
  SubscriptionHandle,
  Transport,
} from "../transport/transport.js";
import { type AwaitedCall, CallKeepalives, DEFAULT_KEEPALIVE_EVERY_MS } from "./call-keepalives.js";
import type { TypeRegistry } from "./type-registry.js";

export interface HostOptions {
  /** Largest accepted call payload in bytes; larger ones are refused before decoding. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Replicas of the state buckets (use 3 on a 3-node cluster). Default: the mesh's `replicas`. */
  stateReplicas?: number;
  /** Name shown by `troupe ls` and in leases. Default `<hostname>-<pid>`. */
  name?: string;
  /** Lease, heartbeat and hand-off timings (docs/placement.md). */
  placement?: PlacementOptions;
  /**
   * How often the host tells the caller of each call it is still working on (queued or running)
   * that it is alive, so callers can tell a long call from a dead host (`keepaliveTimeoutMs` of
   * `connect()`, which must be well above this). Default 2 000 ms.
   */
  keepaliveEveryMs?: number;
  /**
   * The durable-job runner of this host's types: its options (capacity per type, attempts, backoff),
   * or `false` for a host that runs no jobs. Default: on, with the defaults of `JobRunnerOptions`.
   */
  jobs?: JobRunnerOptions | false;
  /**
   * The `@subscribe` consumers of this host's types: their options, or `false` for a host that
   * takes no events. Default: on.
   */
  subscriptions?: SubscribersOptions | false;
  /**
   * The durable-reminder runner of this host's types (fires `receiveReminder` turns): its options,
   * or `false` for a host that fires no reminders. Default: on.
   */
  reminders?: ReminderRunnerOptions | false;
  /**
   * Inbound interceptors, outermost first, around every turn this host runs: calls, tells, jobs,
   * events and reminders (see docs/interceptors.md). Default none: turns skip the chain.
   */
  interceptors?: InboundInterceptor[];
  /**
   * Cluster-wide throttling (docs/patterns/throttling.md): the host registers with the control plane
   * at `controlPlane` (`host:port`) under its id, receives its shares of every policy's limits and
   * refuses turns over them with `ThrottledError`, as the outermost inbound interceptor (before any
   * of `interceptors`). Default none: no enforcer, no interceptor, no control-plane connection.
   */
  throttling?: HostThrottlingOptions;
  /**
   * The host group this process belongs to: the deployable unit the control plane's scaling
   * decisions are made for (docs/patterns/competing-consumers.md). Reported over the host channel
   * (so only with `throttling.controlPlane`). Default: the sorted type names joined by "-".
   */
  group?: string;
}

/** Where the host's enforcer gets its shares. Credentials as in `ControlPlaneClientOptions`. */
export interface HostThrottlingOptions
  extends Omit<ControlPlaneClientOptions, "address">,
    Pick<HostChannelClientOptions, "reconnectInitialMs" | "reconnectMaxMs"> {
  /** `host:port` of the control plane. */
  controlPlane: string;
  /** Header naming the tenant of a turn. Default `x-tenant`. */
  tenantHeader?: string;
  /**
   * Key functions by name, for policies with `key_by: KEY_BY_FUNCTION` and `key_function: <name>`
   * (docs/patterns/throttling.md): synchronous, e.g. `{ tier: (t) => t.headers?.get("x-tier") }`.
   */
  keyFunctions?: Readonly<Record<string, ThrottleKeyFunction>>;
}

export type HostStatus = "starting" | "serving" | "draining" | "stopped";

interface ServedType {
  readonly type: ActorType;
  readonly catalog: Catalog;
  /** Stateless types: one subscription per shard. */
  readonly subscriptions: SubscriptionHandle[];
  /** Placed types: the shards this host holds. */
  readonly ownership: ShardOwnership | undefined;
  /** The core NATS queue group of the type's shard subjects. */
  readonly queue: string;
}

export interface HostDeps {
  readonly transport: Transport;
  readonly subjects: Subjects;
  readonly registry: TypeRegistry;
  readonly logger: Logger;
  readonly contextServices: ContextServices;
  readonly replicas: number;
}

/** One activation as `troupe ls actors` shows it. */
export interface HostedActor extends ActivationInfo {
  readonly type: string;
  readonly shard: number;
}

/** Refusal of a call whose shard this host does not (or no longer) hold: never executed, so retried. */
function notServedHere(type: string, shard: number): HostShuttingDownError {
  return new HostShuttingDownError(`shard ${shard} of ${type} is not served by this host; not executed`, {
    details: { actorType: type, shard, reason: "shard-moved" },
  });
}

function unknownMethod(type: string, method: string): UnknownMethodError {
  return new UnknownMethodError(`${type} has no handler "${method}"`, {
    details: { actorType: type, method },
  });
}

/**
 * A call or tell for a turn of this host: one object per message, whose `settle` ends the turn's
 * span and replies (or, for a tell, logs a failure). A reply goes out as bytes, or, for a call a
 * runner of this process made with arguments it handed over (`local`), as the value itself. A call
 * answered with bytes gets keepalives until it is settled (see call-keepalives.ts).
 */
class InboundTurn implements Turn, AwaitedCall {
  prevAwaited: AwaitedCall | undefined = undefined;
  nextAwaited: AwaitedCall | undefined = undefined;
  spokeAt = -1;

  constructor(
    private readonly host: Host,
    private readonly type: ActorType,
    private readonly actorId: string,
    readonly method: string,
    readonly args: unknown[],
    readonly deadline: number,
    readonly trace: Hop | undefined,
    /** Where the reply goes; undefined for a tell. */
    readonly replyTo: string | undefined,
    /** The reply is settled in-process (`Transport.settleLocally`), not encoded. */
    private readonly local = false,
    /** A tell's message: its status subject gets a refusal, so its sender sends it again. */
    private readonly tell: InboundMessage | undefined = undefined,
  ) {}

  settle(outcome: TurnOutcome): void {
    endHopWith(this.trace, outcome);
    const reply = this.replyTo;
    // A tell has no reply subject (nats.js gives an empty string, local delivery undefined).
    if (!reply) this.host.tellEnded(outcome, this.type, this.actorId, this.method, this.tell);
    else if (this.local) this.host.settleLocally(reply, outcome, this.type, this.actorId, this.method);
    else {
      this.host.keepalives.remove(this);
      this.host.sendReply(reply, outcome, this.type, this.actorId, this.method);
    }
  }
}

export class Host {
  status: HostStatus = "starting";
  /** This host's id in membership and leases (unique per process). */
  readonly id: string;
  readonly name: string;
  /** The host group (scaling unit) this host reports. */
  group = "";
  private readonly served = new Map<string, ServedType>();
  private readonly limits: Partial<DecodeLimits>;
  private readonly placement;
  private membership: Membership | undefined;
  private fences: FenceStore | undefined;
  private hostsBucket: KeyValueBucket | undefined;
  private adminSub: SubscriptionHandle | undefined;
  private drained: Promise<void> = Promise.resolve();
  private readonly drainHooks: (() => Promise<void>)[] = [];
  /** Unregisters this host's metric gauges (no-ops without a MeterProvider). */
  private readonly unobserve: (() => void)[] = [];
  /** @internal The calls this host owes a reply, and their keepalives. */
  readonly keepalives: CallKeepalives;
  /** @internal The inbound interceptors, outermost first (empty: no chain runs). */
  readonly inbound: readonly InboundInterceptor[];
  /** The throttling enforcer, when `options.throttling` is set. */
  readonly enforcer: LocalEnforcer | undefined;
  private throttleChannel: HostChannelClient | undefined;

  private constructor(
    private readonly deps: HostDeps,
    private readonly options: HostOptions,
  ) {
    this.limits = { maxBytes: options.maxPayloadBytes ?? 1024 * 1024 };
    this.placement = resolvePlacementOptions(options.placement);
    this.name = options.name ?? `${os.hostname()}-${process.pid}`;
    this.id = `h${randomBytes(6).toString("hex")}`;
    const interceptors = [...(options.interceptors ?? [])];
    for (const i of interceptors) {
      if (typeof i !== "function") throw new ConfigurationError("every interceptor must be a function");
    }
    const throttling = options.throttling;
    if (throttling) {
      if (typeof throttling.controlPlane !== "string" || !throttling.controlPlane.includes(":")) {
        throw new ConfigurationError(
          `throttling.controlPlane must be "host:port", got ${String(throttling.controlPlane)}`,
        );
      }
      this.enforcer = new LocalEnforcer(deps.logger, undefined, throttling.keyFunctions);
      // Outermost: a refused turn costs no other interceptor any work, and is refused the same way
      // whatever the application's interceptors do.
      interceptors.unshift(throttlingInterceptor(this.enforcer, { tenantHeader: throttling.tenantHeader }));
    } else {
      this.enforcer = undefined;
    }
    this.inbound = interceptors;
    const keepaliveEveryMs = options.keepaliveEveryMs ?? DEFAULT_KEEPALIVE_EVERY_MS;
    if (!(keepaliveEveryMs > 0 && Number.isFinite(keepaliveEveryMs))) {
      throw new ConfigurationError(`keepaliveEveryMs must be a positive number, got ${keepaliveEveryMs}`);
    }
    const transport = deps.transport;
    this.keepalives = new CallKeepalives(
      keepaliveEveryMs,
      (replyTo, data) => {
        if (transport.isClosed) return false;
        transport.reply(replyTo, data);
        return true;
      },
      deps.logger,
    );
  }

  /** @internal Use `mesh.host([...])`. */
  static async start(deps: HostDeps, classes: ActorClass[], options: HostOptions = {}): Promise<Host> {
    const host = new Host(deps, options);
    const types = classes.map(actorTypeOf);
    host.group = groupOf(options.group, types);
    const names = new Set<string>();
    for (const t of types) {
      if (names.has(t.name)) throw new ConfigurationError(`actor type ${t.name} is listed twice`);
      names.add(t.name);
    }
    await host.join(types);
    for (const type of types) await host.serve(type);
    host.membership?.onChange((c) => host.onMembershipChange(c));
    host.fences?.onChange((key) => host.onFenceChange(key));
    host.membership?.lease.onChange((e) => host.onLeaseChange(e));
    await Promise.all([...host.served.values()].map((s) => s.ownership?.start()));
    host.keepalives.start();
    if (options.throttling && host.enforcer) {
      const { controlPlane, tenantHeader: _, keyFunctions: __, ...rest } = options.throttling;
      host.throttleChannel = new HostChannelClient({
        ...rest,
        address: controlPlane,
        hostId: host.id,
        actorTypes: types.map((t) => t.name),
        group: host.group,
        load: () => host.load(),
        enforcer: host.enforcer,
        logger: deps.logger,
      });
      // Calls never wait for the control plane: until the first shares arrive every turn is allowed.
      host.throttleChannel.start();
      host.unobserve.push(observeThrottleDecisions(host.enforcer));
    }
    host.status = "serving";
    return host;
  }

  private async join(types: ActorType[]): Promise<void> {
    const { transport, subjects, logger } = this.deps;
    const p = this.placement;
    // On a fresh JetStream cluster, creating a replicated bucket can time out until it settles.
    const [hosts, members, shards] = await retryStartup(
      "opening the placement buckets",
      () =>
        Promise.all([
          transport.keyValue(subjects.hostsBucket(), {
            replicas: this.deps.replicas,
            ttlMs: p.hostTtlMs,
            description: "Troupe host leases: one record per live host, renewed every heartbeat",
          }),
          transport.keyValue(subjects.membersBucket(), {
            replicas: this.deps.replicas,
            description: "Troupe roster: one record per host, written when it changes",
          }),
          transport.keyValue(subjects.shardsBucket(), {
            replicas: this.deps.replicas,
            description: "Troupe shard fences, key <type>.<shard>, written when ownership changes",
          }),
        ]),
      logger,
    );
    this.hostsBucket = hosts;
    const self: HostRecord = {
      id: this.id,
      name: this.name,
      types: types.map((t) => t.name),
      status: "serving",
      startedAtMs: Date.now(),
      activations: {},
      heartbeatEveryMs: p.heartbeatEveryMs,
    };
    this.membership = new Membership({ hosts, members }, self, p, logger, () => {
      const out: Record<string, number> = {};
      for (const [name, s] of this.served) out[name] = s.catalog.stats().activations;
      return out;
    });
    await this.membership.start();
    this.fences = new FenceStore(
      shards,
      logger,
      p.heartbeatEveryMs,
      types.filter((t) => !t.stateless).map((t) => subjects.shardFenceFilter(t.name)),
    );
    this.fences.start();
    this.adminSub = transport.subscribe(subjects.hostActors(this.id), {}, (msg) => {
      if (msg.reply)
        transport.reply(msg.reply, encode({ host: this.id, name: this.name, actors: this.actors(1000) }));
    });
    // Let the membership watch deliver the hosts already there, so the first assignment sees them.
    await this.membership.ready(2 * p.heartbeatEveryMs);
  }

  private async serve(type: ActorType): Promise<void> {
    const { transport, subjects, registry, logger } = this.deps;
    await retryStartup(
      "registering the actor type",
      () =>
        registry.register({
          name: type.name,
          shards: type.shards,
          stateful: type.initialState !== undefined,
          handlers: [...type.handlers],
        }),
      logger,
    );
    const store = type.initialState
      ? new KvStateStore(
          await retryStartup(
            "opening the state bucket",
            () =>
              transport.keyValue(subjects.stateBucket(type.name), {
                replicas: this.options.stateReplicas ?? this.deps.replicas,
                description: `Troupe state of actor type ${type.name}`,
              }),
            logger,
          ),
          type.name,
        )
      : undefined;
    const queue = subjects.rpcQueueGroup(type.name);
    let ownership: ShardOwnership | undefined;
    const catalog = new Catalog(
      type,
      store,
      logger,
      this.deps.contextServices,
      type.stateless ? {} : { admit: (id, now) => ownership?.serves(shardOf(id, type.shards), now) ?? false },
    );
    const subscriptions: SubscriptionHandle[] = [];
    if (type.stateless) {
      for (let shard = 0; shard < type.shards; shard++) {
        subscriptions.push(
          transport.subscribe(subjects.rpc(type.name, shard), { queue }, (msg) =>
            this.onCall(type, catalog, undefined, shard, queue, msg),
          ),
        );
      }
      await transport.flush();
    } else {
      const inShard = (shard: number) => (id: string) => shardOf(id, type.shards) === shard;
      const hostsBucket = this.hostsBucket;
      ownership = new ShardOwnership(
        type,
        this.membershipOrThrow(),
        this.fencesOrThrow(),
        (hostId) => (hostsBucket ? provedGone(hostsBucket, hostId) : Promise.resolve(false)),
        subjects,
        this.placement,
        {
          subscribe: (shard) =>
            transport.subscribe(subjects.rpc(type.name, shard), { queue }, (msg) =>
              this.onCall(type, catalog, ownership, shard, queue, msg),
            ),
          deactivate: (shard) => catalog.deactivateWhere(inShard(shard)),
          abandon: (shard) => catalog.abandonWhere(inShard(shard), () => notServedHere(type.name, shard)),
        },
        logger,
      );
    }
    this.served.set(type.name, { type, catalog, subscriptions, ownership, queue });
    const attributes = { [ATTR_TROUPE_ACTOR_TYPE]: type.name };
    this.unobserve.push(
      observeGauge(METRIC_ACTIVATIONS, "Live actor activations on this host", (report) =>
        report(catalog.stats().activations, attributes),
      ),
      observeGauge(METRIC_MAILBOX_DEPTH, "Turns waiting in this host's mailboxes", (report) =>
        report(catalog.stats().queued, attributes),
      ),
    );
    logger.info("serving actor type", {
      actorType: type.name,
      shards: type.shards,
      placement: type.stateless ? "stateless" : "fenced",
      hostId: this.id,
    });
  }

  private membershipOrThrow(): Membership {
    if (!this.membership) throw new ConfigurationError("host has not joined the mesh");
    return this.membership;
  }

  private fencesOrThrow(): FenceStore {
    if (!this.fences) throw new ConfigurationError("host has not joined the mesh");
    return this.fences;
  }

  private onMembershipChange(c: MembershipChange): void {
    this.deps.logger.debug("membership changed", { kind: c.kind, host: "host" in c ? c.host.id : c.hostId });
    for (const s of this.served.values()) s.ownership?.reconcileSoon();
  }

  private onFenceChange(key: string): void {
    const parsed = this.deps.subjects.parseLeaseKey(key);
    if (parsed) this.served.get(parsed.type)?.ownership?.reconcileSoon();
  }

  /** The host lease lapsed (every shard stands down at once) or is valid again (take them back). */
  private onLeaseChange(e: "lost" | "regained"): void {
    for (const s of this.served.values()) {
      if (e === "lost") s.ownership?.standDown("host lease not renewed in time");
      else s.ownership?.reconcileSoon();
    }
  }

  /**
   * @internal
   * Whether a call to `typeName`/`actorId` can be delivered to this host without the broker: it
   * serves the type and (for placed types) holds the actor's shard right now.
   */
  servesLocally(typeName: string, actorId: string): boolean {
    if (this.status !== "serving") return false;
    const s = this.served.get(typeName);
    if (!s) return false;
    return !s.ownership || s.ownership.serves(shardOf(actorId, s.type.shards));
  }

  /**
   * @internal
   * Delivers an encoded call (or tell, without `replyTo`) that a caller on this same connection
   * made, exactly as if it had arrived from NATS: same decoding, checks, turn and reply bytes.
   */
  deliverLocally(
    typeName: string,
    actorId: string,
    subject: string,
    data: Uint8Array,
    replyTo: string | undefined,
    headers: Record<string, string> | undefined,
  ): void {
    const s = this.served.get(typeName);
    if (!s) throw new ConfigurationError(`this host does not serve ${typeName}`);
    // The caller learns of an oversize message at once, as it would from the broker's limit.
    const limit = this.limits.maxBytes ?? Number.POSITIVE_INFINITY;
    if (data.length > limit) {
      throw new PayloadTooLargeError(
        `a message of ${data.length} bytes exceeds this host's limit of ${limit}`,
        {
          details: { size: data.length, limit },
        },
      );
    }
    const shard = shardOf(actorId, s.type.shards);
    const msg: InboundMessage = { subject, data, reply: replyTo, headers: headers && recordHeaders(headers) };
    this.onCall(s.type, s.catalog, s.ownership, shard, s.queue, msg);
  }

  /**
   * @internal
   * Runs a call whose arguments the caller just decoded from a message of its own (a job, an
   * event, a reminder) and does not keep: no encoding either way. Same checks as a call from NATS
   * (method, shard ownership, deadline); the outcome is settled on the caller's `replyTo` with
   * {@link Transport.settleLocally}, the error being the handler's own typed error.
   */
  runLocally(
    typeName: string,
    actorId: string,
    subject: string,
    method: string,
    args: unknown[],
    timeoutMs: number,
    replyTo: string,
    headers: Record<string, string> | undefined,
  ): void {
    const s = this.served.get(typeName);
    if (!s) throw new ConfigurationError(`this host does not serve ${typeName}`);
    const type = s.type;
    const transport = this.deps.transport;
    if (!type.handlers.has(method)) {
      transport.settleLocally(replyTo, false, unknownMethod(type.name, method));
      return;
    }
    const shard = shardOf(actorId, type.shards);
    const now = performance.now();
    if (s.ownership && !s.ownership.serves(shard, now)) {
      transport.settleLocally(replyTo, false, notServedHere(type.name, shard));
      return;
    }
    const trace = startTurnSpan(
      headers && recordHeaders(headers),
      "call",
      type.name,
      method,
      actorId,
      subject,
      s.queue,
    );
    const turn = new InboundTurn(this, type, actorId, method, args, now + timeoutMs, trace, replyTo, true);
    s.catalog.dispatch(actorId, turn, { now });
  }

  /** @internal The outcome of a turn run with {@link runLocally}, settled in-process. */
  settleLocally(
    replyTo: string,
    outcome: TurnOutcome,
    type: ActorType,
    actorId: string,
    method: string,
  ): void {
    const transport = this.deps.transport;
    if (outcome.ok) {
      transport.settleLocally(replyTo, true, outcome.value);
      return;
    }
    if (!outcome.expired) this.logFailure(outcome.error, type, actorId, method);
    // The caller sees what it would have decoded from an error reply: a typed TroupeError.
    transport.settleLocally(replyTo, false, fromWireError(toWireError(outcome.error)));
  }

  private onCall(
    type: ActorType,
    catalog: Catalog,
    ownership: ShardOwnership | undefined,
    shard: number,
    queue: string,
    msg: InboundMessage,
  ): void {
    // The reply subject is read only where it is used: nats.js decodes it on first access, and a
    // tell's (there for the broker's "no responders") is needed only to refuse it.
    let call: CallEnvelope;
    try {
      assertWellFormedHeaders(msg);
      call = decodeCall(msg.data, this.limits);
      if (shardOf(call.actorId, type.shards) !== shard) {
        throw new MalformedMessageError(`actor id routed to the wrong shard of ${type.name}`, {
          details: { actorType: type.name, shard },
        });
      }
      if (!type.handlers.has(call.method)) throw unknownMethod(type.name, call.method);
    } catch (err) {
      repeatsOf(this.deps.logger).warn(`refused a call:${type.name}:${failureKind(err)}`, "refused a call", {
        actorType: type.name,
        subject: msg.subject,
        bytes: msg.data.length,
        code: err instanceof TroupeError ? err.code : undefined,
        err: err instanceof TroupeError ? err.message : err,
      });
      const reply = msg.reply;
      if (reply) this.deps.transport.reply(reply, encodeError(err));
      return;
    }
    const now = performance.now();
    if (ownership && !ownership.serves(shard, now)) {
      // The lease lapsed on our clock (e.g. this process was paused): serve nothing from it. A
      // tell's sender learns it too (on the status subject it sent), and sends it again.
      const reply = msg.reply;
      if (reply) this.deps.transport.reply(reply, encodeError(notServedHere(type.name, shard)));
      return;
    }
    const method = call.method;
    const actorId = call.actorId;
    // A tell is never answered, whatever reply subject it came with.
    const answerTo = call.oneWay ? undefined : msg.reply;
    // Undefined (and free) unless an OpenTelemetry SDK is registered; ends exactly once, in settle.
    const trace = startTurnSpan(
      msg.headers,
      answerTo ? "call" : "tell",
      type.name,
      method,
      actorId,
      msg,
      queue,
    );
    const turn = new InboundTurn(
      this,
      type,
      actorId,
      method,
      call.args,
      now + call.timeoutMs,
      trace,
      answerTo,
      false,
      call.oneWay ? msg : undefined,
    );
    if (answerTo) this.keepalives.add(turn, now);
    if (this.inbound.length === 0) catalog.dispatch(actorId, turn, { now });
    else this.dispatchIntercepted(answerTo ? "call" : "tell", type, catalog, actorId, msg, turn);
  }

  /**
   * Runs a call or tell through the inbound interceptors: the chain's `next()` queues the turn and
   * resolves with its outcome; what the chain ends with (the turn's outcome, or an interceptor's
   * refusal) settles the turn (reply or log). The host never throws here.
   */
  private dispatchIntercepted(
    kind: InboundKind,
    type: ActorType,
    catalog: Catalog,
    actorId: string,
    msg: InboundMessage,
    turn: InboundTurn,
  ): void {
    let ran: TurnOutcome | undefined;
    const run = () =>
      new Promise<unknown>((resolve, reject) => {
        const inner: Turn = {
          method: turn.method,
          args: turn.args,
          deadline: turn.deadline,
          trace: turn.trace,
          settle(outcome) {
            ran = outcome;
            if (outcome.ok) resolve(outcome.value);
            else reject(outcome.error);
          },
        };
        catalog.dispatch(actorId, inner, { now: performance.now() });
      });
    interceptTurn(
      this.inbound,
      {
        kind,
        actorType: type.name,
        actorId,
        method: turn.method,
        headers: msg.headers,
        timeoutMs: turn.deadline - performance.now(),
      },
      run,
    ).then(
      (value) => turn.settle({ ok: true, value }),
      // The turn's own failure keeps its outcome (e.g. `expired`); a refusal is a new failure.
      (error: unknown) => turn.settle(ran && !ran.ok && ran.error === error ? ran : { ok: false, error }),
    );
  }

  /** @internal The reply of a turn that came in as a call (see {@link InboundTurn}). */
  sendReply(reply: string, outcome: TurnOutcome, type: ActorType, actorId: string, method: string): void {
    if (outcome.ok) {
      let data: Uint8Array;
      try {
        data = encodeResult(outcome.value);
      } catch (err) {
        repeatsOf(this.deps.logger).error(
          `result not encoded:${type.name}:${method}`,
          "result could not be encoded",
          { actorType: type.name, actorId, method, err },
        );
        data = encodeError(new MalformedMessageError(`result of ${type.name}.${method} cannot be encoded`));
      }
      this.replySafely(reply, data, type, actorId, method);
      return;
    }
    if (!outcome.expired) this.logFailure(outcome.error, type, actorId, method);
    this.replySafely(reply, encodeError(outcome.error), type, actorId, method);
  }

  /** Sends a reply; one that cannot be sent (e.g. larger than max_payload) becomes a typed error reply. */
  private replySafely(
    reply: string,
    data: Uint8Array,
    type: ActorType,
    actorId: string,
    method: string,
  ): void {
    try {
      this.deps.transport.reply(reply, data);
    } catch (err) {
      repeatsOf(this.deps.logger).error(
        `reply not sent:${type.name}:${failureKind(err)}`,
        "reply could not be sent",
        { actorType: type.name, actorId, method, err },
      );
      try {
        this.deps.transport.reply(reply, encodeError(err));
      } catch (again) {
        repeatsOf(this.deps.logger).error(
          `error reply not sent:${type.name}`,
          "error reply could not be sent either",
          {
            actorType: type.name,
            actorId,
            err: again,
          },
        );
      }
    }
  }

  /**
   * @internal A tell's turn ended. A tell refused unrun because this host no longer serves its
   * actor (the shard moved or lapsed while it waited in the mailbox) goes back to its sender on the
   * status subject it came with, and the sender sends it again; any other failure is logged here.
   */
  tellEnded(
    outcome: TurnOutcome,
    type: ActorType,
    actorId: string,
    method: string,
    tell: InboundMessage | undefined,
  ): void {
    if (outcome.ok) return;
    const status = outcome.error instanceof HostShuttingDownError ? tell?.reply : undefined;
    if (status) {
      try {
        this.deps.transport.reply(status, encodeError(outcome.error));
        return;
      } catch (err) {
        repeatsOf(this.deps.logger).warn(
          `tell not handed back:${type.name}`,
          "a refused tell could not be handed back to its sender",
          {
            actorType: type.name,
            actorId,
            err,
          },
        );
      }
    }
    this.logFailure(outcome.error, type, actorId, method, true);
  }

  /**
   * A failed call is the caller's to handle (it gets the typed error), so the host logs it as a
   * warning with its context; only failures of the runtime itself (not the handler's own errors or
   * refusals such as a full mailbox) are errors here.
   */
  private logFailure(err: unknown, type: ActorType, actorId: string, method: string, tell = false): void {
    const level =
      err instanceof TroupeError && !err.retryable && !(err instanceof ActorMethodError) ? "error" : "warn";
    const msg = tell ? "tell failed" : "call failed";
    repeatsOf(this.deps.logger)[level](`${msg}:${type.name}:${method}:${failureKind(err)}`, msg, {
      actorType: type.name,
      actorId,
      method,
      err,
    });
  }

  /** Activations and queued turns per served type. */
  stats(): Record<string, CatalogStats> {
    const out: Record<string, CatalogStats> = {};
    for (const [name, s] of this.served) out[name] = s.catalog.stats();
    return out;
  }

  /** The shards this host holds, per placed type. */
  shards(): Record<string, HeldShard[]> {
    const out: Record<string, HeldShard[]> = {};
    for (const [name, s] of this.served) if (s.ownership) out[name] = s.ownership.held();
    return out;
  }

  /** The live activations of this host (at most `limit`). */
  actors(limit = Number.POSITIVE_INFINITY): HostedActor[] {
    const out: HostedActor[] = [];
    for (const [name, s] of this.served) {
      for (const a of s.catalog.list(limit - out.length)) {
        out.push({ ...a, type: name, shard: shardOf(a.id, s.type.shards) });
      }
    }
    return out;
  }

  /** What the host channel reports for scaling: mailbox depth, calls owed a reply, draining. */
  load(): { mailboxDepth: number; turnsInFlight: number; draining: boolean; jobCapacity: number } {
    let mailboxDepth = 0;
    for (const s of this.served.values()) mailboxDepth += s.catalog.stats().queued;
    const jobs = this.options.jobs;
    // 0: runs no jobs, or the runner's default (the control plane then uses its policy's figure).
    const capacity = jobs === false ? 0 : (jobs?.capacity ?? 0);
    const jobCapacity =
      typeof capacity === "number" ? capacity : Math.max(0, ...Object.values(capacity).map(Number));
    return {
      mailboxDepth,
      turnsInFlight: this.keepalives.size,
      draining: this.status === "draining",
      jobCapacity,
    };
  }

  /** Live hosts as this host sees them. */
  members(): HostRecord[] {
    return this.membership?.live() ?? [];
  }

  /** Membership changes (joins, leaves, deaths) from now on, as an async iterable. */
  membershipChanges(): ChangeStream<MembershipChange> {
    return this.membershipOrThrow().changes();
  }

  /** The types this host serves. */
  get types(): string[] {
    return [...this.served.keys()];
  }

  /**
   * Registers work to finish first when the host drains, while it still serves its shards (e.g. the
   * job runner stops pulling and completes the jobs it holds). Hooks run in registration order.
   */
  beforeDrain(hook: () => Promise<void>): void {
    this.drainHooks.push(hook);
  }

  /**
   * Graceful stop: announces it is draining, hands every shard off (stops taking its calls,
   * finishes in-flight turns, runs `onDeactivate`, saves state, releases the lease), drains the
   * stateless types, then leaves the membership. Idempotent.
   */
  drain(): Promise<void> {
    if (this.status === "draining" || this.status === "stopped") return this.drained;
    this.status = "draining";
    this.drained = (async () => {
      for (const hook of this.drainHooks) {
        await hook().catch((err: unknown) => this.deps.logger.error("a drain hook failed", { err }));
      }
      await this.membership
        ?.setStatus("draining")
        .catch((err: unknown) => this.deps.logger.warn("could not announce draining", { err }));
      await Promise.all(
        [...this.served.values()].map(async (s) => {
          if (s.ownership) await s.ownership.drain();
          await Promise.all(s.subscriptions.map((sub) => sub.drain()));
          await s.catalog.drain();
        }),
      );
      this.fences?.stop();
      this.adminSub?.unsubscribe();
      await this.membership?.leave();
      for (const stop of this.unobserve.splice(0)) stop();
      this.keepalives.stop();
      await this.throttleChannel?.stop();
      this.status = "stopped";
      this.deps.logger.info("host drained", { types: this.types, hostId: this.id });
    })();
    return this.drained;
  }
}

/** A valid group name: the given one, else derived from the type names. */
function groupOf(group: string | undefined, types: ActorType[]): string {
  const valid = /^[A-Za-z0-9_-]{1,64}$/;
  if (group !== undefined) {
    if (!valid.test(group)) {
      throw new ConfigurationError(`group must be 1-64 letters, digits, "_" or "-", got "${group}"`);
    }
    return group;
  }
  const derived = types
    .map((t) => t.name)
    .sort()
    .join("-")
    .replace(/[^A-Za-z0-9_-]/g, "_")
    .slice(0, 64);
  return derived || "default";
}

/** Read access to a header record, for calls delivered without the broker. */
function recordHeaders(h: Record<string, string>): MessageHeaders {
  return { get: (k) => h[k] ?? "", has: (k) => k in h, keys: () => Object.keys(h) };
}
