/**
 * Runs a chain of interceptors around a hop. Callers skip this entirely when the chain is empty
 * (the untraced hot path pays nothing for the extension point).
 *
 * Errors: what `next()` rejected with passes through untouched, as does any `TroupeError` an
 * interceptor throws (a short-circuit); anything else an interceptor throws or rejects with becomes
 * an `InterceptorError` naming it, with the original as `cause`, so callers always see a typed
 * error. Calling `next()` twice is refused with an `InterceptorError` (the hop runs once).
 */
import { InterceptorError } from "../errors.js";
import { interceptorFailure } from "./failure.js";
import type { Idling, Interceptor } from "./interceptor.js";
import { beginLinks, NOT_SYNCHRONOUS, runTaken, synchronousNow, type Taken } from "./sync-links.js";

/**
 * The chain a user's list makes: the built-ins it does not name first, in their order, then the
 * list as given (a built-in it names runs where it is named). `useBuiltins` false: the list alone.
 */
export function withBuiltins<I>(builtins: readonly I[], listed: readonly I[], useBuiltins: boolean): I[] {
  if (!useBuiltins) return [...listed];
  return [...builtins.filter((b) => !listed.includes(b)), ...listed];
}

/**
 * The built-ins of a chain that observe every hop (those that may be idle: tracing, metrics), in
 * its order: what a runner's own delivery goes through, the runner having run the whole chain.
 */
export function observersOf<I>(chain: readonly I[]): I[] {
  return chain.filter((i) => typeof (i as Partial<Idling>).idle === "function");
}

/**
 * Whether a chain has nothing to do for this hop: empty, or only built-ins that are idle (see
 * {@link Idling}). Callers skip the chain then, exactly as for an empty one.
 */
export function chainIdle(chain: readonly Interceptor<never>[]): boolean {
  for (let i = 0; i < chain.length; i++) {
    const idle = (chain[i] as Partial<Idling>).idle;
    if (idle === undefined || !idle()) return false;
  }
  return true;
}

/**
 * Marks a built-in link (tracing, metrics): it calls `next()` exactly once and passes on what it
 * rejected with untouched, so the chain runs it without the guards a user's interceptor gets (the
 * double-`next()` check and the wrapping of what it throws), saving two promises and two closures
 * per link on every traced hop.
 */
export const TRUSTED_LINK: unique symbol = Symbol("troupe.trustedLink");

/** A link that carries {@link TRUSTED_LINK}. */
export interface Trusted {
  readonly [TRUSTED_LINK]: true;
}

/**
 * Runs `terminal` (the hop) through `chain`. When every link with work has a synchronous form
 * (sync-links.ts: the built-ins), those run around the hop instead, without the chain's promises.
 */
export function runChain<C>(
  chain: readonly Interceptor<C>[],
  ctx: C,
  terminal: () => Promise<unknown>,
): Promise<unknown> {
  if (synchronousNow(chain) === NOT_SYNCHRONOUS) return link(chain, 0, ctx, terminal);
  let taken: Taken | undefined;
  try {
    taken = beginLinks(chain, ctx);
  } catch (err) {
    return Promise.reject(err);
  }
  return runTaken(taken, terminal);
}

function link<C>(
  chain: readonly Interceptor<C>[],
  index: number,
  ctx: C,
  terminal: () => Promise<unknown>,
): Promise<unknown> {
  while (index < chain.length && (chain[index] as Partial<Idling>).idle?.() === true) index++;
  if (index >= chain.length) return terminal();
  const interceptor = chain[index] as Interceptor<C>;
  if ((interceptor as Partial<Trusted>)[TRUSTED_LINK] === true) {
    try {
      return interceptor(ctx, () => link(chain, index + 1, ctx, terminal));
    } catch (err) {
      return Promise.reject(interceptorFailure(err, interceptor, index));
    }
  }
  let called = false;
  let passedOn: unknown = noError;
  const next = (): Promise<unknown> => {
    if (called) {
      return Promise.reject(
        new InterceptorError(`interceptor ${nameOf(interceptor, index)} called next() twice`, {
          details: { interceptor: nameOf(interceptor, index) },
        }),
      );
    }
    called = true;
    return link(chain, index + 1, ctx, terminal).catch((err: unknown) => {
      passedOn = err;
      throw err;
    });
  };
  let out: Promise<unknown>;
  try {
    out = Promise.resolve(interceptor(ctx, next));
  } catch (err) {
    out = Promise.reject(err);
  }
  return out.catch((err: unknown) => {
    if (err === passedOn) throw err;
    throw interceptorFailure(err, interceptor, index);
  });
}

const noError = Symbol("no error");

function nameOf(fn: { name: string }, index: number): string {
  return fn.name || `#${index}`;
}
