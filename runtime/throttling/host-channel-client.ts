/**
 * The host's end of the host channel: connects to the control plane, registers, reports its usage
 * about every interval, and applies the shares it receives to its {@link LocalEnforcer}.
 *
 * Fail-static: when the control plane is unreachable or the stream breaks, the enforcer keeps the
 * last shares it got; the outage is logged once (warn), the client reconnects with full-jitter
 * exponential backoff, and logs once more (info) when it is back. Calls never wait for any of this.
 *
 * States: "connecting" -> "connected" -> ("disconnected" -> "connecting" -> ...) -> "stopped".
 *
 * @example
 * ```ts
 * const enforcer = new LocalEnforcer(logger);
 * const channel = new HostChannelClient({ address: "cp:7233", token, hostId: "host-1", enforcer, logger });
 * channel.start();
 * // ... enforcer.decide(...) on every turn ...
 * await channel.stop();
 * ```
 */
import { type ClientDuplexStream, type ServiceError, status } from "@grpc/grpc-js";
import type { Logger } from "../log.js";
import type { ControlMessage__Output, HostLoad, HostMessage, Shares__Output } from "../protos/index.js";
import { fullJitterDelayMs } from "../resilience/index.js";
import {
  type ControlPlaneClientOptions,
  type ControlPlaneConnection,
  connectControlPlane,
} from "./control-client.js";
import type { LocalEnforcer } from "./enforcer.js";

export type HostChannelState = "connecting" | "connected" | "disconnected" | "stopped";

export interface HostChannelClientOptions extends ControlPlaneClientOptions {
  hostId: string;
  actorTypes?: readonly string[];
  enforcer: LocalEnforcer;
  logger: Logger;
  version?: string;
  /**
   * "host" (default) or "gateway": a gateway's shares are split among the gateways only (the hosts
   * keep enforcing the whole limit among themselves), see host_channel.proto.
   */
  role?: "host" | "gateway";
  /** The host group (scaling decisions are made per group). Default: the control plane's "default". */
  group?: string;
  /** The host's load, sent with every usage report (CPU is measured here). */
  load?: () => Omit<HostLoad, "cpu">;
  /** Reconnect backoff: first delay bound and cap. Default 200 ms and 5000 ms. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
}

export class HostChannelClient {
  private readonly connection: ControlPlaneConnection;
  private stream: ClientDuplexStream<HostMessage, ControlMessage__Output> | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private outageLogged = false;
  private current: HostChannelState = "connecting";
  private cpuMark = { usage: process.cpuUsage(), at: performance.now() };
  private readonly shareListeners = new Set<(shares: Shares__Output) => void>();
  private readonly stateListeners = new Set<(state: HostChannelState) => void>();

  constructor(private readonly options: HostChannelClientOptions) {
    this.connection = connectControlPlane(options);
  }

  get state(): HostChannelState {
    return this.current;
  }

  start(): void {
    if (this.current === "stopped" || this.stream) return;
    this.open();
  }

  /** Called with every Shares message applied. Returns the unsubscribe function. */
  onShares(listener: (shares: Shares__Output) => void): () => void {
    this.shareListeners.add(listener);
    return () => this.shareListeners.delete(listener);
  }

  onState(listener: (state: HostChannelState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.setState("stopped");
    clearTimeout(this.reconnectTimer);
    clearInterval(this.reportTimer);
    const stream = this.stream;
    this.stream = undefined;
    if (stream) {
      stream.end();
      stream.cancel();
    }
    this.connection.close();
  }

  private open(): void {
    const { logger, hostId } = this.options;
    this.setState("connecting");
    const stream = this.connection.hostChannel.Connect(this.connection.metadata());
    this.stream = stream;
    stream.on("data", (message: ControlMessage__Output) => this.onMessage(stream, message));
    stream.on("error", (err: ServiceError) => this.onBroken(stream, err));
    stream.on("end", () => this.onBroken(stream, undefined));
    stream.write({
      register: {
        hostId,
        actorTypes: [...(this.options.actorTypes ?? [])],
        version: this.options.version ?? "",
        role: this.options.role ?? "host",
        group: this.options.group ?? "",
      },
    });
    logger.debug("host channel: connecting", { address: this.connection.address, host: hostId });
  }

  private onMessage(
    stream: ClientDuplexStream<HostMessage, ControlMessage__Output>,
    message: ControlMessage__Output,
  ): void {
    if (stream !== this.stream) return;
    if (message.body === "registered" && message.registered) {
      const intervalMs = Math.max(100, message.registered.reportIntervalMs || 1000);
      this.failures = 0;
      if (this.outageLogged) {
        this.options.logger.info("host channel: control plane reachable again", {
          address: this.connection.address,
        });
        this.outageLogged = false;
      }
      this.setState("connected");
      clearInterval(this.reportTimer);
      this.reportTimer = setInterval(() => this.report(stream), intervalMs);
      this.reportTimer.unref();
      return;
    }
    if (message.body === "shares" && message.shares) {
      this.options.enforcer.applyShares(message.shares);
      for (const listener of this.shareListeners) listener(message.shares);
    }
  }

  private report(stream: ClientDuplexStream<HostMessage, ControlMessage__Output>): void {
    if (stream !== this.stream) return;
    try {
      const load = this.options.load ? { ...this.options.load(), cpu: this.cpuSinceLastReport() } : undefined;
      stream.write({ usage: { keys: this.options.enforcer.takeUsage(), ...(load ? { load } : {}) } });
    } catch (err) {
      this.options.logger.warn("host channel: could not send a usage report", { err });
    }
  }

  /** CPU seconds the process used per second since the previous call (1 = one core busy). */
  private cpuSinceLastReport(): number {
    const now = performance.now();
    const usage = process.cpuUsage();
    const usedUs = usage.user - this.cpuMark.usage.user + (usage.system - this.cpuMark.usage.system);
    const elapsedMs = now - this.cpuMark.at;
    this.cpuMark = { usage, at: now };
    return elapsedMs > 0 ? usedUs / 1000 / elapsedMs : 0;
  }

  private onBroken(
    stream: ClientDuplexStream<HostMessage, ControlMessage__Output>,
    err: ServiceError | undefined,
  ): void {
    if (stream !== this.stream || this.current === "stopped") return;
    this.stream = undefined;
    clearInterval(this.reportTimer);
    stream.cancel();
    this.failures += 1;
    const fields = {
      address: this.connection.address,
      code: err ? status[err.code] : "END",
      details: err?.details,
      policies: this.options.enforcer.policies().length,
    };
    if (err?.code === status.UNAUTHENTICATED || err?.code === status.PERMISSION_DENIED) {
      this.options.logger.error(
        "host channel: the control plane refused this host's credentials; keeping the last shares",
        fields,
      );
      this.outageLogged = true;
    } else if (!this.outageLogged) {
      this.options.logger.warn(
        "host channel: control plane unreachable; enforcing the last shares until it is back",
        fields,
      );
      this.outageLogged = true;
    } else {
      this.options.logger.debug("host channel: reconnect failed", fields);
    }
    this.setState("disconnected");
    const delay = fullJitterDelayMs(this.failures, {
      initialDelayMs: this.options.reconnectInitialMs ?? 200,
      maxDelayMs: this.options.reconnectMaxMs ?? 5000,
    });
    this.reconnectTimer = setTimeout(() => {
      if (this.current !== "stopped") this.open();
    }, delay);
    this.reconnectTimer.unref();
  }

  private setState(state: HostChannelState): void {
    if (this.current === state || this.current === "stopped") return;
    this.current = state;
    for (const listener of this.stateListeners) listener(state);
  }
}
