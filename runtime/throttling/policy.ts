/**
 * Throttle policies: their shape is the proto's (`protos/troupe/v1/policy.proto`, generated types in
 * runtime/protos), and {@link validatePolicy} is the one place that decides what a valid policy is,
 * used by the control plane (API input, stored records) and by hosts (shares they receive).
 *
 * Rules (field names as in the proto):
 * - `name`: 1-64 characters of a-z, 0-9, "-", "_", starting with a letter or digit.
 * - `match.*`: at most 100 globs per list, each 1-256 characters; `match.hops` only
 *   call|tell|job|event|reminder (empty = call and tell).
 * - `limit`: `rate_per_second` and/or `max_concurrency` above 0; `burst` only with a rate
 *   (0 = the rate rounded up); all finite and at most 1e9.
 * - `key_by`: one of the KeyBy values; `description` at most 1024 characters.
 * - `key_function`: with KEY_BY_FUNCTION, the name of a registered key function (name rules);
 *   otherwise empty.
 */
import type { KeyBy, Limit__Output, ThrottlePolicy__Output } from "../protos/index.js";
import { InvalidPolicyError } from "./errors.js";

export type Policy = ThrottlePolicy__Output;
export type PolicyLimit = Limit__Output;

export const HOPS = ["call", "tell", "job", "event", "reminder"] as const;
export type Hop = (typeof HOPS)[number];
/** The hops a policy with an empty `match.hops` applies to. */
export const DEFAULT_HOPS: readonly Hop[] = ["call", "tell"];

export const KEY_BYS: readonly KeyBy[] = [
  "KEY_BY_NONE",
  "KEY_BY_CALLER",
  "KEY_BY_TENANT",
  "KEY_BY_ACTOR_TYPE",
  "KEY_BY_METHOD",
  "KEY_BY_FUNCTION",
  "KEY_BY_USER",
];

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MAX_GLOBS = 100;
const MAX_GLOB_LENGTH = 256;
const MAX_LIMIT = 1e9;
const MATCH_LISTS = [
  ["callers", "callers"],
  ["tenants", "tenants"],
  ["actorTypes", "actor_types"],
  ["methods", "methods"],
  ["hops", "hops"],
  ["users", "users"],
] as const;

/** Checks a policy name (also used for lookups and deletes). */
export function validatePolicyName(name: unknown, field = "name"): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw InvalidPolicyError.of(
      field,
      `must be 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit (got ${JSON.stringify(name)})`,
    );
  }
  return name;
}

/**
 * Returns the policy in normal form (every field present, burst filled in, revision as given) or
 * throws {@link InvalidPolicyError} naming the first wrong field. Input is untrusted.
 */
export function validatePolicy(raw: unknown, field = "policy"): Policy {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw InvalidPolicyError.of(field, "must be an object");
  }
  const p = raw as Record<string, unknown>;
  const name = validatePolicyName(p.name);
  const matchRaw = p.match ?? {};
  if (typeof matchRaw !== "object" || matchRaw === null || Array.isArray(matchRaw)) {
    throw InvalidPolicyError.of("match", "must be an object");
  }
  const m = matchRaw as Record<string, unknown>;
  const lists: Record<string, string[]> = {};
  for (const [key, protoName] of MATCH_LISTS) {
    lists[key] = globList(m[key], `match.${protoName}`);
  }
  for (const hop of lists.hops ?? []) {
    if (!(HOPS as readonly string[]).includes(hop)) {
      throw InvalidPolicyError.of("match.hops", `"${hop}" is not one of ${HOPS.join(", ")}`);
    }
  }
  const limit = validateLimit(p.limit, "limit");
  if (limit.ratePerSecond === 0 && limit.maxConcurrency === 0) {
    throw InvalidPolicyError.of("limit", "set rate_per_second and/or max_concurrency above 0");
  }
  const keyBy = p.keyBy ?? "KEY_BY_NONE";
  if (typeof keyBy !== "string" || !(KEY_BYS as readonly string[]).includes(keyBy)) {
    throw InvalidPolicyError.of(
      "key_by",
      `must be one of ${KEY_BYS.join(", ")} (got ${JSON.stringify(keyBy)})`,
    );
  }
  const keyFunction = p.keyFunction ?? "";
  if (keyBy === "KEY_BY_FUNCTION") validatePolicyName(keyFunction, "key_function");
  else if (keyFunction !== "") {
    throw InvalidPolicyError.of("key_function", "is only for key_by KEY_BY_FUNCTION");
  }
  const description = p.description ?? "";
  if (typeof description !== "string" || description.length > 1024) {
    throw InvalidPolicyError.of("description", "must be a string of at most 1024 characters");
  }
  const revision = Number(p.revision ?? 0);
  return {
    name,
    match: {
      callers: lists.callers ?? [],
      tenants: lists.tenants ?? [],
      actorTypes: lists.actorTypes ?? [],
      methods: lists.methods ?? [],
      hops: lists.hops ?? [],
      users: lists.users ?? [],
    },
    limit,
    keyBy: keyBy as KeyBy,
    keyFunction: keyFunction as string,
    description,
    revision: Number.isSafeInteger(revision) && revision >= 0 ? revision : 0,
  };
}

/**
 * Checks a limit (a policy's, or a share of one). `burst` 0 with a rate becomes the rate rounded
 * up; a burst without a rate is refused.
 */
export function validateLimit(raw: unknown, field: string): PolicyLimit {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw InvalidPolicyError.of(field, "is required (rate_per_second, burst, max_concurrency)");
  }
  const l = raw as Record<string, unknown>;
  const ratePerSecond = number(l.ratePerSecond ?? 0, `${field}.rate_per_second`, false);
  const burst = number(l.burst ?? 0, `${field}.burst`, true);
  const maxConcurrency = number(l.maxConcurrency ?? 0, `${field}.max_concurrency`, true);
  if (burst > 0 && ratePerSecond === 0) {
    throw InvalidPolicyError.of(`${field}.burst`, "needs a rate_per_second above 0");
  }
  return { ratePerSecond, burst: burst || Math.ceil(ratePerSecond), maxConcurrency };
}

function number(value: unknown, field: string, integer: boolean): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_LIMIT) {
    throw InvalidPolicyError.of(
      field,
      `must be a finite number from 0 to ${MAX_LIMIT} (got ${String(value)})`,
    );
  }
  if (integer && !Number.isInteger(value)) throw InvalidPolicyError.of(field, `must be a whole number`);
  return value;
}

function globList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw InvalidPolicyError.of(field, "must be a list of strings");
  if (value.length > MAX_GLOBS) throw InvalidPolicyError.of(field, `has more than ${MAX_GLOBS} entries`);
  return value.map((entry, i) => {
    if (typeof entry !== "string" || entry.length === 0 || entry.length > MAX_GLOB_LENGTH) {
      throw InvalidPolicyError.of(`${field}[${i}]`, `must be a string of 1-${MAX_GLOB_LENGTH} characters`);
    }
    return entry;
  });
}
