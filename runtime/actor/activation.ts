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
 *
 * Split by concern: the turn types and the checks before a turn starts are in turn.ts, the side the actor sees (its context: refs,
 * enqueue, publish, reminders, timers) in activation-context.ts and activation-timers.ts, loading
 * and saving the state in activation-state.ts; this file runs the mailbox and the lifecycle.
 */
import { HostShuttingDownError, OverloadedError, type TroupeError } from "../errors.js";
import { ActivationContext, type ContextHost } from "./activation-context.js";
import { StoredState } from "./activation-state.js";
import { type Actor, constructWithContext } from "./actor.js";
import { Mailbox } from "./mailbox.js";
import type { StateStore } from "./state-store.js";
import { type ActivationStatus, refusalBeforeStart, type Turn, type TurnOutcome } from "./turn.js";
import { turnError } from "./turn-error.js";

/** What an activation needs from its catalog. */
export interface ActivationHost extends ContextHost {
  readonly store: StateStore | undefined;
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

export class Activation extends ActivationContext {
  status: ActivationStatus = "created";
  /** `performance.now()` of the last call or tell (timers do not count). */
  lastActive = performance.now();
  private readonly mailbox: Mailbox<Turn>;
  private running = false;
  /** Numbers the turns, so a handler's thenable that reports twice is heard once (`takeOutcome`). */
  private turnSeq = 0;
  private takenSeq = 0;
  private instance: Actor<unknown> | undefined;
  /** Loaded and saved state (stateful types with a store only). */
  private stored: StoredState | undefined;
  private idleWaiters: (() => void)[] | undefined;

  declare protected readonly host: ActivationHost;

  constructor(
    id: string,
    host: ActivationHost,
    /** Resolves when the previous activation of this id finished deactivating. */
    private readonly previous: Promise<void> | undefined,
  ) {
    super(id, host);
    this.mailbox = new Mailbox(host.type.mailboxCapacity);
  }

  get queued(): number {
    return this.mailbox.size;
  }

  /** Whether the mailbox is at capacity (timers skip a tick then). */
  get mailboxFull(): boolean {
    return this.mailbox.size >= this.mailbox.capacity;
  }

  get busy(): boolean {
    return this.running || this.mailbox.size > 0;
  }

  /**
   * Queues a call's or tell's turn, which marks the activation active at `now` (the caller's
   * `performance.now()`, if it has one); refuses with OverloadedError when the mailbox is full.
   * `unbounded`: a turn the runtime must not lose (re-dispatched after a stand-down).
   */
  deliver(turn: Turn, now?: number, unbounded = false): void {
    if (!this.queue(turn, unbounded)) return;
    this.lastActive = now ?? performance.now();
    if (!this.running) this.pump();
  }

  /** Queues a timer's tick: timers do not keep an activation alive, so it is not activity. */
  deliverTick(turn: Turn): void {
    if (this.queue(turn, false) && !this.running) this.pump();
  }

  private queue(turn: Turn, unbounded: boolean): boolean {
    if (unbounded) this.mailbox.pushUnbounded(turn);
    else if (!this.mailbox.push(turn)) {
      turn.settle({
        ok: false,
        error: new OverloadedError(
          `mailbox of ${this.host.type.name}/${this.id} is full (${this.mailbox.capacity} waiting calls)`,
          { details: { actorType: this.host.type.name, actorId: this.id, capacity: this.mailbox.capacity } },
        ),
      });
      return false;
    }
    return true;
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
        this.stored = new StoredState(this.id, type, this.host.store);
        this.instance.state = await this.stored.load();
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

  /**
   * Runs one turn. True when it finished synchronously (refused, or a handler that returned a plain
   * value to a type without state); false when it goes on asynchronously and calls `next` at the end.
   */
  private runTurn(turn: Turn): boolean {
    const refusal = refusalBeforeStart(turn, this.host.type.name, this.id, this.host.admits);
    if (refusal) {
      this.settleSafely(turn, refusal);
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

  /** Saves the state if it changed (see {@link StoredState.saveIfChanged}); stateless types save nothing. */
  private async saveIfChanged(): Promise<void> {
    if (!this.stored || !this.instance) return;
    await this.stored.saveIfChanged(this.instance.state);
  }

  /** Restores the last saved (or initial) state after a turn that failed. */
  private rollBack(): void {
    if (!this.host.type.initialState || !this.instance) return;
    this.instance.state = this.stored ? this.stored.restore() : this.host.type.initialState();
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
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}
