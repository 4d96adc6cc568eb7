/**
 * The timers of one activation (`this.setTimer` in an actor): each tick is queued as a turn of the
 * activation, so a callback never runs beside a handler. Timers live with the activation: they
 * stop when it deactivates and do not keep it alive (a tick does not count as activity).
 */
import { type Logger, repeatsOf } from "../log.js";
import type { ActorType } from "./actor-type.js";
import type { ActivationStatus, Turn } from "./turn.js";

/** What the timers need from their activation. */
export interface TimerOwner {
  readonly id: string;
  readonly status: ActivationStatus;
  /** Whether the mailbox is at capacity (a tick is then skipped, not queued). */
  readonly mailboxFull: boolean;
  /** Queues a tick (not counted as activity: timers do not keep an activation alive). */
  deliverTick(turn: Turn): void;
}

/** A timer of an activation: the pending timeout of its next tick (replaced at each tick). */
interface ArmedTimer {
  handle: NodeJS.Timeout | undefined;
}

export class ActivationTimers {
  private readonly timers = new Map<string, ArmedTimer>();

  constructor(
    private readonly owner: TimerOwner,
    private readonly host: { readonly type: ActorType; readonly logger: Logger },
  ) {}

  /**
   * Arms a timer whose callback runs as a turn. A tick already queued in the mailbox when the timer
   * is cleared or replaced (the clearing turn ran first) does not run: after `clear` returns, its
   * callback never runs again, however far behind the mailbox is.
   */
  set(name: string, delayMs: number, callback: () => unknown, everyMs: number | undefined): void {
    this.clear(name);
    const armed: ArmedTimer = { handle: undefined };
    const live = () => this.timers.get(name) === armed;
    const fire = () => {
      if (this.owner.status !== "active" || !live()) return;
      if (everyMs !== undefined) armed.handle = setTimeout(fire, everyMs).unref();
      if (this.owner.mailboxFull) {
        if (everyMs === undefined) this.timers.delete(name);
        repeatsOf(this.host.logger).warn(
          `timer tick skipped:${this.host.type.name}`,
          "timer tick skipped: mailbox full",
          {
            actorType: this.host.type.name,
            actorId: this.owner.id,
            timer: name,
          },
        );
        return;
      }
      this.owner.deliverTick({
        method: undefined,
        args: [],
        callback: () => {
          if (!live()) return undefined; // cleared or replaced while this tick waited
          if (everyMs === undefined) this.timers.delete(name);
          return callback();
        },
        deadline: Number.POSITIVE_INFINITY,
        settle: (outcome) => {
          if (!outcome.ok) {
            this.host.logger.error("timer callback failed", {
              actorType: this.host.type.name,
              actorId: this.owner.id,
              timer: name,
              err: outcome.error,
            });
          }
        },
      });
    };
    armed.handle = setTimeout(fire, delayMs).unref();
    this.timers.set(name, armed);
  }

  clear(name: string): void {
    const armed = this.timers.get(name);
    if (armed) {
      clearTimeout(armed.handle);
      this.timers.delete(name);
    }
  }

  /** Stops every timer: a tick still queued does not run its callback. */
  clearAll(): void {
    for (const armed of this.timers.values()) clearTimeout(armed.handle);
    this.timers.clear();
  }
}
