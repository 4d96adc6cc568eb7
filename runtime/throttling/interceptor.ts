/**
 * The enforcer as an inbound interceptor: a turn over its limit is refused with `ThrottledError`
 * before it runs; an admitted turn frees its concurrency slot when it ends. It carries a
 * synchronous `admit` (interceptors/admission.ts): a host whose only interceptor it is admits
 * turns without the chain's promises, the slot freed when the turn settles. Its check reads the
 * part of the inbound context `ThrottledTurn` names (hop kind, actor type, method, caller,
 * headers):
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
import { type AdmittingInterceptor, admissionInterceptor } from "../interceptors/index.js";
import type { LocalEnforcer } from "./enforcer.js";
import type { Hop } from "./policy.js";

/** What the interceptor reads from a turn's context. */
export interface ThrottledTurn {
  readonly kind: Hop;
  readonly actorType: string;
  readonly method: string;
  readonly caller: string | undefined;
  readonly user?: string | undefined;
  readonly headers?: { get(name: string): string | undefined };
}

export const DEFAULT_TENANT_HEADER = "x-tenant";

/**
 * The enforcer as an inbound interceptor carrying its synchronous `admit` (a host whose only
 * interceptor this is admits turns without the chain's promises: see docs/interceptors.md).
 */
export function throttlingInterceptor(
  enforcer: LocalEnforcer,
  options: { tenantHeader?: string } = {},
): AdmittingInterceptor {
  const tenantHeader = (options.tenantHeader ?? DEFAULT_TENANT_HEADER).toLowerCase();
  return admissionInterceptor(function throttling(turn: ThrottledTurn) {
    return enforcer.admit({
      caller: turn.caller,
      user: turn.user,
      tenant: turn.headers?.get(tenantHeader) || undefined,
      actorType: turn.actorType,
      method: turn.method,
      hop: turn.kind,
      headers: turn.headers,
    });
  });
}
