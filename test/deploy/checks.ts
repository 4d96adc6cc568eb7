/**
 * Cross-object checks of a rendered overlay. Each returns the problems it found (empty: none), each
 * naming the object, so a test can assert both that the real manifests pass and that a broken copy
 * fails for the reason it was broken.
 */
import { containersOf, type K8sObject, podSpecOf } from "./kustomize.js";

type Labels = Record<string, string>;
type Selector = {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
};
type Container = ReturnType<typeof containersOf>[number] & {
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: { name: string; value?: string; valueFrom?: Record<string, { name: string; key: string }> }[];
  args?: string[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: unknown; httpGet?: unknown } };
};
type Probe = {
  httpGet?: { port: number | string };
  tcpSocket?: { port: number | string };
  grpc?: { port: number };
};

export const WORKLOADS = new Set(["Deployment", "StatefulSet"]);
const id = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

export function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => WORKLOADS.has(o.kind));
}
export function podLabels(o: K8sObject): Labels {
  return ((o.spec as { template?: { metadata?: { labels?: Labels } } }).template?.metadata?.labels ??
    {}) as Labels;
}
export function containers(o: K8sObject): Container[] {
  return containersOf(o) as Container[];
}
export function byKind(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

export function matches(selector: Selector | undefined, labels: Labels): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const value = labels[e.key] ?? "";
    if (e.operator === "In" && !(has && e.values?.includes(value))) return false;
    if (e.operator === "NotIn" && has && e.values?.includes(value)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/** The workloads whose pods a label map selects (a Service's selector is plain labels). */
function selected(objects: K8sObject[], selector: Selector): K8sObject[] {
  return workloads(objects).filter((w) => matches(selector, podLabels(w)));
}

/** Services, PDBs and NetworkPolicies select pods that exist; workloads select their own pods. */
export function selectorProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    const sel = (w.spec as { selector: Selector }).selector;
    if (!matches(sel, podLabels(w)))
      problems.push(`${id(w)}: its selector does not match its own pod labels`);
  }
  for (const o of objects) {
    let sel: Selector | undefined;
    if (o.kind === "Service") sel = { matchLabels: (o.spec as { selector?: Labels }).selector ?? {} };
    else if (o.kind === "PodDisruptionBudget" || o.kind === "NetworkPolicy")
      sel =
        (o.spec as { selector?: Selector; podSelector?: Selector }).selector ??
        (o.spec as { podSelector?: Selector }).podSelector;
    else continue;
    const empty = !sel?.matchLabels && !sel?.matchExpressions?.length;
    if (o.kind === "NetworkPolicy" && empty) continue; // `{}`: every pod, by intent (default deny)
    if (empty || Object.keys(sel?.matchLabels ?? {}).length + (sel?.matchExpressions?.length ?? 0) === 0)
      problems.push(`${id(o)}: selects every pod`);
    else if (selected(objects, sel as Selector).length === 0)
      problems.push(`${id(o)}: selects no pod of any workload`);
  }
  return problems;
}

/** The container port a Service target port or probe port names, in a workload; undefined if none. */
export function containerPort(w: K8sObject, port: number | string): number | undefined {
  for (const c of containers(w)) {
    for (const p of c.ports ?? []) if (p.name === port || p.containerPort === port) return p.containerPort;
  }
  return undefined;
}

/** Target ports, probe ports, Ingress backends and scrape ports exist where they point. */
export function portProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const s of objects.filter((o) => o.kind === "Service")) {
    const spec = s.spec as { selector?: Labels; ports: { port: number; targetPort?: number | string }[] };
    for (const w of selected(objects, { matchLabels: spec.selector ?? {} })) {
      for (const p of spec.ports) {
        if (containerPort(w, p.targetPort ?? p.port) === undefined)
          problems.push(`${id(s)}: target port ${p.targetPort ?? p.port} is not a port of ${id(w)}`);
      }
    }
  }
  for (const w of workloads(objects)) {
    for (const c of containers(w)) {
      for (const kind of ["readinessProbe", "livenessProbe", "startupProbe"] as const) {
        const probe = c[kind];
        const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
        if (probe && (port === undefined || containerPort(w, port) === undefined))
          problems.push(`${id(w)}: ${c.name}'s ${kind} hits port ${port}, which it does not declare`);
      }
    }
    const annotations =
      (w.spec as { template: { metadata?: { annotations?: Labels } } }).template.metadata?.annotations ?? {};
    if (annotations["prometheus.io/scrape"] === "true") {
      const port = Number(annotations["prometheus.io/port"]);
      if (containerPort(w, port) === undefined)
        problems.push(`${id(w)}: scrape port ${port} is not declared`);
    }
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
      const { name, port } = path.backend.service;
      const svc = byKind(objects, "Service", name);
      const ports = (svc?.spec as { ports?: { name?: string; port: number }[] } | undefined)?.ports ?? [];
      if (!ports.some((p) => p.name === port.name || p.port === port.number))
        problems.push(`${id(ing)}: backend ${name}:${port.name ?? port.number} is not a Service port`);
    }
  }
  return problems;
}

function secretKeys(o: K8sObject | undefined): string[] {
  if (!o) return [];
  return Object.keys({ ...(o.data as object), ...(o.stringData as object) });
}

/** The problem with a Secret or ConfigMap (and key) `who` names; undefined when it exists. */
function missing(objects: K8sObject[], who: K8sObject, kind: string, name: string, key?: string) {
  // cert-manager writes the Secret a Certificate names, with these keys.
  const issued = (): K8sObject | undefined => {
    const cert = objects.find(
      (o) => o.kind === "Certificate" && (o.spec as { secretName?: string }).secretName === name,
    );
    return cert && { ...cert, kind: "Secret", data: { "tls.crt": "", "tls.key": "", "ca.crt": "" } };
  };
  const o = byKind(objects, kind, name) ?? (kind === "Secret" ? issued() : undefined);
  if (!o) return `${id(who)}: ${kind} ${name} does not exist`;
  if (key !== undefined && !secretKeys(o).includes(key))
    return `${id(who)}: ${kind} ${name} has no key ${key}`;
  return undefined;
}

/** Secrets, ConfigMaps (and their keys), ServiceAccounts and governing Services that pods name exist. */
export function referenceProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const need = (w: K8sObject, kind: string, name: string, key?: string) => {
    const problem = missing(objects, w, kind, name, key);
    if (problem) problems.push(problem);
  };
  for (const w of workloads(objects)) {
    const spec = podSpecOf(w) as { serviceAccountName?: string; volumes?: Record<string, unknown>[] };
    if (spec.serviceAccountName) need(w, "ServiceAccount", spec.serviceAccountName);
    for (const v of spec.volumes ?? []) {
      const secret = v.secret as { secretName: string; items?: { key: string }[] } | undefined;
      const config = v.configMap as { name: string; items?: { key: string }[] } | undefined;
      if (secret)
        for (const key of [undefined, ...(secret.items ?? []).map((i) => i.key)])
          need(w, "Secret", secret.secretName, key);
      if (config)
        for (const key of [undefined, ...(config.items ?? []).map((i) => i.key)])
          need(w, "ConfigMap", config.name, key);
    }
    for (const c of containers(w)) {
      for (const e of c.env ?? []) {
        if (e.valueFrom?.secretKeyRef)
          need(w, "Secret", e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
        if (e.valueFrom?.configMapKeyRef)
          need(w, "ConfigMap", e.valueFrom.configMapKeyRef.name, e.valueFrom.configMapKeyRef.key);
      }
    }
    if (w.kind === "StatefulSet") {
      const svc = byKind(objects, "Service", (w.spec as { serviceName: string }).serviceName);
      if ((svc?.spec as { clusterIP?: string } | undefined)?.clusterIP !== "None")
        problems.push(`${id(w)}: its serviceName is not a headless Service`);
    }
  }
  return problems;
}

/** Seconds a component may take to drain after SIGTERM (turns in flight, shard hand-off, lame duck). */
export const DRAIN_SECONDS = 30;

/**
 * Pod Security Standards "restricted" plus a read-only root filesystem, resources, probes, and a
 * termination grace period longer than the preStop pause plus a drain (NATS: its lame-duck time).
 */
export function podProblems(
  objects: K8sObject[],
  drainSeconds: (w: K8sObject) => number = () => DRAIN_SECONDS,
): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    const spec = podSpecOf(w) as Record<string, unknown> & {
      securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
      volumes?: Record<string, unknown>[];
      terminationGracePeriodSeconds?: number;
    };
    const bad = (what: string) => problems.push(`${id(w)}: ${what}`);
    for (const key of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[key]) bad(`${key} is set`);
    if (spec.volumes?.some((v) => "hostPath" in v)) bad("mounts a hostPath");
    const pod = spec.securityContext ?? {};
    for (const c of containers(w)) {
      const sc = (c.securityContext ?? {}) as {
        runAsNonRoot?: boolean;
        runAsUser?: number;
        privileged?: boolean;
        allowPrivilegeEscalation?: boolean;
        readOnlyRootFilesystem?: boolean;
        capabilities?: { drop?: string[]; add?: string[] };
        seccompProfile?: { type: string };
      };
      const who = `container ${c.name}`;
      if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) bad(`${who} may run as root (runAsNonRoot)`);
      if ((sc.runAsUser ?? pod.runAsUser) === 0) bad(`${who} runs as user 0`);
      if (sc.privileged) bad(`${who} is privileged`);
      if (sc.allowPrivilegeEscalation !== false) bad(`${who} allows privilege escalation`);
      if (!sc.capabilities?.drop?.includes("ALL")) bad(`${who} does not drop ALL capabilities`);
      if ((sc.capabilities?.add ?? []).some((cap) => cap !== "NET_BIND_SERVICE"))
        bad(`${who} adds capabilities`);
      const seccomp = (sc.seccompProfile ?? pod.seccompProfile)?.type;
      if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost")
        bad(`${who} has no RuntimeDefault seccomp profile`);
      if (sc.readOnlyRootFilesystem !== true) bad(`${who} has a writable root filesystem`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory)
        bad(`${who} lacks cpu/memory requests or a memory limit`);
      if (!c.readinessProbe || !c.livenessProbe) bad(`${who} lacks a readiness or liveness probe`);
      const preStop = c.lifecycle?.preStop;
      if (!preStop) bad(`${who} has no preStop hook`);
      const pause = preStop?.sleep?.seconds ?? 0;
      const grace = spec.terminationGracePeriodSeconds ?? 30;
      if (grace <= pause + drainSeconds(w))
        bad(
          `terminationGracePeriodSeconds ${grace} is not longer than preStop ${pause} s + a drain of ${drainSeconds(w)} s`,
        );
    }
  }
  return problems;
}

/**
 * ScaledObjects scale Deployments that exist, through a scaler Service that exists, for their group,
 * authenticated: the scaler port wants KEDA's client certificate, so each external trigger names
 * (authenticationRef) a TriggerAuthentication here whose Secrets and keys exist, with a client
 * certificate, its key and the CA that verifies the server.
 */
export function scaledObjectProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const so of objects.filter((o) => o.kind === "ScaledObject")) {
    const spec = so.spec as {
      scaleTargetRef: { name: string; kind?: string };
      triggers: {
        type: string;
        metadata: Record<string, string>;
        authenticationRef?: { name: string; kind?: string };
      }[];
    };
    for (const trigger of spec.triggers) {
      if (trigger.type !== "external" && trigger.type !== "external-push") continue;
      const authRef = trigger.authenticationRef;
      if (!authRef) {
        problems.push(`${id(so)}: its external trigger has no authenticationRef (the scaler needs mTLS)`);
        continue;
      }
      const auth = byKind(objects, authRef.kind ?? "TriggerAuthentication", authRef.name);
      if (!auth) {
        problems.push(`${id(so)}: authenticationRef ${authRef.name} is not a TriggerAuthentication here`);
        continue;
      }
      const refs =
        (auth.spec as { secretTargetRef?: { parameter: string; name: string; key: string }[] })
          .secretTargetRef ?? [];
      for (const r of refs) {
        const problem = missing(objects, auth, "Secret", r.name, r.key);
        if (problem) problems.push(problem);
      }
      const parameters = new Set(refs.map((r) => r.parameter));
      for (const p of ["caCert", "tlsClientCert", "tlsClientKey"])
        if (!parameters.has(p)) problems.push(`${id(auth)}: no ${p} (KEDA's mutual TLS to the scaler)`);
    }
    const target = byKind(objects, spec.scaleTargetRef.kind ?? "Deployment", spec.scaleTargetRef.name);
    if (!target) {
      problems.push(`${id(so)}: target ${spec.scaleTargetRef.name} is not a Deployment here`);
      continue;
    }
    for (const trigger of spec.triggers) {
      if (trigger.type !== "external" && trigger.type !== "external-push") continue;
      const svc = serviceAt(objects, trigger.metadata.scalerAddress ?? "", so.metadata.namespace);
      if (!svc)
        problems.push(
          `${id(so)}: scalerAddress ${trigger.metadata.scalerAddress} is not a Service port here`,
        );
      const group = target.metadata.labels?.["troupe.dev/host-group"];
      if (trigger.metadata.group !== group)
        problems.push(
          `${id(so)}: trigger group ${trigger.metadata.group} is not ${id(target)}'s host group (${group})`,
        );
    }
  }
  return problems;
}

/**
 * The Service (and its port) an address names: `name:port`, `name.ns:port`, `name.ns.svc...:port`,
 * optionally with a scheme (`nats://`, `http://`). Undefined when it is not one of ours.
 */
export function serviceAt(
  objects: K8sObject[],
  address: string,
  namespace: string | undefined,
):
  | { service: K8sObject; port: { port: number; targetPort?: number | string; protocol?: string } }
  | undefined {
  const m = /^(?:[a-z]+:\/\/)?([a-z0-9-]+)(?:\.([a-z0-9-]+))?(?:\.svc(?:\.cluster\.local)?)?:(\d+)\/?$/.exec(
    address,
  );
  if (!m) return undefined;
  const [, name, ns, port] = m;
  if (ns && ns !== namespace) return undefined;
  const service = byKind(objects, "Service", name as string);
  const p = (service?.spec as { ports?: { port: number }[] } | undefined)?.ports?.find(
    (x) => x.port === Number(port),
  );
  return service && p ? { service, port: p } : undefined;
}
