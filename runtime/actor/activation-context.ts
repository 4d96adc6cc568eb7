/**
 * The side of an activation its actor sees (`ActorContext`): references whose calls never outlive
 * the turn, enqueue, publish, reminders, timers and the turn's remaining time. A base class of
 * `Activation` (activation.ts), not an object of its own: the activation is its actor's context,
 * with no per-activation context object or closures, so idle actors are kept small.
 */
import type { Logger } from "../log.js";
import { ActivationTimers, type TimerOwner } from "./activation-timers.js";
import type { ActorContext, ContextServices } from "./actor-context.js";
import type { ActorClass, ActorRef, CallOptions } from "./actor-ref.js";
import type { ActorShape } from "./actor-shape.js";
import type { ActorType } from "./actor-type.js";
import type {
  EnqueueOptions,
  EnqueueRef,
  PublishOptions,
  PublishReceipt,
  ReminderSchedule,
} from "./services.js";
import type { ActivationStatus, Turn } from "./turn.js";

/** What the context side of an activation needs from its catalog. */
export interface ContextHost {
  readonly type: ActorType;
  readonly logger: Logger;
  readonly contextServices: ContextServices;
}

export abstract class ActivationContext implements ActorContext, TimerOwner {
  /** `performance.now()` deadline of the turn in progress (Infinity between turns and in hooks). */
  protected turnDeadline = Number.POSITIVE_INFINITY;
  private timers: ActivationTimers | undefined;

  constructor(
    readonly id: string,
    protected readonly host: ContextHost,
  ) {}

  abstract readonly status: ActivationStatus;
  abstract readonly mailboxFull: boolean;
  abstract deliverTick(turn: Turn): void;

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

  /** Arms a timer whose callback runs as a turn (see {@link ActivationTimers.set}). */
  setTimer(name: string, delayMs: number, callback: () => unknown, everyMs: number | undefined): void {
    this.timers ??= new ActivationTimers(this, this.host);
    this.timers.set(name, delayMs, callback, everyMs);
  }

  clearTimer(name: string): void {
    this.timers?.clear(name);
  }

  protected clearTimers(): void {
    if (!this.timers) return;
    this.timers.clearAll();
    this.timers = undefined;
  }
}
