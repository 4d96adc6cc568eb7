/**
 * A turn, the unit of work of an activation (a call, a tell, a job, an event, a reminder or a timer
 * tick), its outcome, and the lifecycle states of an activation (see activation.ts).
 */
import type { TurnScope } from "../interceptors/index.js";

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
