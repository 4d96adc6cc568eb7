/**
 * The job runner's gauges: jobs in flight (from the type loops), jobs pending and dead letters
 * (read from JetStream every few seconds, so a scrape never waits on the server). Only started
 * when a MeterProvider is set (telemetry's `metricsEnabled()`).
 */
import type { MeshConnection } from "../durable/index.js";
import { RUNNER_CONSUMER } from "../messaging/index.js";
import {
  ATTR_TROUPE_QUEUE,
  METRIC_DLQ_SIZE,
  METRIC_JOBS_IN_FLIGHT,
  METRIC_JOBS_PENDING,
  observeGauge,
} from "../telemetry/index.js";
import { jetStreamQueues } from "../transport/index.js";
import type { RunnerTypeStats } from "./runner-options.js";
import { namesOf } from "./streams.js";

/** What the gauges read from one type's loop. */
export interface MeteredLoop {
  readonly type: string;
  stats(): RunnerTypeStats;
}

/** How often queue depths are read from JetStream for the pending and DLQ gauges. */
const QUEUE_METRICS_EVERY_MS = 10_000;

export class RunnerMetrics {
  private pending = new Map<string, number>();
  private dlqSize: number | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly unobserve: (() => void)[];

  constructor(
    private readonly mesh: MeshConnection,
    private readonly loops: readonly MeteredLoop[],
  ) {
    const names = namesOf(mesh);
    this.unobserve = [
      observeGauge(
        METRIC_JOBS_IN_FLIGHT,
        "Jobs this host holds (running or waiting for a turn)",
        (report) => {
          for (const l of loops) report(l.stats().held, { [ATTR_TROUPE_QUEUE]: names.queueName(l.type) });
        },
      ),
      observeGauge(METRIC_JOBS_PENDING, "Jobs stored and not yet delivered", (report) => {
        for (const [queue, n] of this.pending) report(n, { [ATTR_TROUPE_QUEUE]: queue });
      }),
      observeGauge(METRIC_DLQ_SIZE, "Dead letters waiting for inspection or replay", (report) => {
        if (this.dlqSize !== undefined) report(this.dlqSize, { [ATTR_TROUPE_QUEUE]: names.dlqStream() });
      }),
    ];
    this.timer = setInterval(() => void this.refresh(), QUEUE_METRICS_EVERY_MS).unref();
    void this.refresh();
  }

  private async refresh(): Promise<void> {
    const names = namesOf(this.mesh);
    const q = jetStreamQueues(this.mesh.transport);
    try {
      for (const l of this.loops) {
        const c = await q.consumerCounts(names.jobsStream(l.type), RUNNER_CONSUMER);
        if (c) this.pending.set(names.queueName(l.type), c.pending);
      }
      this.dlqSize = (await q.streamCounts(names.dlqStream()))?.messages;
    } catch (err) {
      this.mesh.logger.debug("reading queue depths for metrics failed", { err });
    }
  }

  stop(): void {
    clearInterval(this.timer);
    for (const u of this.unobserve.splice(0)) u();
  }
}
