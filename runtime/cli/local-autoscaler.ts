/**
 * The local autoscaler behind `troupe scale run` and `troupe dev --autoscale`: it owns the host
 * processes of one group on this machine and keeps their number at the control plane's decision.
 * It adds hosts by starting `troupe host <entry> --group <g>` processes, and removes them by
 * SIGTERM, newest first: the host drains (stops pulling, finishes or hands back its jobs, hands its
 * shards off) and exits on its own; the autoscaler only counts it gone when it has exited.
 *
 * Every round it prints one line for the group when it changes: hosts (starting, draining), backlog,
 * rates, the decision and its reason; and one line when it starts, drains or loses a host (with its
 * pid). Hosts of the group it does not own (`unmanagedHosts`, e.g. `troupe dev`'s own host) count
 * towards the decision: it runs `desired - unmanagedHosts` processes.
 *
 * After `stop()` resolves nothing of it is left: no timer, no child process. Should this process
 * exit without `stop()` (an uncaught error), its hosts get SIGTERM on the way out; start them in
 * their own process group (`detached`) so that a terminal's Ctrl-C reaches only this process, which
 * then drains them once (a second signal would end a draining host at once).
 *
 * @example
 * ```ts
 * const scaler = new LocalAutoscaler({ group: "work", decide, spawnHost, out: console.log, logger });
 * scaler.start();          // every intervalMs: read the decision, start or drain hosts
 * await scaler.stop();     // drains every host it started
 * ```
 */
import type { ChildProcess } from "node:child_process";
import type { Logger } from "../log.js";
import type { ScalingDecision__Output } from "../protos/index.js";

export interface LocalAutoscalerOptions {
  group: string;
  /** The group's decision; undefined when the control plane does not know the group yet. */
  decide(): Promise<ScalingDecision__Output | undefined>;
  /** Starts one host process of the group. */
  spawnHost(): ChildProcess;
  /**
   * Hosts of the group to have while the control plane has no decision for it (so one registers),
   * counting the unmanaged ones. Default 1.
   */
  bootstrapHosts?: number;
  /** Hosts of the group that run without this autoscaler (counted, never started or stopped). Default 0. */
  unmanagedHosts?: number;
  /** How often to read the decision. Default 1000 ms. */
  intervalMs?: number;
  /** A draining host that has not exited after this long is killed. Default 120 s. */
  stopTimeoutMs?: number;
  out(line: string): void;
  logger: Logger;
}

interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  stopping: boolean;
}

export interface AutoscalerCounts {
  /** Host processes running and not told to stop. */
  readonly running: number;
  readonly draining: number;
  readonly started: number;
  readonly stopped: number;
}

export class LocalAutoscaler {
  private readonly children: Child[] = [];
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private started = 0;
  private stopped = 0;
  private lastLine = "";
  private closed = false;
  private failing = false;
  /** On an exit without stop(): SIGTERM to every host still running (they drain on their own). */
  private readonly onExit = () => {
    for (const child of this.children) child.process.kill("SIGTERM");
  };

  constructor(private readonly options: LocalAutoscalerOptions) {}

  counts(): AutoscalerCounts {
    const draining = this.children.filter((c) => c.stopping).length;
    return {
      running: this.children.length - draining,
      draining,
      started: this.started,
      stopped: this.stopped,
    };
  }

  start(): void {
    if (this.timer || this.closed) return;
    process.once("exit", this.onExit);
    this.timer = setInterval(() => void this.step(), this.options.intervalMs ?? 1000);
    void this.step();
  }

  /** One round: read the decision, start or drain hosts, print the line. */
  step(): Promise<void> {
    this.round ??= this.act().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /** Stops deciding and drains every host it started; resolves when all have exited. */
  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    // Hosts first: a round in progress (waiting for the control plane) starts nothing once closed.
    for (const child of this.children) this.drain(child);
    await this.round;
    await Promise.all(this.children.map((c) => c.exited));
    process.off("exit", this.onExit);
  }

  private async act(): Promise<void> {
    if (this.closed) return;
    let decision: ScalingDecision__Output | undefined;
    try {
      decision = await this.options.decide();
    } catch (err) {
      // Fail-static: keep the hosts as they are until the control plane answers again (said once).
      if (!this.failing) {
        this.options.logger.warn("local autoscaler: no decision from the control plane; keeping the hosts", {
          group: this.options.group,
          err,
        });
      }
      this.failing = true;
      return;
    }
    this.failing = false;
    if (this.closed) return;
    const desired = decision ? decision.desiredHosts : (this.options.bootstrapHosts ?? 1);
    const own = Math.max(0, desired - (this.options.unmanagedHosts ?? 0));
    const live = this.children.filter((c) => !c.stopping);
    for (let i = live.length; i < own; i++) this.spawn();
    if (live.length > own) {
      for (const child of live.slice(own).reverse()) this.drain(child);
    }
    this.print(decision, desired);
  }

  private spawn(): void {
    const proc = this.options.spawnHost();
    this.started += 1;
    let how = "";
    const exited = new Promise<number | null>((resolve) => {
      proc.once("exit", (code, signal) => {
        how = signal ? `signal ${signal}` : `code ${code}`;
        resolve(code);
      });
      proc.once("error", (err) => {
        this.options.logger.error("local autoscaler: could not start a host", {
          group: this.options.group,
          err,
        });
        resolve(null);
      });
    });
    const child: Child = { process: proc, exited, stopping: false };
    this.children.push(child);
    void exited.then((code) => {
      this.children.splice(this.children.indexOf(child), 1);
      this.stopped += 1;
      this.options.out(`${this.options.group}: host pid ${proc.pid} exited (${how || "not started"})`);
      if (!child.stopping || (code !== 0 && code !== null)) {
        this.options.logger.warn("local autoscaler: a host exited", {
          group: this.options.group,
          pid: proc.pid,
          code,
          asked: child.stopping,
        });
      }
    });
    this.options.out(`${this.options.group}: started a host (pid ${proc.pid})`);
  }

  private drain(child: Child): void {
    if (child.stopping) return;
    child.stopping = true;
    this.options.out(`${this.options.group}: draining host pid ${child.process.pid}`);
    child.process.kill("SIGTERM");
    const timeout = setTimeout(() => {
      this.options.logger.error("local autoscaler: a draining host did not exit in time; killing it", {
        group: this.options.group,
        pid: child.process.pid,
      });
      child.process.kill("SIGKILL");
    }, this.options.stopTimeoutMs ?? 120_000);
    timeout.unref();
    void child.exited.then(() => clearTimeout(timeout));
  }

  private print(decision: ScalingDecision__Output | undefined, desired: number): void {
    const { running, draining } = this.counts();
    const unmanaged = this.options.unmanagedHosts ?? 0;
    const hosts = unmanaged ? `${running + unmanaged} (${running} started here)` : `${running}`;
    const head = `${this.options.group}: hosts ${hosts}${draining ? ` (+${draining} draining)` : ""}`;
    const line = decision
      ? `${head}, registered ${decision.currentHosts}, backlog ${decision.backlog}, ` +
        `${decision.arrivalPerSecond.toFixed(0)}/s in, ${decision.completionPerSecond.toFixed(0)}/s done → ` +
        `${desired}: ${decision.reason}`
      : `${head} → ${desired}: the control plane does not know the group yet`;
    if (line !== this.lastLine) this.options.out(line);
    this.lastLine = line;
  }
}
