/**
 * A host group's scaling policy: the bounds and targets the decision function works within. Groups
 * nobody configured get {@link DEFAULT_GROUP_POLICY}.
 *
 * @example
 * ```ts
 * const orders = groupPolicy({ group: "orders", minHosts: 1, maxHosts: 8, targetDrainMs: 10_000 });
 * ```
 */
import { ConfigurationError } from "troupe";

export interface GroupPolicy {
  readonly group: string;
  /** Never recommend fewer hosts (0 allows scale to zero: KEDA's `minReplicaCount: 0`). */
  readonly minHosts: number;
  /** Never recommend more hosts. */
  readonly maxHosts: number;
  /** The backlog should drain within this long (on top of keeping up with arrivals). */
  readonly targetDrainMs: number;
  /** Before any completion rate is known: one host per this many waiting jobs. */
  readonly targetBacklogPerHost: number;
  /** Calls waiting in mailboxes one host should carry at most. */
  readonly targetMailboxPerHost: number;
  /** Jobs one host runs at once per type (the job runner's capacity; 16 by default). */
  readonly jobsPerHost: number;
  /** Scale-down takes the highest recommendation of this window (HPA's default: 300 s). */
  readonly scaleDownWindowMs: number;
  /** Scale-up takes the lowest recommendation of this window (0: at once). */
  readonly scaleUpWindowMs: number;
  /** A queue with a backlog and no completion for this long counts as stuck: no hosts added for it. */
  readonly stuckAfterMs: number;
  /** Job types of the group even while none of its hosts runs (scale from zero). */
  readonly types: readonly string[];
}

export const DEFAULT_GROUP = "default";

export const DEFAULT_GROUP_POLICY: Omit<GroupPolicy, "group"> = {
  minHosts: 1,
  maxHosts: 10,
  targetDrainMs: 30_000,
  targetBacklogPerHost: 100,
  targetMailboxPerHost: 100,
  jobsPerHost: 16,
  scaleDownWindowMs: 300_000,
  scaleUpWindowMs: 0,
  stuckAfterMs: 60_000,
  types: [],
};

const GROUP_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** True for a valid group name: 1-64 letters, digits, "_" or "-". */
export function isGroupName(name: string): boolean {
  return GROUP_NAME.test(name);
}

/** A complete, validated policy from a partial one; throws ConfigurationError naming the field. */
export function groupPolicy(input: Partial<GroupPolicy> & { group: string }): GroupPolicy {
  const policy: GroupPolicy = { ...DEFAULT_GROUP_POLICY, ...input };
  if (!isGroupName(policy.group)) {
    throw new ConfigurationError(
      `scaling group "${policy.group}": a name is 1-64 letters, digits, "_" or "-"`,
    );
  }
  const whole = (field: keyof GroupPolicy, min: number) => {
    const v = policy[field];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      throw new ConfigurationError(
        `scaling group ${policy.group}: ${field} must be a whole number >= ${min}, got ${String(v)}`,
      );
    }
  };
  whole("minHosts", 0);
  whole("maxHosts", 1);
  whole("targetDrainMs", 1);
  whole("targetBacklogPerHost", 1);
  whole("targetMailboxPerHost", 1);
  whole("jobsPerHost", 1);
  whole("scaleDownWindowMs", 0);
  whole("scaleUpWindowMs", 0);
  whole("stuckAfterMs", 1);
  if (policy.minHosts > policy.maxHosts) {
    throw new ConfigurationError(
      `scaling group ${policy.group}: minHosts (${policy.minHosts}) is above maxHosts (${policy.maxHosts})`,
    );
  }
  return policy;
}

/**
 * Parses the command line form `orders:min=1,max=4,drain=10s,down=60s,types=Report+Mail`
 * (keys: min, max, drain, backlog, mailbox, jobs, down, up, stuck, types; durations in ms or with
 * an `s` suffix).
 */
export function parseGroupPolicy(text: string): GroupPolicy {
  const [group = "", rest = ""] = text.split(":", 2);
  const fields: Partial<Record<keyof GroupPolicy, unknown>> = {};
  const keys: Record<string, keyof GroupPolicy> = {
    min: "minHosts",
    max: "maxHosts",
    drain: "targetDrainMs",
    backlog: "targetBacklogPerHost",
    mailbox: "targetMailboxPerHost",
    jobs: "jobsPerHost",
    down: "scaleDownWindowMs",
    up: "scaleUpWindowMs",
    stuck: "stuckAfterMs",
  };
  for (const part of rest.split(",").filter(Boolean)) {
    const [key = "", value = ""] = part.split("=", 2);
    if (key === "types") {
      fields.types = value.split("+").filter(Boolean);
      continue;
    }
    const field = keys[key];
    if (!field) {
      throw new ConfigurationError(
        `scaling group "${text}": unknown key "${key}" (expected ${[...Object.keys(keys), "types"].join(", ")})`,
      );
    }
    const seconds = field.endsWith("Ms") && value.endsWith("s") && !value.endsWith("ms");
    const n = Number(seconds ? value.slice(0, -1) : value.replace(/ms$/, ""));
    fields[field] = seconds ? n * 1000 : n;
  }
  return groupPolicy({ ...(fields as Partial<GroupPolicy>), group });
}
