/**
 * A host: this process serving actor types. It announces itself in the membership bucket, and for
 * each type:
 * - stateful (and plain) types: owns the shards placement assigns to it (a fence per shard, written
 *   when ownership changes, under this host's one lease) and subscribes to a shard's subject only
 *   while it owns it (see placement/shard-ownership.ts);
 * - stateless worker types: subscribes to every shard subject in the type's queue group, so calls
 *   are load-balanced over every host of the type, with no leases.
 * Joining placement is join.ts, setting a type up serve-type.ts; this file is the lifecycle.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { ActorClass, ContextServices } from "../actor/index.js";
import { type ActorType, actorTypeOf, type CatalogStats } from "../actor/index.js";
import { ConfigurationError } from "../errors.js";
import { type InboundInterceptor, withBuiltins } from "../interceptors/index.js";
import type { Logger } from "../log.js";
import type { Subjects } from "../messaging/index.js";
import { type DecodeLimits, encode } from "../messaging/index.js";
import type { ChangeStream } from "../placement/index.js";
import {
  type FenceStore,
  type HeldShard,
  type HostRecord,
  type Membership,
  type MembershipChange,
  resolvePlacementOptions,
  shardOf,
} from "../placement/index.js";
import {
  ATTR_TROUPE_ACTOR_TYPE,
  inboundTracing,
  METRIC_ACTIVATIONS,
  METRIC_MAILBOX_DEPTH,
  observeGauge,
} from "../telemetry/index.js";
import {
  HostChannelClient,
  LocalEnforcer,
  observeThrottleDecisions,
  throttlingInterceptor,
} from "../throttling/index.js";
import type { KeyValueBucket, RunLocally, SubscriptionHandle, Transport } from "../transport/index.js";
import { CallKeepalives, DEFAULT_KEEPALIVE_EVERY_MS } from "./call-keepalives.js";
import { Dispatch, type ServedType } from "./dispatch.js";
import { joinPlacement } from "./join.js";
import { groupOf, type HostedActor, type HostOptions, type HostStatus } from "./options.js";
import { Replies } from "./replies.js";
import { serveType } from "./serve-type.js";
import type { TypeRegistry } from "./type-registry.js";

export type { HostedActor, HostOptions, HostStatus, HostThrottlingOptions } from "./options.js";

export interface HostDeps {
  readonly transport: Transport;
  readonly subjects: Subjects;
  readonly registry: TypeRegistry;
  readonly logger: Logger;
  readonly contextServices: ContextServices;
  readonly replicas: number;
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
  /**
   * @internal The inbound chain, outermost first: the built-ins (tracing, idle without a tracer),
   * throttling, the application's. Skipped while every link is idle.
   */
  readonly inbound: readonly InboundInterceptor[];
  /** The throttling enforcer, when `options.throttling` is set. */
  readonly enforcer: LocalEnforcer | undefined;
  private throttleChannel: HostChannelClient | undefined;
  private readonly replies: Replies;
  private readonly dispatch: Dispatch;

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
      // Before the application's interceptors (only the built-in tracing is outside it, so a
      // refused turn still has its span): a refused turn costs them no work, and is refused the
      // same way whatever they do.
      interceptors.unshift(throttlingInterceptor(this.enforcer, { tenantHeader: throttling.tenantHeader }));
    } else {
      this.enforcer = undefined;
    }
    this.inbound = withBuiltins([inboundTracing], interceptors, options.builtinInterceptors !== false);
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
    this.replies = new Replies(deps, this.keepalives);
    this.dispatch = new Dispatch(
      deps,
      this.served,
      this.limits,
      this.inbound,
      this.keepalives,
      this.replies,
      () => this.status === "serving",
      options.userFromInbox === true,
    );
    this.runLocally = this.dispatch.runLocally;
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
    const { transport, subjects } = this.deps;
    const p = this.placement;
    const joined = await joinPlacement(this.deps, p, types, { id: this.id, name: this.name }, () => {
      const out: Record<string, number> = {};
      for (const [name, s] of this.served) out[name] = s.catalog.stats().activations;
      return out;
    });
    this.hostsBucket = joined.hostsBucket;
    this.membership = joined.membership;
    this.fences = joined.fences;
    this.adminSub = transport.subscribe(subjects.hostActors(this.id), {}, (msg) => {
      if (msg.reply)
        transport.reply(msg.reply, encode({ host: this.id, name: this.name, actors: this.actors(1000) }));
    });
    // Let the membership watch deliver the hosts already there, so the first assignment sees them.
    await this.membership.ready(2 * p.heartbeatEveryMs);
  }

  private async serve(type: ActorType): Promise<void> {
    const { logger } = this.deps;
    const { catalog } = await serveType(
      {
        ...this.deps,
        stateReplicas: this.options.stateReplicas ?? this.deps.replicas,
        dispatch: this.dispatch,
        placement: this.placement,
        hostsBucket: this.hostsBucket,
        membership: () => this.membershipOrThrow(),
        fences: () => this.fencesOrThrow(),
        served: this.served,
      },
      type,
    );
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
    if (parsed) this.served.get(parsed.type)?.ownership?.fenceChanged(parsed.shard);
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
    return this.dispatch.servesLocally(typeName, actorId);
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
    this.dispatch.deliverLocally(typeName, actorId, subject, data, replyTo, headers);
  }

  /**
   * @internal
   * Runs a call whose arguments the caller just decoded from a message of its own (a job, an
   * event, a reminder) and does not keep: no encoding either way (see `Dispatch.runLocally`).
   */
  readonly runLocally: RunLocally;

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
