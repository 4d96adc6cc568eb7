/**
 * A host: this process serving actor types. For each type it owns shards, subscribes to their
 * subjects, and turns incoming calls into turns on the type's catalog.
 *
 * Until placement lands every host claims every shard of its types; the queue group on each shard
 * subject makes each message go to one host, and state fencing catches any overlap.
 */
import type { TurnOutcome } from "../actor/activation.js";
import type { ActorContext } from "../actor/actor-context.js";
import type { ActorClass } from "../actor/actor-ref.js";
import { type ActorType, actorTypeOf } from "../actor/actor-type.js";
import { Catalog, type CatalogStats } from "../actor/catalog.js";
import { KvStateStore } from "../actor/state-store.js";
import { ConfigurationError, MalformedMessageError, TroupeError, UnknownMethodError } from "../errors.js";
import type { Logger } from "../log.js";
import type { DecodeLimits } from "../messaging/codec.js";
import { type CallEnvelope, decodeCall, encodeError, encodeResult } from "../messaging/envelope.js";
import type { Subjects } from "../messaging/subjects.js";
import { shardOf } from "../placement/shard.js";
import type { InboundMessage, SubscriptionHandle, Transport } from "../transport/transport.js";
import type { TypeRegistry } from "./type-registry.js";

export interface HostOptions {
  /** Largest accepted call payload in bytes; larger ones are refused before decoding. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Replicas of the state buckets (use 3 on a 3-node cluster). Default: the mesh's `replicas`. */
  stateReplicas?: number;
}

export type HostStatus = "starting" | "serving" | "draining" | "stopped";

interface ServedType {
  readonly type: ActorType;
  readonly catalog: Catalog;
  readonly subscriptions: SubscriptionHandle[];
}

export interface HostDeps {
  readonly transport: Transport;
  readonly subjects: Subjects;
  readonly registry: TypeRegistry;
  readonly logger: Logger;
  readonly contextServices: Pick<ActorContext, "ref">;
  readonly replicas: number;
}

export class Host {
  status: HostStatus = "starting";
  private readonly served = new Map<string, ServedType>();
  private readonly limits: Partial<DecodeLimits>;
  private drained: Promise<void> = Promise.resolve();

  private constructor(
    private readonly deps: HostDeps,
    private readonly options: HostOptions,
  ) {
    this.limits = { maxBytes: options.maxPayloadBytes ?? 1024 * 1024 };
  }

  /** @internal Use `mesh.host([...])`. */
  static async start(deps: HostDeps, classes: ActorClass[], options: HostOptions = {}): Promise<Host> {
    const host = new Host(deps, options);
    const types = classes.map(actorTypeOf);
    const names = new Set<string>();
    for (const t of types) {
      if (names.has(t.name)) throw new ConfigurationError(`actor type ${t.name} is listed twice`);
      names.add(t.name);
    }
    for (const type of types) await host.serve(type);
    host.status = "serving";
    return host;
  }

  private async serve(type: ActorType): Promise<void> {
    const { transport, subjects, registry, logger } = this.deps;
    await registry.register({
      name: type.name,
      shards: type.shards,
      stateful: type.initialState !== undefined,
      handlers: [...type.handlers],
    });
    const store = type.initialState
      ? new KvStateStore(
          await transport.keyValue(subjects.stateBucket(type.name), {
            replicas: this.options.stateReplicas ?? this.deps.replicas,
            description: `Troupe state of actor type ${type.name}`,
          }),
          type.name,
        )
      : undefined;
    const catalog = new Catalog(type, store, logger, this.deps.contextServices);
    const subscriptions: SubscriptionHandle[] = [];
    const queue = subjects.rpcQueueGroup(type.name);
    for (let shard = 0; shard < type.shards; shard++) {
      subscriptions.push(
        transport.subscribe(subjects.rpc(type.name, shard), { queue }, (msg) =>
          this.onCall(type, catalog, shard, msg),
        ),
      );
    }
    await transport.flush();
    this.served.set(type.name, { type, catalog, subscriptions });
    logger.info("serving actor type", { actorType: type.name, shards: type.shards });
  }

  private onCall(type: ActorType, catalog: Catalog, shard: number, msg: InboundMessage): void {
    const reply = msg.reply;
    let call: CallEnvelope;
    try {
      call = decodeCall(msg.data, this.limits);
      if (shardOf(call.actorId, type.shards) !== shard) {
        throw new MalformedMessageError(`actor id routed to the wrong shard of ${type.name}`, {
          details: { actorType: type.name, shard },
        });
      }
      if (!type.handlers.has(call.method)) {
        throw new UnknownMethodError(`${type.name} has no handler "${call.method}"`, {
          details: { actorType: type.name, method: call.method },
        });
      }
    } catch (err) {
      this.deps.logger.warn("refused a call", {
        actorType: type.name,
        subject: msg.subject,
        bytes: msg.data.length,
        code: err instanceof TroupeError ? err.code : undefined,
        err: err instanceof TroupeError ? err.message : err,
      });
      if (reply) this.deps.transport.reply(reply, encodeError(err));
      return;
    }
    const method = call.method;
    const actorId = call.actorId;
    catalog.dispatch(actorId, {
      method,
      args: call.args,
      deadline: performance.now() + call.timeoutMs,
      settle: reply
        ? (outcome) => this.sendReply(reply, outcome, type, actorId, method)
        : (outcome) => this.logTellFailure(outcome, type, actorId, method),
    });
  }

  private sendReply(
    reply: string,
    outcome: TurnOutcome,
    type: ActorType,
    actorId: string,
    method: string,
  ): void {
    if (outcome.ok) {
      let data: Uint8Array;
      try {
        data = encodeResult(outcome.value);
      } catch (err) {
        this.deps.logger.error("result could not be encoded", { actorType: type.name, actorId, method, err });
        data = encodeError(new MalformedMessageError(`result of ${type.name}.${method} cannot be encoded`));
      }
      this.deps.transport.reply(reply, data);
      return;
    }
    if (!outcome.expired) this.logFailure(outcome.error, type, actorId, method);
    this.deps.transport.reply(reply, encodeError(outcome.error));
  }

  private logTellFailure(outcome: TurnOutcome, type: ActorType, actorId: string, method: string): void {
    if (!outcome.ok) this.logFailure(outcome.error, type, actorId, method, true);
  }

  private logFailure(err: unknown, type: ActorType, actorId: string, method: string, tell = false): void {
    const level = err instanceof TroupeError && err.retryable ? "warn" : "error";
    this.deps.logger[level](tell ? "tell failed" : "call failed", {
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

  /** The types this host serves. */
  get types(): string[] {
    return [...this.served.keys()];
  }

  /**
   * Graceful stop: stops taking new calls, lets every queued turn finish, runs `onDeactivate`
   * and saves state. Idempotent.
   */
  drain(): Promise<void> {
    if (this.status === "draining" || this.status === "stopped") return this.drained;
    this.status = "draining";
    this.drained = (async () => {
      for (const s of this.served.values()) await Promise.all(s.subscriptions.map((sub) => sub.drain()));
      await Promise.all([...this.served.values()].map((s) => s.catalog.drain()));
      this.status = "stopped";
      this.deps.logger.info("host drained", { types: this.types });
    })();
    return this.drained;
  }
}
