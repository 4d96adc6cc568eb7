/**
 * Where a call goes: the subject of an actor's shard (shard counts learnt from the actor classes
 * or the type registry), the call's deadline, and whether a host of this connection serves the
 * actor (in-process delivery) or the broker must carry it.
 */
import type { CallOptions } from "../actor/index.js";
import { checkTimeoutMs } from "../client-options.js";
import {
  ActorUnavailableError,
  ConfigurationError,
  DeadlineExceededError,
  UnknownActorTypeError,
} from "../errors.js";
import type { Subjects } from "../messaging/index.js";
import { shardOf } from "../placement/index.js";
import type { LocalRoute } from "./local-route.js";

/** What routing needs of the type registry: a type's shard count, or null when no host serves it. */
export interface TypeLookup {
  lookup(type: string): Promise<{ readonly shards: number } | null>;
}

export class Routes {
  private readonly shardCounts = new Map<string, number>();
  /** Call subjects per type, by shard (built once: a call should not concatenate strings). */
  private readonly rpcSubjects = new Map<string, string[]>();

  constructor(
    private readonly subjects: Subjects,
    private readonly registry: TypeLookup,
    /** Deadline of calls that set none. */
    private readonly defaultTimeoutMs: number,
    /** The hosts of this connection; empty, or `localDelivery: false`, sends everything through NATS. */
    private readonly local: ReadonlySet<LocalRoute>,
    private readonly localDelivery: boolean,
  ) {}

  /** Notes a type's shard count (from its class) for routing. */
  noteShards(type: string, shards: number): void {
    this.shardCounts.set(type, shards);
  }

  knowsShards(type: string): boolean {
    return this.shardCounts.has(type);
  }

  subjectFor(type: string, id: string): string {
    const shards = this.shardCounts.get(type);
    if (shards === undefined) throw new ConfigurationError(`unknown shard count for ${type}`);
    let byShard = this.rpcSubjects.get(type);
    if (byShard?.length !== shards) {
      byShard = Array.from({ length: shards }, (_, shard) => this.subjects.rpc(type, shard));
      this.rpcSubjects.set(type, byShard);
    }
    return byShard[shardOf(id, shards)] as string;
  }

  timeoutFor(options: CallOptions): number {
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
   * A host of this very mesh connection that serves the actor right now: calls to it skip the
   * broker (the same encoded bytes are delivered in-process, so behaviour is identical).
   */
  localFor(type: string, id: string): LocalRoute | undefined {
    if (this.local.size === 0 || !this.localDelivery) return undefined;
    for (const host of this.local) if (host.servesLocally(type, id)) return host;
    return undefined;
  }

  async assertTypeKnown(type: string): Promise<void> {
    let rec: { readonly shards: number } | null;
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
}
