/** How a chain reports what an interceptor threw itself (not what it passed on from `next()`). */
import { InterceptorError, TroupeError } from "../errors.js";

/** What an interceptor threw itself, as the caller sees it: a `TroupeError` as is, else wrapped. */
export function interceptorFailure(err: unknown, interceptor: { name: string }, index: number): unknown {
  if (err instanceof TroupeError) return err;
  const name = interceptor.name || `#${index}`;
  return new InterceptorError(
    `interceptor ${name} failed: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err, details: { interceptor: name } },
  );
}
