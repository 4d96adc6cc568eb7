/**
 * Serving one actor type on a host: registering it, opening its state bucket (stateful types), its
 * catalog of activations, and its shard subjects: every shard in the type's queue group for a
 * stateless type, or the shards placement assigns to this host (ShardOwnership) for the others.
 */
import { type ActorType, Catalog, type ContextServices, KvStateStore } from "../actor/index.js";
import type { Logger } from "../log.js";
import type { Subjects } from "../messaging/index.js";
import {
  type FenceStore,
  type Membership,
  provedGone,
  type resolvePlacementOptions,
  retryStartup,
  ShardOwnership,
  shardOf,
} from "../placement/index.js";
import type { KeyValueBucket, SubscriptionHandle, Transport } from "../transport/index.js";
import { type Dispatch, notServedHere, type ServedType } from "./dispatch.js";
import type { TypeRegistry } from "./type-registry.js";

/** What serving a type needs from its host. */
export interface TypeServing {
  readonly transport: Transport;
  readonly subjects: Subjects;
  readonly registry: TypeRegistry;
  readonly logger: Logger;
  readonly contextServices: ContextServices;
  /** Replicas of the type's state bucket. */
  readonly stateReplicas: number;
  readonly dispatch: Dispatch;
  readonly placement: ReturnType<typeof resolvePlacementOptions>;
  readonly hostsBucket: KeyValueBucket | undefined;
  membership(): Membership;
  fences(): FenceStore;
  /** The host's served types: the new one is added once it is set up. */
  readonly served: Map<string, ServedType>;
}

/** Sets `type` up on the host and adds it to `ctx.served`; ownership starts later (Host.start). */
export async function serveType(ctx: TypeServing, type: ActorType): Promise<ServedType> {
  const { transport, subjects, registry, logger } = ctx;
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
              replicas: ctx.stateReplicas,
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
    ctx.contextServices,
    type.stateless ? {} : { admit: (id, now) => ownership?.serves(shardOf(id, type.shards), now) ?? false },
  );
  const subscriptions: SubscriptionHandle[] = [];
  if (type.stateless) {
    for (let shard = 0; shard < type.shards; shard++) {
      subscriptions.push(
        transport.subscribe(subjects.rpc(type.name, shard), { queue }, (msg) =>
          ctx.dispatch.onCall(type, catalog, undefined, shard, queue, msg),
        ),
      );
    }
    await transport.flush();
  } else {
    const inShard = (shard: number) => (id: string) => shardOf(id, type.shards) === shard;
    const hostsBucket = ctx.hostsBucket;
    ownership = new ShardOwnership(
      type,
      ctx.membership(),
      ctx.fences(),
      (hostId) => (hostsBucket ? provedGone(hostsBucket, hostId) : Promise.resolve(false)),
      subjects,
      ctx.placement,
      {
        subscribe: (shard) =>
          transport.subscribe(subjects.rpc(type.name, shard), { queue }, (msg) =>
            ctx.dispatch.onCall(type, catalog, ownership, shard, queue, msg),
          ),
        deactivate: (shard) => catalog.deactivateWhere(inShard(shard)),
        abandon: (shard) => catalog.abandonWhere(inShard(shard), () => notServedHere(type.name, shard)),
      },
      logger,
    );
  }
  const served: ServedType = { type, catalog, subscriptions, ownership, queue };
  ctx.served.set(type.name, served);
  return served;
}
