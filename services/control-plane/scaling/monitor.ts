/**
 * The control plane's scaling loop: every interval, for each host group (configured, or reported
 * by a connected host), sample its job queues from JetStream and its hosts' load from the host
 * channel, and ask the group's {@link ScalingDecider}. The latest decisions feed the ScalingService,
 * KEDA's external scaler and the Prometheus gauges; listeners hear every change of activity.
 *
 * A group's job types: its policy's `types` plus every type its connected hosts serve. Its queues:
 * those types' job queues and their durable subscriptions (`@subscribe` consumers, `events.<consumer>`).
 *
 * For `warmUpMs` after start it decides (so the deciders learn the hosts as they reconnect) but
 * publishes nothing: a control plane that just started does not know the hosts that were running,
 * and telling KEDA a count before they are back would remove hosts. Meanwhile a known group's
 * decision is UNAVAILABLE, which KEDA's HPA and the local autoscaler answer by keeping replicas.
 */
import type { Logger } from "troupe";
import type { Transport } from "troupe/internal";
import { jobQueueLoad, jobQueueName, subscriptionLoads } from "troupe/internal";
import {
  type GroupSample,
  type HostSample,
  type QueueSample,
  ScalingDecider,
  type ScalingDecision,
} from "./decide.js";
import { DEFAULT_GROUP_POLICY, type GroupPolicy, groupPolicy } from "./policy.js";
import { QueueRates } from "./queue-rates.js";

/** A connected host as scaling sees it (the host channel's ConnectedHost fits). */
export interface ScalingHostView {
  readonly hostId: string;
  readonly group: string;
  readonly actorTypes: readonly string[];
  readonly load:
    | { mailboxDepth: number; turnsInFlight: number; cpu: number; draining: boolean; jobCapacity: number }
    | undefined;
  /** Turns refused by throttling per second (smoothed). */
  readonly throttledPerSecond: number;
}

/** What a control plane's user configures of scaling (`ControlPlaneOptions.scaling`). */
export interface ScalingConfig {
  /** Policies of the configured groups. */
  readonly groups?: readonly GroupPolicy[];
  /** Policy of groups nobody configured (group name filled in). */
  readonly defaults?: Partial<Omit<GroupPolicy, "group">>;
  /**
   * How long after start decisions are held back (UNAVAILABLE) while hosts reconnect. Default
   * {@link HOST_RECONNECT_CAP_MS} plus two intervals (a reconnected host's first load report).
   */
  readonly warmUpMs?: number;
}

export interface ScalingMonitorOptions extends ScalingConfig {
  readonly transport: Transport;
  readonly prefix: string;
  readonly intervalMs: number;
  readonly hosts: () => readonly ScalingHostView[];
  readonly logger: Logger;
}

/** A host's reconnect backoff to the control plane is capped at this (host-channel-client.ts). */
export const HOST_RECONNECT_CAP_MS = 5000;

export class ScalingMonitor {
  private readonly deciders = new Map<string, ScalingDecider>();
  private readonly configured = new Set<string>();
  private readonly latest = new Map<string, ScalingDecision>();
  private readonly rates = new QueueRates();
  private readonly listeners = new Set<(d: ScalingDecision) => void>();
  private readonly warmUpMs: number;
  private readonly stopListeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failing = false;
  private startedAtMs: number | undefined;

  constructor(private readonly options: ScalingMonitorOptions) {
    this.warmUpMs = options.warmUpMs ?? HOST_RECONNECT_CAP_MS + 2 * options.intervalMs;
    for (const p of options.groups ?? []) {
      this.deciders.set(p.group, new ScalingDecider(p));
      this.configured.add(p.group);
    }
  }

  start(): void {
    if (this.timer) return;
    this.startedAtMs ??= performance.now();
    if (this.warmUpMs > 0) {
      this.options.logger.info("scaling: holding decisions back while hosts reconnect", {
        warmUpMs: this.warmUpMs,
      });
    }
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    for (const listener of this.stopListeners) listener();
    this.stopListeners.clear();
    await this.running;
  }

  /** Every known group's latest decision, by group name. */
  decisions(): ScalingDecision[] {
    return [...this.latest.values()].sort((a, b) => a.group.localeCompare(b.group));
  }

  decision(group: string): ScalingDecision | undefined {
    return this.latest.get(group);
  }

  /** A group is known when configured or reported by a connected host. */
  knows(group: string): boolean {
    return this.configured.has(group) || this.options.hosts().some((h) => h.group === group);
  }

  /** Called with every new decision. Returns the unsubscribe function. */
  onDecision(listener: (d: ScalingDecision) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once when the monitor stops (streams end then). Returns the unsubscribe function. */
  onStop(listener: () => void): () => void {
    this.stopListeners.add(listener);
    return () => this.stopListeners.delete(listener);
  }

  /** One round now (also what the timer runs); concurrent calls share the round in progress. */
  tick(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    const hosts = this.options.hosts();
    const groups = new Set([...this.configured, ...hosts.map((h) => h.group)]);
    const queueNames = new Set<string>();
    try {
      const subscriptions = await subscriptionLoads(this.options.transport, this.options.prefix);
      for (const group of groups) {
        const members = hosts.filter((h) => h.group === group);
        const decider = this.deciderOf(group);
        const types = new Set([...decider.policy.types, ...members.flatMap((h) => h.actorTypes)]);
        const queues: QueueSample[] = [];
        const now = performance.now();
        for (const type of [...types].sort()) {
          const load = await jobQueueLoad(this.options.transport, this.options.prefix, type);
          if (!load) continue;
          const name = jobQueueName(type);
          queueNames.add(name);
          queues.push(this.rates.sample(name, load, now));
        }
        for (const sub of subscriptions) {
          if (!types.has(sub.type)) continue;
          queueNames.add(sub.name);
          queues.push(this.rates.sample(sub.name, sub.load, now));
        }
        const sample: GroupSample = { queues, hosts: members.map(hostSample) };
        const decision = decider.decide(sample, performance.now());
        if (this.warmingUp()) continue;
        const before = this.latest.get(group);
        this.latest.set(group, decision);
        if (before?.desiredHosts !== decision.desiredHosts) {
          this.options.logger.info("scaling: new decision", {
            group,
            currentHosts: decision.currentHosts,
            desiredHosts: decision.desiredHosts,
            reason: decision.reason,
          });
        }
        for (const listener of this.listeners) listener(decision);
      }
      for (const group of this.latest.keys()) if (!groups.has(group)) this.latest.delete(group);
      this.rates.retain(queueNames);
      if (this.failing) this.options.logger.info("scaling: reading queues works again");
      this.failing = false;
    } catch (err) {
      // Decisions keep their last value (fail-static) and age; logged once per outage.
      if (!this.failing)
        this.options.logger.warn("scaling: could not read the queues; decisions are stale", { err });
      this.failing = true;
    }
  }

  private warmingUp(): boolean {
    return this.startedAtMs !== undefined && performance.now() - this.startedAtMs < this.warmUpMs;
  }

  private deciderOf(group: string): ScalingDecider {
    let decider = this.deciders.get(group);
    if (!decider) {
      decider = new ScalingDecider(groupPolicy({ ...DEFAULT_GROUP_POLICY, ...this.options.defaults, group }));
      this.deciders.set(group, decider);
    }
    return decider;
  }
}

function hostSample(h: ScalingHostView): HostSample {
  return {
    hostId: h.hostId,
    mailboxDepth: h.load?.mailboxDepth ?? 0,
    turnsInFlight: h.load?.turnsInFlight ?? 0,
    throttledPerSecond: h.throttledPerSecond,
    cpu: h.load?.cpu ?? 0,
    draining: h.load?.draining ?? false,
    jobCapacity: h.load?.jobCapacity ?? 0,
  };
}
