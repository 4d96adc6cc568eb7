/**
 * Every Troupe process exports its metrics and is scraped: `troupe host`, `gateway` and
 * `control-plane` containers pass `--metrics-port P` (or TROUPE_METRICS_PORT), declare P as a
 * container port, and their pod template announces P for scraping (`prometheus.io/scrape`, `port`,
 * `path: /metrics`). For the control plane this is what makes its scaling decisions
 * (`troupe_scaling_*` per group) visible at all; whether the NetworkPolicies let Prometheus in is
 * network.ts's business (it derives that flow from the same annotations).
 */
import { containerPort, containers, workloads } from "./checks.js";
import type { K8sObject } from "./kustomize.js";

/** The troupe commands that serve Prometheus metrics with --metrics-port. */
export const SERVES_METRICS = new Set(["host", "gateway", "control-plane"]);

const id = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

function annotations(w: K8sObject): Record<string, string> {
  return (
    (w.spec as { template: { metadata?: { annotations?: Record<string, string> } } }).template.metadata
      ?.annotations ?? {}
  );
}

export function metricsProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    for (const c of containers(w)) {
      if (!/^troupe(:|$)/.test(c.image) && !c.image.includes("/troupe:")) continue;
      const args = c.args ?? [];
      const command = args[0] ?? "";
      if (!SERVES_METRICS.has(command)) continue;
      const i = args.indexOf("--metrics-port");
      const value = i >= 0 ? args[i + 1] : c.env?.find((e) => e.name === "TROUPE_METRICS_PORT")?.value;
      if (value === undefined) {
        problems.push(
          `${id(w)}: troupe ${command} serves no metrics (no --metrics-port)${command === "control-plane" ? ": its scaling decisions are not exported" : ""}`,
        );
        continue;
      }
      const port = Number(value);
      if (containerPort(w, port) === undefined)
        problems.push(`${id(w)}: metrics port ${port} is not a declared container port`);
      const a = annotations(w);
      if (a["prometheus.io/scrape"] !== "true" || Number(a["prometheus.io/port"]) !== port)
        problems.push(`${id(w)}: its pod template does not announce metrics port ${port} for scraping`);
      else if ((a["prometheus.io/path"] ?? "/metrics") !== "/metrics")
        problems.push(`${id(w)}: scrape path ${a["prometheus.io/path"]} is not /metrics`);
    }
  }
  return problems;
}
