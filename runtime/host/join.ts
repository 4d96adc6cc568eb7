/**
 * A host joining the mesh's placement: opening the placement buckets (host leases, roster, shard
 * fences), announcing itself in the membership, and watching the fences of its placed types.
 */
import type { ActorType } from "../actor/index.js";
import type { Logger } from "../log.js";
import type { Subjects } from "../messaging/index.js";
import {
  FenceStore,
  type HostRecord,
  Membership,
  type resolvePlacementOptions,
  retryStartup,
} from "../placement/index.js";
import type { KeyValueBucket, Transport } from "../transport/index.js";

export interface JoinedPlacement {
  readonly hostsBucket: KeyValueBucket;
  readonly membership: Membership;
  readonly fences: FenceStore;
}

/**
 * Opens the buckets, then starts the membership (announcing `host` serving `types`, with the live
 * activation counts of `activations()`) and the fence watch. The host then waits for the
 * membership to be ready before serving.
 */
export async function joinPlacement(
  deps: {
    readonly transport: Transport;
    readonly subjects: Subjects;
    readonly logger: Logger;
    readonly replicas: number;
  },
  p: ReturnType<typeof resolvePlacementOptions>,
  types: ActorType[],
  host: { readonly id: string; readonly name: string },
  activations: () => Record<string, number>,
): Promise<JoinedPlacement> {
  const { transport, subjects, logger } = deps;
  // On a fresh JetStream cluster, creating a replicated bucket can time out until it settles.
  const [hosts, members, shards] = await retryStartup(
    "opening the placement buckets",
    () =>
      Promise.all([
        transport.keyValue(subjects.hostsBucket(), {
          replicas: deps.replicas,
          ttlMs: p.hostTtlMs,
          description: "Troupe host leases: one record per live host, renewed every heartbeat",
        }),
        transport.keyValue(subjects.membersBucket(), {
          replicas: deps.replicas,
          description: "Troupe roster: one record per host, written when it changes",
        }),
        transport.keyValue(subjects.shardsBucket(), {
          replicas: deps.replicas,
          description: "Troupe shard fences, key <type>.<shard>, written when ownership changes",
        }),
      ]),
    logger,
  );
  const self: HostRecord = {
    id: host.id,
    name: host.name,
    types: types.map((t) => t.name),
    status: "serving",
    startedAtMs: Date.now(),
    activations: {},
    heartbeatEveryMs: p.heartbeatEveryMs,
  };
  const membership = new Membership({ hosts, members }, self, p, logger, activations);
  await membership.start();
  const fences = new FenceStore(
    shards,
    logger,
    p.heartbeatEveryMs,
    types.filter((t) => !t.stateless).map((t) => subjects.shardFenceFilter(t.name)),
  );
  fences.start();
  return { hostsBucket: hosts, membership, fences };
}
