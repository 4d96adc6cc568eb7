/**
 * The server side of `troupe.v1.HostChannel/Connect`: one bidirectional stream per host.
 *
 * Protocol: the host sends `register` first (host id, actor types), the control plane answers
 * `registered` (with the report interval) and at once the host's shares; then the host sends a
 * `usage` report about every interval, and the control plane sends fresh shares on every tick and
 * as soon as the policies change. A second stream registering the same host id replaces the first.
 *
 * Bad input ends that stream with a status, never the server: usage before register or a second
 * register: FAILED_PRECONDITION; an invalid host id or report: INVALID_ARGUMENT; more than 10 reports
 * within one interval: RESOURCE_EXHAUSTED; bytes that are not
 * a HostMessage are refused by gRPC's deserializer (INTERNAL) before they reach this code.
 */
import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import type { Logger } from "troupe";
import type { ControlMessage, HostLoad__Output, HostMessage__Output, PolicyShare } from "troupe/internal";
import type { Demand } from "./allocate.js";
import { HostDemand, type UsageEntry } from "./demand.js";
import type { HostRole, HostView } from "./share-planner.js";

/** The stream as the handler sees it (the generated handler type, without the grpc-js internals). */
export type HostStream = ServerDuplexStream<HostMessage__Output, ControlMessage>;

const HOST_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_ACTOR_TYPES = 1000;
const MAX_USAGE_ENTRIES = 100_000;
const MAX_FIELD_LENGTH = 1024;
/** Usage reports accepted within one report interval (a host sends one; slack for bursts after a stall). */
export const MAX_REPORTS_PER_INTERVAL = 10;

export class ConnectedHost implements HostView {
  readonly demand: (policy: string, key: string) => Demand | undefined;
  readonly usage: HostDemand;
  lastReportAt: number;
  /** The host group (scaling unit) it registered with. */
  group = "default";
  /** Its latest load report (scaling input); undefined until the first. */
  load: HostLoad__Output | undefined;
  private generation = 0;
  private windowStart: number;
  private reportsInWindow = 0;

  constructor(
    readonly hostId: string,
    readonly actorTypes: readonly string[],
    readonly stream: HostStream,
    reportIntervalMs: number,
    now: number,
    readonly role: HostRole = "host",
  ) {
    this.usage = new HostDemand(reportIntervalMs);
    this.demand = (policy, key) => this.usage.get(policy, key);
    this.lastReportAt = now;
    this.windowStart = now;
  }

  entries() {
    return this.usage.entries();
  }

  /**
   * Counts a report; true when this host sent more than {@link MAX_REPORTS_PER_INTERVAL} within one
   * report interval (a broken or hostile host: each report costs the control plane work).
   */
  tooFrequent(now: number, intervalMs: number): boolean {
    if (now - this.windowStart >= intervalMs) {
      this.windowStart = now;
      this.reportsInWindow = 0;
    }
    this.reportsInWindow += 1;
    return this.reportsInWindow > MAX_REPORTS_PER_INTERVAL;
  }

  sendShares(policies: PolicyShare[]): void {
    this.generation += 1;
    this.stream.write({ shares: { generation: this.generation, policies } });
  }
}

export interface HostChannelEvents {
  /** A host registered (its first shares should go out now). */
  onRegistered(host: ConnectedHost): void;
}

export class HostChannelService {
  private readonly hosts = new Map<string, ConnectedHost>();

  constructor(
    private readonly logger: Logger,
    private readonly reportIntervalMs: number,
    private readonly events: HostChannelEvents,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The hosts connected to this replica, by id. */
  connected(): ConnectedHost[] {
    return [...this.hosts.values()];
  }

  /** The handler of HostChannel.Connect. */
  readonly connect = (stream: HostStream): void => {
    let host: ConnectedHost | undefined;
    const fail = (code: status, details: string) => {
      this.logger.warn("host channel: ended a stream on bad input", {
        host: host?.hostId,
        peer: stream.getPeer(),
        details,
      });
      if (host) this.remove(host);
      stream.emit("error", { code, details });
    };
    stream.on("data", (message: HostMessage__Output) => {
      try {
        if (message.body === "register") {
          if (host) return fail(status.FAILED_PRECONDITION, "register sent twice on one stream");
          const register = message.register;
          const hostId = register?.hostId ?? "";
          if (!HOST_ID.test(hostId)) {
            return fail(status.INVALID_ARGUMENT, `register.host_id must be 1-64 letters, digits, "_" or "-"`);
          }
          const actorTypes = register?.actorTypes ?? [];
          if (actorTypes.length > MAX_ACTOR_TYPES || actorTypes.some((t) => t.length > MAX_FIELD_LENGTH)) {
            return fail(status.INVALID_ARGUMENT, `register.actor_types: too many or too long`);
          }
          const role = register?.role || "host";
          if (role !== "host" && role !== "gateway") {
            return fail(status.INVALID_ARGUMENT, `register.role must be "host" or "gateway"`);
          }
          const group = register?.group || "default";
          if (!HOST_ID.test(group)) {
            return fail(status.INVALID_ARGUMENT, `register.group must be 1-64 letters, digits, "_" or "-"`);
          }
          host = new ConnectedHost(hostId, actorTypes, stream, this.reportIntervalMs, this.now(), role);
          host.group = group;
          this.add(host);
          stream.write({ registered: { hostId, reportIntervalMs: this.reportIntervalMs } });
          this.events.onRegistered(host);
          return;
        }
        if (message.body === "usage") {
          if (!host) return fail(status.FAILED_PRECONDITION, "usage sent before register");
          const entries = message.usage?.keys ?? [];
          if (entries.length > MAX_USAGE_ENTRIES) {
            return fail(status.INVALID_ARGUMENT, `usage.keys: more than ${MAX_USAGE_ENTRIES} entries`);
          }
          const clean: UsageEntry[] = [];
          for (const [i, e] of entries.entries()) {
            if (e.policy.length === 0 || e.policy.length > 64 || e.key.length > MAX_FIELD_LENGTH) {
              return fail(
                status.INVALID_ARGUMENT,
                `usage.keys[${i}]: policy must be 1-64 and key at most ${MAX_FIELD_LENGTH} characters`,
              );
            }
            clean.push({
              policy: e.policy,
              key: e.key,
              allowed: e.allowed,
              refused: e.refused,
              inFlight: e.inFlight,
            });
          }
          const now = this.now();
          if (host.tooFrequent(now, this.reportIntervalMs)) {
            return fail(
              status.RESOURCE_EXHAUSTED,
              `usage reports far more often than every ${this.reportIntervalMs} ms`,
            );
          }
          host.usage.record(clean, now);
          if (message.usage?.load) host.load = message.usage.load;
          host.lastReportAt = now;
          return;
        }
        return fail(status.INVALID_ARGUMENT, "a HostMessage needs register or usage");
      } catch (err) {
        this.logger.error("host channel: failed to handle a message", { host: host?.hostId, err });
        return fail(status.INTERNAL, "the control plane failed to handle the message");
      }
    });
    const closed = () => {
      if (host) this.remove(host);
    };
    stream.on("end", () => {
      closed();
      stream.end();
    });
    stream.on("cancelled", closed);
    stream.on("close", closed);
    stream.on("error", (err) => {
      this.logger.debug("host channel: stream error", { host: host?.hostId, err });
      closed();
    });
  };

  /** Ends every stream (the control plane is stopping): hosts keep their shares and reconnect. */
  closeAll(): void {
    for (const host of this.hosts.values()) {
      host.stream.emit("error", { code: status.UNAVAILABLE, details: "control plane shutting down" });
    }
    this.hosts.clear();
  }

  private add(host: ConnectedHost): void {
    const previous = this.hosts.get(host.hostId);
    this.hosts.set(host.hostId, host);
    if (previous && previous.stream !== host.stream) {
      this.logger.info("host channel: a new stream replaced the host's previous one", { host: host.hostId });
      previous.stream.emit("error", {
        code: status.ABORTED,
        details: "replaced by a newer stream of the same host",
      });
    } else {
      this.logger.info("host channel: host registered", {
        host: host.hostId,
        actorTypes: host.actorTypes.length,
      });
    }
  }

  private remove(host: ConnectedHost): void {
    if (this.hosts.get(host.hostId) === host) {
      this.hosts.delete(host.hostId);
      this.logger.info("host channel: host disconnected", { host: host.hostId });
    }
  }
}
