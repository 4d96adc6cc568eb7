/**
 * The scaling decision of one host group: how many hosts it should have, and why.
 *
 * `recommend()` is a pure function of the policy and one sample of the group's load. The
 * {@link ScalingDecider} adds what needs memory, as Kubernetes' HPA does: stabilization windows
 * (scale up to the lowest recommendation of the up-window, at once by default; scale down only to
 * the highest recommendation of the down-window, so a dip does not remove hosts), the last known
 * per-host throughput, and how long each queue has made no progress (a stuck consumer). Like the
 * HPA's initial recommendation, the hosts running count as a recommendation during the decider's
 * first down-window (the most seen then, up to max: hosts reconnect to a restarted control plane one
 * by one): a control plane that just started (a restart, a rollout, a new replica) has no history
 * and no rates yet, and must not remove hosts before a window has passed.
 *
 * Per queue (a job type's durable consumer): backlog b = pending + ack-pending, arrivals a/s,
 * completions c/s. A host's throughput comes from Little's law: jobs in flight = rate × time per
 * job, so one host running `jobsPerHost` at once completes `jobsPerHost × c / ackPending` per
 * second (that is c/hosts when they are saturated, more when they idle). Hosts needed:
 * ceil((a + b / targetDrain) / perHost). The group needs the most any of its queues needs, at
 * least what the calls waiting in mailboxes need, and never fewer than the jobs in flight need
 * (removing a host would hand its jobs back); all within min/max.
 *
 * Signals KEDA's own scaler cannot see: a queue whose backlog has completed nothing for
 * `stuckAfterMs` adds no hosts (more consumers do not fix a stuck one), and a group whose hosts
 * refuse turns for throttling adds none either (a cluster-wide limit does not grow with hosts).
 */
import type { GroupPolicy } from "./policy.js";

export interface QueueSample {
  /** e.g. "jobs.Report". */
  readonly name: string;
  readonly pending: number;
  readonly ackPending: number;
  readonly arrivalPerSecond: number;
  readonly completionPerSecond: number;
  /** How long the oldest stored job has waited; 0 when none. */
  readonly oldestWaitMs: number;
}

export interface HostSample {
  readonly hostId: string;
  readonly mailboxDepth: number;
  readonly turnsInFlight: number;
  readonly throttledPerSecond: number;
  /** Process CPU since its previous report (1 = one core). */
  readonly cpu: number;
  readonly draining: boolean;
  /** Jobs it runs at once per type, as it reported (0 or absent: unknown, the policy's jobsPerHost). */
  readonly jobCapacity?: number;
}

export interface GroupSample {
  readonly queues: readonly QueueSample[];
  readonly hosts: readonly HostSample[];
}

export type LimitedBy = "" | "min" | "max" | "stabilization" | "stuck" | "throttled" | "in-flight";

export interface Recommendation {
  /** Within min/max, before stabilization. */
  readonly hosts: number;
  readonly reason: string;
  readonly limitedBy: LimitedBy;
  /** Hosts the jobs in flight need (the floor of a scale-down). */
  readonly inFlightFloor: number;
}

export interface ScalingDecision extends Recommendation {
  readonly group: string;
  readonly currentHosts: number;
  readonly rawHosts: number;
  readonly desiredHosts: number;
  readonly active: boolean;
  readonly minHosts: number;
  readonly maxHosts: number;
  readonly backlog: number;
  readonly arrivalPerSecond: number;
  readonly completionPerSecond: number;
  readonly oldestWaitMs: number;
  readonly mailboxDepth: number;
  readonly turnsInFlight: number;
  readonly throttledPerSecond: number;
  readonly cpu: number;
  readonly sample: GroupSample;
  /** Monotonic time of the decision. */
  readonly atMs: number;
}

/** What the decider remembers about one queue between samples. */
export interface QueueMemory {
  /** Jobs per second one host completed when last measurable. */
  readonly perHostRate: number | undefined;
  /** Since when a backlog has seen no completion; undefined while it progresses. */
  readonly noProgressSinceMs: number | undefined;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const fmtRate = (n: number) => (n >= 10 ? fmt(n) : n.toFixed(1));
const fmtSeconds = (ms: number) => `${ms >= 10_000 ? fmt(ms / 1000) : (ms / 1000).toFixed(1)} s`;

/** Jobs one host runs at once per type: what the hosts report, else the policy's figure. */
export function jobsPerHostOf(policy: GroupPolicy, sample: GroupSample): number {
  const reported = sample.hosts.map((h) => h.jobCapacity ?? 0).filter((c) => c > 0);
  if (reported.length === 0) return policy.jobsPerHost;
  return reported.reduce((a, b) => a + b, 0) / reported.length;
}

/** Live, non-draining hosts: the group's current size. */
export function currentHostsOf(sample: GroupSample): number {
  return sample.hosts.filter((h) => !h.draining).length;
}

/**
 * The pure recommendation for one sample. `memory` holds each queue's remembered throughput and
 * progress (see {@link ScalingDecider}); `nowMs` is only compared with it.
 */
export function recommend(
  policy: GroupPolicy,
  sample: GroupSample,
  memory: ReadonlyMap<string, QueueMemory>,
  nowMs: number,
): Recommendation {
  const current = currentHostsOf(sample);
  const working = Math.max(1, sample.hosts.length);
  const jobsPerHost = jobsPerHostOf(policy, sample);
  const drainS = policy.targetDrainMs / 1000;
  let best = { hosts: 0, reason: "no backlog and no calls waiting" };
  let floor = 0;
  const stuck: string[] = [];
  for (const q of sample.queues) {
    const backlog = q.pending + q.ackPending;
    const mem = memory.get(q.name);
    if (
      backlog > 0 &&
      mem?.noProgressSinceMs !== undefined &&
      nowMs - mem.noProgressSinceMs >= policy.stuckAfterMs
    ) {
      stuck.push(
        `${q.name}: backlog ${fmt(backlog)} with no completion for ${fmtSeconds(nowMs - mem.noProgressSinceMs)}`,
      );
      // One host keeps pulling, so recovery shows; more would not help a stuck consumer.
      if (best.hosts < 1) best = { hosts: 1, reason: `${q.name} looks stuck` };
      continue;
    }
    floor = Math.max(floor, Math.ceil(q.ackPending / jobsPerHost));
    if (backlog === 0 && q.arrivalPerSecond === 0) continue;
    const perHost = perHostRateOf(jobsPerHost, q, working) ?? mem?.perHostRate;
    let hosts: number;
    let reason: string;
    if (perHost === undefined || perHost <= 0) {
      hosts = Math.ceil(backlog / policy.targetBacklogPerHost);
      reason = `${q.name}: backlog ${fmt(backlog)}, no completion rate yet; ${fmt(policy.targetBacklogPerHost)} per host → ${hosts}`;
    } else {
      const need = q.arrivalPerSecond + backlog / drainS;
      hosts = Math.ceil(need / perHost - 1e-9);
      const drainsInMs =
        (backlog / Math.max(perHost * Math.max(1, current) - q.arrivalPerSecond, 1e-9)) * 1000;
      const drains =
        perHost * Math.max(1, current) > q.arrivalPerSecond ? `drains in ${fmtSeconds(drainsInMs)}` : "grows";
      reason =
        `${q.name}: backlog ${fmt(backlog)}, ${fmtRate(q.arrivalPerSecond)}/s in, ${fmtRate(perHost)}/s per host ` +
        `${drains} with ${Math.max(1, current)} host${current > 1 ? "s" : ""}; target ${fmtSeconds(policy.targetDrainMs)} → ${hosts}`;
    }
    if (hosts > best.hosts) best = { hosts, reason };
  }
  const mailbox = sample.hosts.reduce((sum, h) => sum + h.mailboxDepth, 0);
  const forMailbox = Math.ceil(mailbox / policy.targetMailboxPerHost);
  if (forMailbox > best.hosts) {
    best = {
      hosts: forMailbox,
      reason: `${fmt(mailbox)} calls waiting in mailboxes; ${fmt(policy.targetMailboxPerHost)} per host → ${forMailbox}`,
    };
  }
  let hosts = best.hosts;
  let reason = best.reason;
  let limitedBy: LimitedBy = "";
  if (stuck.length > 0) {
    reason += `; stuck, adding no hosts for it (${stuck.join("; ")})`;
    if (best.reason.endsWith("looks stuck")) limitedBy = "stuck";
  }
  const throttled = sample.hosts.reduce((sum, h) => sum + h.throttledPerSecond, 0);
  if (throttled >= 1 && hosts > current && current > 0) {
    hosts = current;
    limitedBy = "throttled";
    reason += `; hosts refuse ${fmtRate(throttled)} turns/s for throttling: more hosts would not raise the limit, holding ${current}`;
  }
  if (floor > hosts) {
    hosts = floor;
    limitedBy = "in-flight";
    reason += `; ${floor} host${floor > 1 ? "s" : ""} hold the jobs in flight`;
  }
  if (hosts < policy.minHosts) {
    hosts = policy.minHosts;
    limitedBy = "min";
    reason += `; min ${policy.minHosts}`;
  } else if (hosts > policy.maxHosts) {
    hosts = policy.maxHosts;
    limitedBy = "max";
    reason += `; max ${policy.maxHosts}`;
  }
  return { hosts, reason, limitedBy, inFlightFloor: Math.min(floor, policy.maxHosts) };
}

/** One host's throughput from this sample, or undefined when it cannot be measured. */
function perHostRateOf(jobsPerHost: number, q: QueueSample, hosts: number): number | undefined {
  if (q.completionPerSecond <= 0) return undefined;
  // Little's law; ack-pending 0 with completions means jobs finish between samples: a lower bound.
  if (q.ackPending <= 0) return q.completionPerSecond / hosts;
  return Math.max(q.completionPerSecond / hosts, (jobsPerHost * q.completionPerSecond) / q.ackPending);
}

/**
 * The stateful part: stabilization windows and per-queue memory. One per group; feed it a sample
 * every interval.
 *
 * @example
 * ```ts
 * const decider = new ScalingDecider(groupPolicy({ group: "orders", maxHosts: 4 }));
 * const d = decider.decide(sample, performance.now());
 * console.log(`${d.currentHosts} → ${d.desiredHosts}: ${d.reason}`);
 * ```
 */
export class ScalingDecider {
  private readonly history: { atMs: number; hosts: number }[] = [];
  private readonly memory = new Map<string, QueueMemory>();
  /** When deciding started, and the most hosts running since (within max): a floor of scale-down for one down-window. */
  private first: { atMs: number; hosts: number } | undefined;

  constructor(public policy: GroupPolicy) {}

  decide(sample: GroupSample, nowMs: number): ScalingDecision {
    this.remember(sample, nowMs);
    const rec = recommend(this.policy, sample, this.memory, nowMs);
    const current = currentHostsOf(sample);
    this.history.push({ atMs: nowMs, hosts: rec.hosts });
    const keep = Math.max(this.policy.scaleDownWindowMs, this.policy.scaleUpWindowMs);
    while (this.history.length > 1 && (this.history[0]?.atMs ?? nowMs) < nowMs - keep) this.history.shift();
    const within = (windowMs: number) =>
      this.history.filter((h) => h.atMs >= nowMs - windowMs).map((h) => h.hosts);
    this.first ??= { atMs: nowMs, hosts: 0 };
    const justStarted = nowMs - this.first.atMs < this.policy.scaleDownWindowMs;
    if (justStarted) {
      const running = Math.min(current, this.policy.maxHosts);
      this.first = { atMs: this.first.atMs, hosts: Math.max(this.first.hosts, running) };
    }
    const upTo = Math.min(...within(this.policy.scaleUpWindowMs));
    const recent = within(this.policy.scaleDownWindowMs);
    const held = justStarted && this.first.hosts > Math.max(...recent);
    const downTo = Math.max(...recent, justStarted ? this.first.hosts : 0);
    let desired = current;
    if (current < upTo) desired = upTo;
    else if (current > downTo) desired = downTo;
    // Hosts still reconnecting after a start are not a scale-down either.
    if (held) desired = Math.max(desired, this.first.hosts);
    let { reason, limitedBy } = rec;
    if (desired !== rec.hosts) {
      limitedBy = "stabilization";
      reason +=
        desired > rec.hosts
          ? `; scale-down waits out the ${fmtSeconds(this.policy.scaleDownWindowMs)} window (highest recent: ${downTo}` +
            `${held ? ", the most hosts seen since deciding started" : ""})`
          : `; scale-up waits out the ${fmtSeconds(this.policy.scaleUpWindowMs)} window (lowest recent: ${upTo})`;
    }
    const sum = (f: (q: QueueSample) => number) => sample.queues.reduce((s, q) => s + f(q), 0);
    const hostSum = (f: (h: HostSample) => number) => sample.hosts.reduce((s, h) => s + f(h), 0);
    return {
      ...rec,
      reason,
      limitedBy,
      group: this.policy.group,
      currentHosts: current,
      rawHosts: rec.hosts,
      desiredHosts: desired,
      active: desired > 0,
      minHosts: this.policy.minHosts,
      maxHosts: this.policy.maxHosts,
      backlog: sum((q) => q.pending + q.ackPending),
      arrivalPerSecond: sum((q) => q.arrivalPerSecond),
      completionPerSecond: sum((q) => q.completionPerSecond),
      oldestWaitMs: Math.max(0, ...sample.queues.map((q) => q.oldestWaitMs)),
      mailboxDepth: hostSum((h) => h.mailboxDepth),
      turnsInFlight: hostSum((h) => h.turnsInFlight),
      throttledPerSecond: hostSum((h) => h.throttledPerSecond),
      cpu: sample.hosts.length > 0 ? hostSum((h) => h.cpu) / sample.hosts.length : 0,
      sample,
      atMs: nowMs,
    };
  }

  private remember(sample: GroupSample, nowMs: number): void {
    const working = Math.max(1, sample.hosts.length);
    for (const q of sample.queues) {
      const before = this.memory.get(q.name);
      const rate = perHostRateOf(jobsPerHostOf(this.policy, sample), q, working);
      const backlog = q.pending + q.ackPending;
      const stalled = backlog > 0 && q.completionPerSecond <= 0;
      this.memory.set(q.name, {
        perHostRate: rate ?? before?.perHostRate,
        noProgressSinceMs: stalled ? (before?.noProgressSinceMs ?? nowMs) : undefined,
      });
    }
  }
}
