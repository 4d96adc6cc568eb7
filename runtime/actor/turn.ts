/**
 * A turn, the unit of work of an activation (a call, a tell, a job, an event, a reminder or a timer
 * tick), its outcome, the checks that refuse it before it starts, and the lifecycle states of an
 * activation (see activation.ts).
 */
import { DeadlineExceededError, HostShuttingDownError } from "../errors.js";
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

/**
 * Why a turn about to start must not run, or undefined if it may: its actor's shard is no longer
 * admitted on this host (`admits`, placement's lease check at `performance.now()`), or its deadline
 * passed while it waited in the mailbox.
 */
export function refusalBeforeStart(
  turn: Turn,
  actorType: string,
  actorId: string,
  admits: ((id: string, now: number) => boolean) | undefined,
): TurnOutcome | undefined {
  const now = performance.now();
  if (admits && !admits(actorId, now)) {
    return {
      ok: false,
      error: new HostShuttingDownError(
        `${actorType}/${actorId} is no longer served by this host; the call was not executed`,
        { details: { actorType, reason: "shard-moved" } },
      ),
    };
  }
  if (now > turn.deadline) {
    const method = turn.method ?? "timer";
    return {
      ok: false,
      expired: true,
      error: new DeadlineExceededError(`deadline passed before the turn of ${actorType}.${method} started`, {
        details: { actorType, method },
      }),
    };
  }
  return undefined;
}
