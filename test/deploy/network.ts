/**
 * NetworkPolicy evaluation. The flows the components need are derived from the manifests (where
 * each process is told to connect: NATS_URL / --nats, OTEL_EXPORTER_OTLP_ENDPOINT,
 * --control-plane, NATS cluster routes, KEDA's scalerAddress, the Ingress backend, scrape
 * annotations) plus DNS; a flow is allowed when the source's egress and the destination's ingress
 * both allow it (only the side in our namespace for a peer outside it). Then the other way: every
 * peer and port of every policy rule must be used by at least one needed flow.
 */
import { byKind, containerPort, containers, matches, podLabels, serviceAt, workloads } from "./checks.js";
import type { K8sObject } from "./kustomize.js";

type Labels = Record<string, string>;
type Selector = {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
};
type Peer = { podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: unknown };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: { protocol?: string; port?: number | string }[] };
type Policy = { podSelector: Selector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };

/** One end of a flow: pods of a workload of ours, or pods elsewhere (another namespace). */
export interface Endpoint {
  workload?: string;
  labels: Labels;
  namespace: string;
}
export interface Flow {
  why: string;
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: "TCP" | "UDP";
}

const NAME = "kubernetes.io/metadata.name";
const ours = (w: K8sObject): Endpoint => ({
  workload: w.metadata.name,
  labels: podLabels(w),
  namespace: w.metadata.namespace ?? "",
});
/** Any pod of a namespace we do not control (labels unknown). */
const elsewhere = (namespace: string, labels: Labels = {}): Endpoint => ({ labels, namespace });

function env(c: ReturnType<typeof containers>[number], name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}
function flag(c: ReturnType<typeof containers>[number], name: string): string | undefined {
  const args = c.args ?? [];
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Flows to the pods behind the Service an address names, on the target container port. */
function toService(
  objects: K8sObject[],
  from: Endpoint,
  address: string | undefined,
  why: string,
  ns: string,
): Flow[] {
  if (!address) return [];
  const found = serviceAt(objects, address.replace(/^(https?|nats|grpc):\/\//, ""), ns);
  if (!found) return [];
  const selector = (found.service.spec as { selector?: Labels }).selector ?? {};
  return workloads(objects)
    .filter((w) => matches({ matchLabels: selector }, podLabels(w)))
    .flatMap((w) => {
      const port = containerPort(w, found.port.targetPort ?? found.port.port);
      return port === undefined ? [] : [{ why, from, to: ours(w), port, protocol: "TCP" as const }];
    });
}

export function neededFlows(objects: K8sObject[]): Flow[] {
  const flows: Flow[] = [];
  for (const w of workloads(objects)) {
    const ns = w.metadata.namespace ?? "";
    const me = ours(w);
    for (const c of containers(w)) {
      const nats = env(c, "NATS_URL") ?? flag(c, "--nats");
      flows.push(...toService(objects, me, nats, `${w.metadata.name} connects to NATS`, ns));
      flows.push(
        ...toService(
          objects,
          me,
          env(c, "OTEL_EXPORTER_OTLP_ENDPOINT"),
          `${w.metadata.name} exports spans`,
          ns,
        ),
      );
      flows.push(
        ...toService(
          objects,
          me,
          flag(c, "--control-plane"),
          `${w.metadata.name} follows the control plane`,
          ns,
        ),
      );
      // Prometheus (namespace monitoring) scrapes what the pod template announces.
      const annotations =
        (w.spec as { template: { metadata?: { annotations?: Labels } } }).template.metadata?.annotations ??
        {};
      if (annotations["prometheus.io/scrape"] === "true")
        flows.push({
          why: `prometheus scrapes ${w.metadata.name}`,
          from: elsewhere("monitoring"),
          to: me,
          port: Number(annotations["prometheus.io/port"]),
          protocol: "TCP",
        });
    }
  }
  // NATS cluster routes named in the server config.
  for (const cm of objects.filter((o) => o.kind === "ConfigMap")) {
    for (const text of Object.values((cm.data ?? {}) as Labels)) {
      for (const m of text.matchAll(/nats(?:-route)?:\/\/([a-z0-9-]+)-\d+\.([a-z0-9-]+):(\d+)/g)) {
        const sts = byKind(objects, "StatefulSet", m[1] as string);
        if (sts)
          flows.push({
            why: "NATS cluster routes",
            from: ours(sts),
            to: ours(sts),
            port: Number(m[3]),
            protocol: "TCP",
          });
      }
    }
  }
  for (const so of objects.filter((o) => o.kind === "ScaledObject")) {
    const triggers = (so.spec as { triggers: { metadata: Labels }[] }).triggers;
    for (const t of triggers)
      flows.push(
        ...toService(
          objects,
          elsewhere("keda"),
          t.metadata.scalerAddress,
          "KEDA asks the external scaler",
          so.metadata.namespace ?? "",
        ),
      );
  }
  for (const ing of objects.filter((o) => o.kind === "Ingress")) {
    const rules =
      (
        ing.spec as {
          rules?: {
            http?: {
              paths: { backend: { service: { name: string; port: { name?: string; number?: number } } } }[];
            };
          }[];
        }
      ).rules ?? [];
    for (const path of rules.flatMap((r) => r.http?.paths ?? [])) {
      const svc = byKind(objects, "Service", path.backend.service.name);
      const port = (svc?.spec as { ports?: { name?: string; port: number }[] } | undefined)?.ports?.find(
        (p) => p.name === path.backend.service.port.name || p.port === path.backend.service.port.number,
      );
      if (port)
        flows.push(
          ...toService(
            objects,
            elsewhere("ingress-controller"),
            `${path.backend.service.name}:${port.port}`,
            "the ingress controller forwards HTTP",
            ing.metadata.namespace ?? "",
          ),
        );
    }
  }
  // People reach the Jaeger UI (a Service port named "ui").
  for (const svc of objects.filter((o) => o.kind === "Service")) {
    const ui = (svc.spec as { ports: { name?: string; port: number }[] }).ports.find((p) => p.name === "ui");
    if (ui)
      flows.push(
        ...toService(
          objects,
          elsewhere("people"),
          `${svc.metadata.name}:${ui.port}`,
          "people open the UI",
          svc.metadata.namespace ?? "",
        ),
      );
  }
  // Every pod that opens a connection resolves names through kube-dns.
  const dns = elsewhere("kube-system", { "k8s-app": "kube-dns" });
  const sources = new Map(flows.filter((f) => f.from.workload).map((f) => [f.from.workload, f.from]));
  for (const from of sources.values()) {
    for (const protocol of ["UDP", "TCP"] as const)
      flows.push({ why: "DNS", from, to: dns, port: 53, protocol });
  }
  return flows;
}

const policies = (objects: K8sObject[]) =>
  objects
    .filter((o) => o.kind === "NetworkPolicy")
    .map((o) => ({ name: o.metadata.name, ns: o.metadata.namespace ?? "", spec: o.spec as Policy }));

function peerMatches(peer: Peer, policyNs: string, e: Endpoint): boolean {
  if (peer.ipBlock) return false;
  const nsOk = peer.namespaceSelector
    ? matches(peer.namespaceSelector, { [NAME]: e.namespace })
    : e.namespace === policyNs;
  if (!nsOk) return false;
  return peer.podSelector ? matches(peer.podSelector, e.labels) : true;
}
function portMatches(
  rule: Rule,
  port: number,
  protocol: string,
  dst: Endpoint,
  objects: K8sObject[],
): boolean {
  if (!rule.ports || rule.ports.length === 0) return true;
  return rule.ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (typeof p.port === "string") {
      const w = dst.workload
        ? (byKind(objects, "Deployment", dst.workload) ?? byKind(objects, "StatefulSet", dst.workload))
        : undefined;
      return w !== undefined && containerPort(w, p.port) === port;
    }
    return p.port === undefined || p.port === port;
  });
}

/** Whether one direction allows a flow; `hits` collects the rules (policy/direction/index) that did. */
function allows(
  objects: K8sObject[],
  direction: "Ingress" | "Egress",
  flow: Flow,
  hits?: Set<string>,
): boolean {
  const self = direction === "Ingress" ? flow.to : flow.from;
  const other = direction === "Ingress" ? flow.from : flow.to;
  const selecting = policies(objects).filter(
    (p) =>
      p.ns === self.namespace &&
      matches(p.spec.podSelector, self.labels) &&
      (p.spec.policyTypes ?? ["Ingress"]).includes(direction),
  );
  if (selecting.length === 0) return true;
  let allowed = false;
  for (const p of selecting) {
    const rules = (direction === "Ingress" ? p.spec.ingress : p.spec.egress) ?? [];
    rules.forEach((rule, i) => {
      const peers = (direction === "Ingress" ? rule.from : rule.to) ?? [];
      const peerOk = peers.length === 0 || peers.some((peer) => peerMatches(peer, p.ns, other));
      if (peerOk && portMatches(rule, flow.port, flow.protocol, flow.to, objects)) {
        allowed = true;
        hits?.add(`${p.name}/${direction}/${i}`);
      }
    });
  }
  return allowed;
}

/** Needed flows the policies block, and policy rules no needed flow uses. */
export function networkProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const flows = neededFlows(objects);
  const used = new Set<string>();
  for (const f of flows) {
    const ok =
      (f.from.workload === undefined || allows(objects, "Egress", f, used)) &&
      (f.to.workload === undefined || allows(objects, "Ingress", f, used));
    if (!ok)
      problems.push(
        `blocked: ${f.why} (${f.from.workload ?? f.from.namespace} -> ${f.to.workload ?? f.to.namespace}:${f.port}/${f.protocol})`,
      );
  }
  const all = workloads(objects);
  const denyAll = policies(objects).some(
    (p) =>
      Object.keys(p.spec.podSelector).length === 0 &&
      ["Ingress", "Egress"].every((d) => p.spec.policyTypes?.includes(d)) &&
      !p.spec.ingress &&
      !p.spec.egress,
  );
  if (all.length > 0 && !denyAll)
    problems.push("no default-deny policy (podSelector {}, Ingress and Egress, no rules)");
  for (const p of policies(objects)) {
    for (const direction of ["Ingress", "Egress"] as const) {
      const rules = (direction === "Ingress" ? p.spec.ingress : p.spec.egress) ?? [];
      rules.forEach((rule, i) => {
        if (!rule.ports || rule.ports.length === 0)
          problems.push(`${p.name}: ${direction} rule ${i} allows every port`);
        if (!used.has(`${p.name}/${direction}/${i}`))
          problems.push(`${p.name}: ${direction} rule ${i} allows a flow no component needs`);
        // Each peer and port of a rule must be used too: a rule is no place to widen a needed flow.
        const peers = (direction === "Ingress" ? rule.from : rule.to) ?? [undefined];
        for (const peer of peers.length > 0 ? peers : [undefined]) {
          for (const port of rule.ports ?? []) {
            const single = { ...rule, ports: [port] };
            const needed = flows.some((f) => {
              const here = direction === "Ingress" ? f.to : f.from;
              const other = direction === "Ingress" ? f.from : f.to;
              return (
                here.workload !== undefined &&
                here.namespace === p.ns &&
                matches(p.spec.podSelector, here.labels) &&
                (peer === undefined || peerMatches(peer, p.ns, other)) &&
                portMatches(single, f.port, f.protocol, f.to, objects)
              );
            });
            if (!needed)
              problems.push(
                `${p.name}: ${direction} rule ${i} opens ${port.protocol ?? "TCP"} ${port.port} to ${JSON.stringify(peer ?? "anyone")}, which no needed flow uses`,
              );
          }
        }
      });
    }
  }
  return problems;
}
