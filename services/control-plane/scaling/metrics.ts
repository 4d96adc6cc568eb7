/**
 * The scaling decisions as Prometheus gauges (through the OpenTelemetry metrics API, so exported by
 * whatever MeterProvider the process registered: `troupe control-plane --metrics-port`), one series
 * per group (`troupe_group`): current and desired hosts, backlog, arrival and completion rates, the
 * oldest job's wait. No-ops without a MeterProvider.
 */
import { observeGauge } from "troupe/internal";
import type { ScalingDecision } from "./decide.js";
import type { ScalingMonitor } from "./monitor.js";

export const ATTR_TROUPE_GROUP = "troupe.group";

const GAUGES: [string, string, (d: ScalingDecision) => number][] = [
  ["troupe.scaling.current_hosts", "Live, non-draining hosts of the group", (d) => d.currentHosts],
  ["troupe.scaling.desired_hosts", "Hosts the control plane recommends for the group", (d) => d.desiredHosts],
  ["troupe.scaling.backlog", "Jobs pending or in flight over the group's queues", (d) => d.backlog],
  [
    "troupe.scaling.arrival_rate",
    "Jobs arriving per second over the group's queues",
    (d) => d.arrivalPerSecond,
  ],
  [
    "troupe.scaling.completion_rate",
    "Jobs completed per second over the group's queues",
    (d) => d.completionPerSecond,
  ],
  [
    "troupe.scaling.oldest_wait_seconds",
    "Age of the group's oldest stored job",
    (d) => d.oldestWaitMs / 1000,
  ],
];

/** Registers the gauges; returns the function that unregisters them. */
export function observeScaling(monitor: ScalingMonitor): () => void {
  const stops = GAUGES.map(([name, description, value]) =>
    observeGauge(name, description, (report) => {
      for (const d of monitor.decisions()) report(value(d), { [ATTR_TROUPE_GROUP]: d.group });
    }),
  );
  return () => {
    for (const stop of stops) stop();
  };
}
