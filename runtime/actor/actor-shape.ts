/**
 * The shapes the actor types are written against, in a module that imports nothing: `Actor`
 * (actor.ts) implements them, and references, contexts and the enqueue/publish contracts
 * (actor-ref.ts, actor-context.ts, services.ts) name them instead of the `Actor` class, so that
 * no circle of imports runs through the class and the types its methods use.
 */

/** Options an actor class declares as `static options = { ... }`. */
export interface ActorOptions {
  /** Shards of this type (a fixed part of its routing: do not change it on a running mesh). Default 64. */
  shards?: number;
  /** Deactivate an activation after this long without a call. Default 5 minutes. */
  idleAfterMs?: number;
  /** Calls that may wait in one activation's mailbox; more are refused with OverloadedError. Default 1000. */
  mailboxCapacity?: number;
  /** Default deadline of calls to this type when the caller sets none. */
  defaultTimeoutMs?: number;
  /**
   * A stateless worker: every host of the type may activate any id, calls are load-balanced
   * across hosts (a queue group on every shard subject), no shard leases are taken. The type must
   * not declare `initialState`. Default false (one activation per id, placed by shard leases).
   */
  stateless?: boolean;
}

/**
 * The public members of every actor instance, i.e. what `Actor<any>` has (its other members are
 * protected or private). `HandlerName` leaves these names out; `Actor` implements this shape.
 */
export interface ActorShape {
  readonly id: string;
  // biome-ignore lint/suspicious/noExplicitAny: any actor's state, as in `AnyActor = Actor<any>`.
  state: any;
  onActivate?(): void | Promise<void>;
  onDeactivate?(): void | Promise<void>;
}
