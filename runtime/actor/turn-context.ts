/**
 * The turn an actor is executing, visible to code that runs inside it (through async hops), so that
 * calls made from a turn inherit its deadline.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface TurnContext {
  /** `performance.now()` value after which the turn's caller no longer waits. */
  readonly deadline: number;
}

const storage = new AsyncLocalStorage<TurnContext>();

export function runInTurn<T>(ctx: TurnContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentTurn(): TurnContext | undefined {
  return storage.getStore();
}

/** Milliseconds left in the current turn, or Infinity outside one. */
export function remainingInTurn(): number {
  const t = storage.getStore();
  return t ? Math.max(0, t.deadline - performance.now()) : Number.POSITIVE_INFINITY;
}
