/**
 * Which turns a policy applies to, and the key it counts them under.
 *
 * A turn matches when its hop is in `match.hops` (empty: call and tell) and each non-empty glob
 * list has an entry matching the turn's attested user, caller, tenant, actor type and method. A
 * turn without a user (caller, tenant) matches a users (callers, tenants) list only through a `*`
 * entry. `callers` globs see the self-asserted caller as sent; `users` the attested NATS user
 * (docs/patterns/throttling.md, "Who is calling"). The key is the value named by `key_by` ("" for
 * KEY_BY_NONE; a missing user, caller or tenant counts as ""; KEY_BY_CALLER on a turn with a user
 * counts `<user>/<caller>`, so a caller never shares a key with another user's); for
 * KEY_BY_FUNCTION, what the registered key function named by `key_function` returns for the turn
 * (a missing function, a throw or a non-string: "").
 */
import { qualifiedCaller } from "../messaging/index.js";
import { compileGlobs, type Matcher } from "./glob.js";
import { DEFAULT_HOPS, type Hop, type Policy } from "./policy.js";

/** What the enforcer knows about a turn (the inbound interceptor's context has all of it). */
export interface ThrottleInput {
  /** Self-asserted (`clientId`, a call's `caller`, the gateway's principal). */
  caller?: string | undefined;
  /** Attested: the NATS user the reply subject names, on hosts with `userFromInbox`. */
  user?: string | undefined;
  tenant?: string | undefined;
  actorType: string;
  method: string;
  hop: Hop;
  /** The turn's headers (what a key function reads, e.g. a tier the caller's interceptor set). */
  headers?: { get(name: string): string | undefined } | undefined;
}

/**
 * A user key function: the key a KEY_BY_FUNCTION policy counts the turn under (e.g. the caller's
 * tier from a header). Synchronous, cheap, never I/O: it runs on every matching turn.
 */
export type ThrottleKeyFunction = (input: Readonly<ThrottleInput>) => string | undefined;

/** Longest key a key function may return; longer ones are cut (keys are reported to the control plane). */
export const MAX_FUNCTION_KEY_LENGTH = 256;

export interface CompiledMatch {
  matches(input: ThrottleInput): boolean;
  keyOf(input: ThrottleInput): string;
}

export function compileMatch(
  policy: Policy,
  keyFunctions: ReadonlyMap<string, ThrottleKeyFunction> = new Map(),
): CompiledMatch {
  const match = policy.match ?? {
    callers: [],
    tenants: [],
    actorTypes: [],
    methods: [],
    hops: [],
    users: [],
  };
  const hops = new Set<string>(match.hops.length > 0 ? match.hops : DEFAULT_HOPS);
  const callers = optionalMatcher(match.callers);
  const users = optionalMatcher(match.users ?? []);
  const tenants = optionalMatcher(match.tenants);
  const actorTypes = compileGlobs(match.actorTypes);
  const methods = compileGlobs(match.methods);
  const keyOf = keyFunction(policy, keyFunctions);
  return {
    matches: (input) =>
      hops.has(input.hop) &&
      actorTypes(input.actorType) &&
      methods(input.method) &&
      callers(input.caller) &&
      users(input.user) &&
      tenants(input.tenant),
    keyOf,
  };
}

function optionalMatcher(globs: readonly string[]): (value: string | undefined) => boolean {
  if (globs.length === 0) return () => true;
  const m: Matcher = compileGlobs(globs);
  const wildcard = globs.includes("*");
  return (value) => (value === undefined ? wildcard : m(value));
}

function keyFunction(
  policy: Policy,
  keyFunctions: ReadonlyMap<string, ThrottleKeyFunction>,
): (input: ThrottleInput) => string {
  switch (policy.keyBy) {
    case "KEY_BY_CALLER":
      return (input) => qualifiedCaller(input.user, input.caller) ?? "";
    case "KEY_BY_USER":
      return (input) => input.user ?? "";
    case "KEY_BY_TENANT":
      return (input) => input.tenant ?? "";
    case "KEY_BY_ACTOR_TYPE":
      return (input) => input.actorType;
    case "KEY_BY_METHOD":
      return (input) => input.method;
    case "KEY_BY_FUNCTION": {
      const fn = keyFunctions.get(policy.keyFunction);
      if (!fn) return () => "";
      return (input) => {
        try {
          const key = fn(input);
          return typeof key === "string" ? key.slice(0, MAX_FUNCTION_KEY_LENGTH) : "";
        } catch {
          return "";
        }
      };
    }
    default:
      return () => "";
  }
}
