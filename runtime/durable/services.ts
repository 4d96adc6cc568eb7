/**
 * What the durable patterns (jobs/, pubsub/, reminders/) need of a mesh connection, as three small
 * interfaces: the `Mesh` class satisfies all of them, and the patterns never import it (they sit
 * below `mesh.ts`; taking the class is how the folder import circle used to start).
 *
 * - {@link MeshConnection}: the broker, the names, the logger and the replica count: enough to
 *   create streams and read them (dead letters, job results, subscription listings).
 * - {@link OutboundSends}: what enqueue and publish add: the outbound interceptors, the caller
 *   identity and the outbox.
 * - {@link TurnDelivery}: what a runner adds to deliver a message as a turn of one actor.
 *
 * Members tagged `@internal` are stripped from the published types together with the `Mesh`
 * members they describe, so a `Mesh` still satisfies these interfaces there.
 */
import type { ActorClass, CallOptions } from "../actor/index.js";
import type { OutboundContext, OutboundInterceptor } from "../interceptors/index.js";
import type { Logger } from "../log.js";
import type { Subjects } from "../messaging/index.js";
import type { Draft } from "../outbox/index.js";
import type { Transport } from "../transport/index.js";

export interface MeshConnection {
  /** @internal */
  readonly transport: Transport;
  readonly subjects: Subjects;
  readonly logger: Logger;
  /** Replicas of the buckets and streams created on this connection. */
  readonly replicas: number;
}

/** Where sends go first when the connection has a durable outbox (`connect({ outbox })`). */
export interface OutboxWriter {
  append(draft: Draft): Promise<unknown>;
}

export interface OutboundSends extends MeshConnection {
  /** @internal The outbound interceptors, outermost first (empty: no chain runs). */
  readonly outbound: readonly OutboundInterceptor[];
  readonly outbox: OutboxWriter | undefined;
  /** @internal Runs an enqueue or publish through the outbound interceptors. */
  intercept(ctx: OutboundContext, send: () => Promise<unknown>): Promise<unknown>;
  /** @internal The caller identity a hop carries: its own `caller` option, else the client's. */
  callerFor(caller: string | undefined): string | undefined;
}

export interface TurnDelivery extends MeshConnection {
  /** @internal Deadline of calls that set none. */
  readonly defaultTimeoutMs: number;
  /** @internal Calls one actor with arguments the runner hands over (see `Mesh.callActor`). */
  callActor(
    type: ActorClass,
    id: string,
    method: string,
    args: unknown[],
    options: CallOptions,
  ): Promise<unknown>;
}
