/**
 * Runs a chain of interceptors around a hop. Callers skip this entirely when the chain is empty
 * (the untraced hot path pays nothing for the extension point).
 *
 * Errors: what `next()` rejected with passes through untouched, as does any `TroupeError` an
 * interceptor throws (a short-circuit); anything else an interceptor throws or rejects with becomes
 * an `InterceptorError` naming it, with the original as `cause`, so callers always see a typed
 * error. Calling `next()` twice is refused with an `InterceptorError` (the hop runs once).
 */
import { InterceptorError, TroupeError } from "../errors.js";
import type { Interceptor } from "./interceptor.js";

export function runChain<C>(
  chain: readonly Interceptor<C>[],
  ctx: C,
  terminal: () => Promise<unknown>,
): Promise<unknown> {
  return link(chain, 0, ctx, terminal);
}

function link<C>(
  chain: readonly Interceptor<C>[],
  index: number,
  ctx: C,
  terminal: () => Promise<unknown>,
): Promise<unknown> {
  if (index >= chain.length) return terminal();
  const interceptor = chain[index] as Interceptor<C>;
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
    if (err === passedOn || err instanceof TroupeError) throw err;
    const name = nameOf(interceptor, index);
    throw new InterceptorError(
      `interceptor ${name} failed: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err, details: { interceptor: name } },
    );
  });
}

const noError = Symbol("no error");

function nameOf(fn: { name: string }, index: number): string {
  return fn.name || `#${index}`;
}
