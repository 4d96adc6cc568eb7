/**
 * One live instance of an actor: its mailbox, its state and the revision it was loaded at, its
 * timers, and an explicit lifecycle:
 *
 *   created -> activating -> active -> deactivating -> deactivated
 *                  |            |
 *                  +-> failed   +-> stood-down (a save lost the revision race, or its shard
 *                               |                moved away: `abandon()`)
 *                               +-> failed (a failed turn's state could not be restored)
 *
 * Turns run one at a time. A turn's state change is saved before its reply is sent; a turn that
 * throws, or whose state cannot be stored, leaves the state as it was before the turn: it is
 * decoded again from the bytes last saved or loaded (bytes the state decoder accepted, see
 * messaging/state-codec.ts). Should even that fail, the activation is discarded unsaved and its
 * waiting turns go to a fresh one, which loads the stored state: a turn never runs on a state
 * that is neither the stored one nor the result of the turns since.
 */
import {
  DeadlineExceededError,
  HostShuttingDownError,
  OverloadedError,
  StateNotLoadableError,
  StateNotStorableError,
  type TroupeError,
} from "../errors.js";
import type { TurnScope } from "../interceptors/index.js";
import { type Logger, repeatsOf } from "../log.js";
import { decodeState, encodeStateIfChanged } from "../messaging/index.js";
import { type Actor, constructWithContext } from "./actor.js";
import type { ActorContext, ContextServices } from "./actor-context.js";
import type { ActorClass, ActorRef, CallOptions } from "./actor-ref.js";
import type { ActorShape } from "./actor-shape.js";
import type { ActorType } from "./actor-type.js";
import { Mailbox } from "./mailbox.js";
import type {
  EnqueueOptions,
  EnqueueRef,
  PublishOptions,
  PublishReceipt,
  ReminderSchedule,
} from "./services.js";
import type { StateStore } from "./state-store.js";
import { turnError } from "./turn-error.js";

export type ActivationStatus =
  | "created"
  | "activating"
  | "active"
  | "deactivating"
  | "deactivated"
  | "failed"
  | "stood-down";

/** One unit of work for an actor. `settle` is called exactly once per turn. */
export interface Turn {
  /** Handler name, or undefined for a timer callback. */
  readonly method: string | undefined;
  readonly args: unknown[];
  readonly callback?: (() => unknown) | undefined;
  /** `performance.now()` deadline; the turn is skipped if it has not started by then. */
  readonly deadline: number;
  /** Set by an inbound interceptor (tracing: the turn's span): the handler runs through it. */
  readonly scope?: TurnScope | undefined;
  settle(outcome: TurnOutcome): void;
}

export type TurnOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown; readonly expired?: boolean };

/** What an activation needs from its catalog. */
export interface ActivationHost {
  readonly type: ActorType;
  readonly store: StateStore | undefined;
  readonly logger: Logger;
  readonly contextServices: ContextServices;
  /**
   * Called when an activation ended without saving and must be replaced by a fresh one that loads
   * the stored state (its revision was stale, or a failed turn's state could not be restored): it
   * hands back the turns it did not run.
   */
  onStoodDown(activation: Activation, unrun: Turn[]): void;
  /** Called when activation failed (the waiting turns were already failed with the cause). */
  onFailed(activation: Activation): void;
  /**
   * Whether this host may still run turns of `id` (placement: the shard's lease is still valid on
   * this host's clock). A turn that is not admitted is refused without running.
   */
  admits?(id: string, now: number): boolean;
}

export class Activation implements ActorContext {
  status: ActivationStatus = "created";
  /** `performance.now()` of the last call or tell (timers do not count). */
  lastActive = performance.now();
  private readonly mailbox: Mailbox<Turn>;
  /** `performance.now()` deadline of the turn in progress (Infinity between turns and in hooks). */
  private turnDeadline = Number.POSITIVE_INFINITY;
  private running = false;
  /** Numbers the turns, so a handler's thenable that reports twice is heard once (`takeOutcome`). */
  private turnSeq = 0;
  private takenSeq = 0;
  private instance: Actor<unknown> | undefined;
  private revision = 0;
  private savedBytes: Uint8Array | undefined;
  private timers: Map<string, ArmedTimer> | undefined;
  private idleWaiters: (() => void)[] | undefined;

  constructor(
    readonly id: string,
    private readonly host: ActivationHost,
    /** Resolves when the previous activation of this id finished deactivating. */
    private readonly previous: Promise<void> | undefined,
  ) {
    this.mailbox = new Mailbox(host.type.mailboxCapacity);
  }

  get queued(): number {
    return this.mailbox.size;
  }

  get busy(): boolean {
    return this.running || this.mailbox.size > 0;
  }

  /** Queues a turn; refuses with OverloadedError when the mailbox is full. */
  deliver(turn: Turn, options: { countsAsActivity?: boolean; unbounded?: boolean; now?: number } = {}): void {
    if (options.unbounded) this.mailbox.pushUnbounded(turn);
    else if (!this.mailbox.push(turn)) {
      turn.settle({
        ok: false,
        error: new OverloadedError(
          `mailbox of ${this.host.type.name}/${this.id} is full (${this.mailbox.capacity} waiting calls)`,
          { details: { actorType: this.host.type.name, actorId: this.id, capacity: this.mailbox.capacity } },
        ),
      });
      return;
    }
    if (options.countsAsActivity !== false) this.lastActive = options.now ?? performance.now();
    if (!this.running) this.pump();
  }

  /**
   * Runs the queued turns one after another. Written as callbacks rather than an async loop: a
   * turn costs one `then` on its handler's promise, not the promises of two async frames.
   */
  private pump(): void {
    this.running = true;
    if (this.status === "created") {
      // activate() settles every failure itself (the queued turns get the error).
      void this.activate().then(() => this.next());
      return;
    }
    this.next();
  }

  /** Starts queued turns until one has to wait for a promise (it calls `next` again when done). */
  private next(): void {
    while (this.status === "active") {
      const turn = this.mailbox.shift();
      if (!turn) break;
      try {
        if (!this.runTurn(turn)) return;
      } catch (err) {
        // runTurn settles every outcome itself and guards each settle; this only keeps an
        // unexpected fault (a bug) from stopping the mailbox or escaping as an unhandled rejection.
        this.host.logger.error("a turn failed outside its handler", {
          actorType: this.host.type.name,
          actorId: this.id,
          err,
        });
      }
    }
    this.running = false;
    if (this.mailbox.size > 0 && this.status === "active") this.pump();
    else this.notifyIdle();
  }

  private async activate(): Promise<void> {
    this.status = "activating";
    const type = this.host.type;
    try {
      if (this.previous) await this.previous;
      this.instance = constructWithContext(this, () => new type.cls() as Actor<unknown>);
      if (type.initialState && this.host.store) {
        const stored = await this.host.store.load(this.id);
        if (stored) {
          this.instance.state = this.decodeStored(stored.bytes, stored.revision);
          this.revision = stored.revision;
          this.savedBytes = stored.bytes;
        } else {
          this.instance.state = type.initialState();
          this.revision = 0;
          this.savedBytes = undefined;
        }
      }
      if (this.instance.onActivate) {
        const instance = this.instance;
        await instance.onActivate?.();
        await this.saveIfChanged();
      }
      this.status = "active";
    } catch (thrown) {
      const err = turnError(thrown);
      this.status = "failed";
      this.host.logger.error("activation failed", { actorType: type.name, actorId: this.id, err });
      for (const turn of this.mailbox.takeAll()) this.settleSafely(turn, { ok: false, error: err });
      this.host.onFailed(this);
    }
  }

  /** Stored bytes as state; bytes the state decoder refuses make the actor unloadable (a typed error). */
  private decodeStored(bytes: Uint8Array, revision: number): unknown {
    try {
      return decodeState(bytes);
    } catch (err) {
      const type = this.host.type.name;
      throw new StateNotLoadableError(
        `stored state of ${type}/${this.id} (revision ${revision}, ${bytes.length} bytes) cannot be decoded: ${(err as Error).message}; inspect or repair it with \`troupe state get|put|rm ${type} <id>\``,
        {
          cause: err,
          details: {
            actorType: type,
            actorId: this.id,
            revision,
            bytes: bytes.length,
            reason: (err as TroupeError).details?.reason as string | undefined,
          },
        },
      );
    }
  }

  /**
   * Runs one turn. True when it finished synchronously (refused, or a handler that returned a plain
   * value to a type without state); false when it goes on asynchronously and calls `next` at the end.
   */
  private runTurn(turn: Turn): boolean {
    const now = performance.now();
    if (this.host.admits && !this.host.admits(this.id, now)) {
      this.settleSafely(turn, {
        ok: false,
        error: new HostShuttingDownError(
          `${this.host.type.name}/${this.id} is no longer served by this host; the call was not executed`,
          { details: { actorType: this.host.type.name, reason: "shard-moved" } },
        ),
      });
      return true;
    }
    if (now > turn.deadline) {
      this.settleSafely(turn, {
        ok: false,
        expired: true,
        error: new DeadlineExceededError(
          `deadline passed before the turn of ${this.host.type.name}.${turn.method ?? "timer"} started`,
          { details: { actorType: this.host.type.name, method: turn.method ?? "timer" } },
        ),
      });
      return true;
    }
    let result: unknown;
    let thenable = false;
    const seq = ++this.turnSeq;
    // Turns never overlap, so the deadline of the turn in progress is simply a field: calls made
    // with this.ref() read it (no AsyncLocalStorage, whose promise hook taxes every promise). It
    // stays set until the handler's promise settles.
    this.turnDeadline = turn.deadline;
    try {
      // Untraced turns call the handler directly; traced ones make the turn's span the active one.
      result = turn.scope ? turn.scope.call(this.invoke, this, turn) : this.invoke(turn);
      thenable = isThenable(result);
      if (thenable) {
        // A hand-made thenable may call back twice, or call back and then throw.
        (result as PromiseLike<unknown>).then(
          (value) => {
            if (!this.takeOutcome(seq)) return;
            if (this.handlerReturned(turn, value)) this.next();
          },
          (err: unknown) => {
            if (!this.takeOutcome(seq)) return;
            this.handlerFailed(turn, err);
            this.next();
          },
        );
      }
    } catch (err) {
      // The handler threw, or returned a thenable whose `then` threw.
      if (thenable && !this.takeOutcome(seq)) return false;
      this.handlerFailed(turn, err);
      return true;
    }
    return thenable ? false : this.handlerReturned(turn, result);
  }

  /** True the first time the outcome of turn `seq` is reported, false for any later report. */
  private takeOutcome(seq: number): boolean {
    if (this.takenSeq === seq) return false;
    this.takenSeq = seq;
    return true;
  }

  private handlerFailed(turn: Turn, thrown: unknown): void {
    this.turnDeadline = Number.POSITIVE_INFINITY;
    this.rollBackSafely();
    this.settleSafely(turn, { ok: false, error: turnError(thrown) });
  }

  /** After the handler: saves the state if it changed, then replies. True if that finished synchronously. */
  private handlerReturned(turn: Turn, value: unknown): boolean {
    this.turnDeadline = Number.POSITIVE_INFINITY;
    if (!this.host.store || !this.host.type.initialState) {
      this.settleSafely(turn, { ok: true, value });
      return true;
    }
    this.saveIfChanged().then(
      () => {
        this.settleSafely(turn, { ok: true, value });
        this.next();
      },
      (err: unknown) => {
        this.settleSafely(turn, { ok: false, error: err });
        if ((err as TroupeError).code === "TROUPE_STALE_ACTIVATION") this.standDown();
        else this.rollBackSafely();
        this.next();
      },
    );
    return false;
  }

  /**
   * Settles a turn; a settle that throws (a reply that cannot be sent) is logged, so one bad reply
   * can never stop the mailbox or crash the process.
   */
  private settleSafely(turn: Turn, outcome: TurnOutcome): void {
    try {
      turn.settle(outcome);
    } catch (err) {
      this.host.logger.error("a turn's outcome could not be delivered", {
        actorType: this.host.type.name,
        actorId: this.id,
        err,
      });
    }
  }

  /**
   * Restores the state after a failed turn. Should that fail (`initialState()` is user code and may
   * throw), the activation is discarded unsaved: its waiting turns go to a fresh activation, which
   * loads the stored state.
   */
  private rollBackSafely(): void {
    try {
      this.rollBack();
    } catch (err) {
      this.status = "failed";
      this.clearTimers();
      this.host.logger.error(
        "the state could not be restored after a failed turn; the activation was discarded unsaved and the next turn loads the stored state",
        { actorType: this.host.type.name, actorId: this.id, err: turnError(err) },
      );
      this.host.onStoodDown(this, this.mailbox.takeAll());
    }
  }

  /** Runs the turn's handler (or timer callback) on the actor instance. */
  private invoke(turn: Turn): unknown {
    if (turn.callback) return turn.callback();
    const instance = this.instance as unknown as Record<string, (...a: unknown[]) => unknown>;
    return (instance[turn.method as string] as (...a: unknown[]) => unknown).apply(instance, turn.args);
  }

  /**
   * Saves the state if its encoding differs from what was last saved or loaded. A state the state
   * decoder would not load again is refused here (`StateNotStorableError`), before anything is
   * written: an acknowledged turn always loads.
   */
  private async saveIfChanged(): Promise<void> {
    const store = this.host.store;
    if (!store || !this.host.type.initialState || !this.instance) return;
    let bytes: Uint8Array | undefined;
    try {
      bytes = encodeStateIfChanged(this.instance.state, this.savedBytes);
    } catch (err) {
      const type = this.host.type.name;
      const details = err instanceof StateNotStorableError ? err.details : {};
      throw new StateNotStorableError(
        `state of ${type}/${this.id} not saved, the turn was rolled back: ${(err as Error).message}`,
        { cause: err, details: { ...details, actorType: type, actorId: this.id } },
      );
    }
    if (!bytes) return;
    this.revision = await store.save(this.id, bytes, this.revision);
    this.savedBytes = bytes;
  }

  /**
   * Restores the last saved (or initial) state after a turn that failed. `savedBytes` passed the
   * state decoder when they were loaded, or its checks when they were saved, so decoding them again
   * does not depend on anything the turn did.
   */
  private rollBack(): void {
    if (!this.host.type.initialState || !this.instance) return;
    this.instance.state = this.savedBytes ? decodeState(this.savedBytes) : this.host.type.initialState();
  }

  /**
   * Ends the activation at once without saving (its shard moved to another host): queued turns
   * are refused unrun with `error`, timers stop. A turn already running finishes, and its save is
   * fenced by the state revision like any other.
   */
  abandon(error: (turn: Turn) => unknown): void {
    if (this.status === "deactivated" || this.status === "stood-down" || this.status === "failed") return;
    this.status = "stood-down";
    this.clearTimers();
    for (const turn of this.mailbox.takeAll()) turn.settle({ ok: false, error: error(turn) });
  }

  private standDown(): void {
    const already = this.status === "stood-down";
    this.status = "stood-down";
    this.clearTimers();
    this.host.logger.warn("activation stood down: its state revision is stale", {
      actorType: this.host.type.name,
      actorId: this.id,
      abandoned: already,
    });
    this.host.onStoodDown(this, this.mailbox.takeAll());
  }

  /**
   * Runs `onDeactivate`, saves, and ends the activation. The catalog calls this only when the
   * activation is not busy; turns that still arrive are refused as the host is shutting down.
   */
  async deactivate(): Promise<void> {
    if (this.status !== "active") return;
    this.status = "deactivating";
    this.clearTimers();
    const instance = this.instance as Actor<unknown>;
    try {
      if (instance.onDeactivate) {
        await instance.onDeactivate?.();
      }
      await this.saveIfChanged();
    } catch (err) {
      this.host.logger.error("deactivation failed; the last saved state stands", {
        actorType: this.host.type.name,
        actorId: this.id,
        err: turnError(err),
      });
    } finally {
      this.status = "deactivated";
      for (const turn of this.mailbox.takeAll()) {
        turn.settle({ ok: false, error: new HostShuttingDownError("the activation was deactivated") });
      }
    }
  }

  /** Resolves when the mailbox is empty and no turn is running. */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters ??= [];
      this.idleWaiters.push(resolve);
    });
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    if (!waiters) return;
    this.idleWaiters = undefined;
    for (const w of waiters) w();
  }

  // ActorContext: the activation is its actor's context (no per-activation context object or
  // closures: idle actors are kept small).

  /** A reference whose calls never outlive the turn that makes them (see Mesh.timeoutFor). */
  ref<A extends ActorShape>(type: ActorClass<A>, id: string, options?: CallOptions): ActorRef<A> {
    return this.host.contextServices.ref(type, id, { ...options, turnDeadline: () => this.turnDeadline });
  }

  enqueue<A extends ActorShape>(type: ActorClass<A>, id: string, options?: EnqueueOptions): EnqueueRef<A> {
    return this.host.contextServices.enqueue(type, id, options);
  }

  publish(topic: string, event: unknown, options?: PublishOptions): Promise<PublishReceipt> {
    return this.host.contextServices.publish(topic, event, options);
  }

  remind(name: string, schedule: ReminderSchedule): Promise<void> {
    return this.host.contextServices.remind(this.host.type.cls, this.id, name, schedule);
  }

  unremind(name: string): Promise<void> {
    return this.host.contextServices.unremind(this.host.type.cls, this.id, name);
  }

  remainingMs(): number {
    return Math.max(0, this.turnDeadline - performance.now());
  }

  /**
   * Arms a timer whose callback runs as a turn. A tick already queued in the mailbox when the timer
   * is cleared or replaced (the clearing turn ran first) does not run: after `clearTimer` returns,
   * its callback never runs again, however far behind the mailbox is.
   */
  setTimer(name: string, delayMs: number, callback: () => unknown, everyMs: number | undefined): void {
    this.clearTimer(name);
    const armed: ArmedTimer = { handle: undefined };
    const live = () => this.timers?.get(name) === armed;
    const fire = () => {
      if (this.status !== "active" || !live()) return;
      if (everyMs !== undefined) armed.handle = setTimeout(fire, everyMs).unref();
      if (this.mailbox.size >= this.mailbox.capacity) {
        if (everyMs === undefined) this.timers?.delete(name);
        repeatsOf(this.host.logger).warn(
          `timer tick skipped:${this.host.type.name}`,
          "timer tick skipped: mailbox full",
          {
            actorType: this.host.type.name,
            actorId: this.id,
            timer: name,
          },
        );
        return;
      }
      this.deliver(
        {
          method: undefined,
          args: [],
          callback: () => {
            if (!live()) return undefined; // cleared or replaced while this tick waited
            if (everyMs === undefined) this.timers?.delete(name);
            return callback();
          },
          deadline: Number.POSITIVE_INFINITY,
          settle: (outcome) => {
            if (!outcome.ok) {
              this.host.logger.error("timer callback failed", {
                actorType: this.host.type.name,
                actorId: this.id,
                timer: name,
                err: outcome.error,
              });
            }
          },
        },
        { countsAsActivity: false },
      );
    };
    armed.handle = setTimeout(fire, delayMs).unref();
    this.timers ??= new Map();
    this.timers.set(name, armed);
  }

  clearTimer(name: string): void {
    const armed = this.timers?.get(name);
    if (armed) {
      clearTimeout(armed.handle);
      this.timers?.delete(name);
    }
  }

  private clearTimers(): void {
    if (!this.timers) return;
    for (const armed of this.timers.values()) clearTimeout(armed.handle);
    this.timers = undefined;
  }
}

/** A timer of an activation: the pending timeout of its next tick (replaced at each tick). */
interface ArmedTimer {
  handle: NodeJS.Timeout | undefined;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}
