/**
 * The enforcer as an inbound interceptor: a turn over its limit is refused with `ThrottledError`
 * before it runs; an admitted turn frees its concurrency slot when it ends. Typed structurally on
 * the part of the inbound context it reads (hop kind, actor type, method, caller, headers), so it
 * plugs into the interceptor pipeline as is:
 *
 * @example
 * ```ts
 * const enforcer = new LocalEnforcer(logger);
 * new HostChannelClient({ hostId, enforcer, logger }).start();
 * await mesh.host([Cart], { interceptors: [throttlingInterceptor(enforcer)] });
 * ```
 *
 * The tenant comes from the `x-tenant` header (the gateway's tenant router sets it) unless
 * `tenantHeader` says otherwise. Jobs and events: the runner should hold a refused message back
 * (Nak with the error's `retryAfterMs`) rather than count it as a failed attempt.
 */
import type { LocalEnforcer } from "./enforcer.js";
import type { Hop } from "./policy.js";

/** What the interceptor reads from a turn's context. */
export interface ThrottledTurn {
  readonly kind: Hop;
  readonly actorType: string;
  readonly method: string;
  readonly caller: string | undefined;
  readonly headers?: { get(name: string): string | undefined };
}

export const DEFAULT_TENANT_HEADER = "x-tenant";

export function throttlingInterceptor(
  enforcer: LocalEnforcer,
  options: { tenantHeader?: string } = {},
): (ctx: ThrottledTurn, next: () => Promise<unknown>) => Promise<unknown> {
  const tenantHeader = (options.tenantHeader ?? DEFAULT_TENANT_HEADER).toLowerCase();
  return (ctx, next) => {
    const decision = enforcer.decide({
      caller: ctx.caller,
      tenant: ctx.headers?.get(tenantHeader) || undefined,
      actorType: ctx.actorType,
      method: ctx.method,
      hop: ctx.kind,
      headers: ctx.headers,
    });
    if (!decision.allowed) return Promise.reject(decision.error);
    let outcome: Promise<unknown>;
    try {
      outcome = next();
    } catch (err) {
      decision.release();
      throw err;
    }
    return outcome.finally(() => decision.release());
  };
}
