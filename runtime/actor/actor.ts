/**
 * The base class of every actor.
 *
 * @example
 * ```ts
 * import { Actor } from "troupe";
 *
 * export class Counter extends Actor<{ value: number }> {
 *   static initialState = () => ({ value: 0 });
 *   async increment(by = 1) {
 *     this.state.value += by;       // saved after the turn, before the caller gets the reply
 *     return this.state.value;
 *   }
 * }
 * ```
 *
 * Handlers are the public methods of the subclass (methods whose names start with `_`, JS-private
 * `#methods` and the members of this base class are not). TypeScript's `private` keyword does not
 * exist at run time: use `#method()` or a leading `_` for helpers that must not be callable remotely.
 */

import type { ActorContext } from "./actor-context.js";
import type { ActorClass, ActorRef, CallOptions } from "./actor-ref.js";
import type { ActorShape } from "./actor-shape.js";
import type {
  EnqueueOptions,
  EnqueueRef,
  PublishOptions,
  PublishReceipt,
  ReminderSchedule,
} from "./services.js";

let constructing: ActorContext | undefined;

/** Internal: runs `create` with `ctx` visible to the Actor constructor. */
export function constructWithContext<T>(ctx: ActorContext, create: () => T): T {
  constructing = ctx;
  try {
    return create();
  } finally {
    constructing = undefined;
  }
}

/** Any actor, whatever its state type (for generic constraints). */
// biome-ignore lint/suspicious/noExplicitAny: the state type parameter is irrelevant in constraints, and `unknown` would break variance.
export type AnyActor = Actor<any>;

export abstract class Actor<State = undefined> implements ActorShape {
  /** This actor's id (unique within its type). */
  readonly id: string;
  /**
   * The actor's state. Loaded before the first turn, saved after every turn that changed it
   * (compare-and-set on the stored revision), before the caller gets the reply.
   */
  state: State;
  /** @internal */
  readonly #ctx: ActorContext;

  constructor() {
    const ctx = constructing;
    if (!ctx) {
      throw new TypeError("actors are created by the runtime: use mesh.ref(Type, id) to talk to one");
    }
    this.#ctx = ctx;
    this.id = ctx.id;
    this.state = undefined as State;
  }

  /** A reference to another actor; calls made during a turn inherit the turn's remaining deadline. */
  protected ref<A extends ActorShape>(type: ActorClass<A>, id: string, options?: CallOptions): ActorRef<A> {
    return this.#ctx.ref(type, id, options);
  }

  /**
   * Durable, at-least-once work for another actor (or this one): `await this.enqueue(Mailer, id).send(m)`
   * resolves once the job is stored. The job carries this turn's trace context.
   */
  protected enqueue<A extends ActorShape>(
    type: ActorClass<A>,
    id: string,
    options?: EnqueueOptions,
  ): EnqueueRef<A> {
    return this.#ctx.enqueue(type, id, options);
  }

  /** Publishes an event (see `mesh.publish`); it carries this turn's trace context. */
  protected publish(topic: string, event: unknown, options?: PublishOptions): Promise<PublishReceipt> {
    return this.#ctx.publish(topic, event, options);
  }

  /**
   * Runs `callback` as a turn of this actor after `delayMs` (and every `everyMs` after that when set).
   * Timers live with the activation: they stop when it deactivates and do not keep it alive.
   * Setting a timer with an existing name replaces it.
   */
  protected setTimer(
    name: string,
    delayMs: number,
    callback: () => unknown,
    options: { everyMs?: number } = {},
  ): void {
    this.#ctx.setTimer(name, delayMs, callback, options.everyMs);
  }

  protected clearTimer(name: string): void {
    this.#ctx.clearTimer(name);
  }

  /**
   * A durable reminder: `receiveReminder(name, info)` (a handler this class defines) runs as a turn
   * of this actor `at` a time, or every `everyMs` (first at `firstAt`, default now + everyMs), on
   * whichever host owns the actor then. Unlike timers, reminders survive deactivation, host death
   * and restarts of the whole mesh; after downtime a periodic reminder fires once (`info.missed`
   * says how many occurrences it folds), never as a backlog. At-least-once: a firing may repeat if
   * a host dies during it. Setting a reminder with an existing name replaces it. Resolves once
   * stored. See docs/patterns/reminders.md.
   */
  protected remind(name: string, schedule: ReminderSchedule): Promise<void> {
    return this.#ctx.remind(name, schedule);
  }

  /** Removes a reminder set with {@link remind} (no-op if there is none). */
  protected unremind(name: string): Promise<void> {
    return this.#ctx.unremind(name);
  }

  /** Milliseconds left before the current turn's deadline (Infinity outside a turn with a deadline). */
  protected get remainingMs(): number {
    return this.#ctx.remainingMs();
  }

  /** Called once, after state is loaded and before the first turn. */
  onActivate?(): void | Promise<void>;
  /** Called once when the activation is deactivated (idle, drain); state changes made here are saved. */
  onDeactivate?(): void | Promise<void>;
}
