/**
 * deploy/ without a cluster: every overlay renders (our kustomize subset; `kubectl kustomize` gives
 * the same objects where kubectl is installed), every object passes the Kubernetes schemas with no
 * unknown field, and the cross-object checks hold. Each check is then shown to fail on a copy
 * broken in the way it guards against.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import test from "ava";
import { parseAllDocuments } from "yaml";
import {
  podProblems,
  portProblems,
  referenceProblems,
  scaledObjectProblems,
  selectorProblems,
} from "./checks.js";
import { cliProblems } from "./cli-consistency.js";
import { containersOf, type K8sObject, renderKustomization } from "./kustomize.js";
import { metricsProblems } from "./metrics.js";
import { networkProblems } from "./network.js";
import { root } from "./processes.js";
import { schemaProblems } from "./schema.js";

const OVERLAYS = ["dev", "production", "production-tls"];
const overlayDir = (name: string) => path.join(root, "deploy/overlays", name);

/** Actor types an entry exports (the compiled path in the image maps back to its source). */
const entryTypes = new Map<string, string[]>();
async function loadEntry(entry: string): Promise<void> {
  const source = path.join(root, entry.replace(/^dist\//, "").replace(/\.js$/, ".ts"));
  const mod = (await import(source)) as Record<string, unknown>;
  entryTypes.set(
    entry,
    Object.keys(mod).filter((k) => typeof mod[k] === "function"),
  );
}
const typesOf = (entry: string) => entryTypes.get(entry) ?? [];

function allProblems(objects: K8sObject[]): string[] {
  return [
    ...objects.flatMap(schemaProblems),
    ...selectorProblems(objects),
    ...portProblems(objects),
    ...referenceProblems(objects),
    ...podProblems(objects, natsAwareDrain(objects)),
    ...scaledObjectProblems(objects),
    ...metricsProblems(objects),
    ...networkProblems(objects),
    ...cliProblems(objects, { typesOf }),
  ];
}

/** NATS drains for its lame-duck duration plus grace period (read from its config); others 30 s. */
function natsAwareDrain(objects: K8sObject[]) {
  const conf =
    (
      objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "nats-config")?.data as
        | Record<string, string>
        | undefined
    )?.["nats.conf"] ?? "";
  const seconds = (key: string) => Number(new RegExp(`${key}:\\s*(\\d+)s`).exec(conf)?.[1] ?? 0);
  return (w: K8sObject) =>
    w.metadata.name === "nats" ? seconds("lame_duck_duration") + seconds("lame_duck_grace_period") : 30;
}

const render = (name: string) => renderKustomization(overlayDir(name));
const find = (objects: K8sObject[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} not rendered`);
  return o;
};
const podSpec = (o: K8sObject) => (o.spec as { template: { spec: Record<string, unknown> } }).template.spec;
const container = (o: K8sObject) =>
  containersOf(o)[0] as unknown as Record<string, unknown> & {
    args: string[];
    env: { name: string; value?: string }[];
  };

test.before(async () => {
  const entries = new Set<string>();
  for (const name of OVERLAYS)
    for (const o of render(name))
      for (const c of containersOf(o) as { args?: string[] }[])
        if (c.args?.[0] === "host" && c.args[1]) entries.add(c.args[1]);
  for (const e of entries) await loadEntry(e);
});

for (const name of OVERLAYS) {
  test(`manifests - ${name} renders, passes the schemas with no unknown field, and every cross-object check`, (t) => {
    const objects = render(name);
    t.true(objects.length > 20);
    t.deepEqual(allProblems(objects), []);
  });
}

test("manifests - kubectl kustomize renders the same objects as our renderer (where kubectl is installed)", (t) => {
  let kubectl = true;
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
  } catch {
    kubectl = false;
  }
  if (!kubectl) {
    t.log("kubectl is not installed: compared nothing (our renderer's own tests still ran)");
    t.pass();
    return;
  }
  for (const name of OVERLAYS) {
    const theirs = parseAllDocuments(
      execFileSync("kubectl", ["kustomize", overlayDir(name)], { encoding: "utf8" }),
    ).map((d) => d.toJS() as K8sObject);
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    const ours = new Map(render(name).map((o) => [key(o), o]));
    t.deepEqual([...ours.keys()].sort(), theirs.map(key).sort(), name);
    for (const o of theirs) t.true(isDeepStrictEqual(ours.get(key(o)), o), `${name}: ${key(o)} differs`);
  }
});

test("manifests - production runs R3: three NATS nodes routed to each other, hosts and control plane at 3 replicas", (t) => {
  const objects = render("production");
  t.is((find(objects, "StatefulSet", "nats").spec as { replicas: number }).replicas, 3);
  const args = (n: string) => container(find(objects, "Deployment", n)).args;
  t.is(args("troupe-host-default")[args("troupe-host-default").indexOf("--replicas") + 1], "3");
  t.is(args("troupe-control-plane")[args("troupe-control-plane").indexOf("--kv-replicas") + 1], "3");
  t.regex(
    (find(objects, "ConfigMap", "nats-config").data as Record<string, string>)["nats.conf"] ?? "",
    /nats-2\.nats-headless:6222/,
  );
});

// --- each check bites on a broken copy -------------------------------------------------------

function broken(mutate: (objects: K8sObject[]) => void): string[] {
  const objects = render("production");
  mutate(objects);
  return allProblems(objects);
}
const mentions = (problems: string[], text: string) => problems.some((p) => p.includes(text));

test("manifests - a Service whose selector matches no pod is caught", (t) => {
  const problems = broken((o) => {
    (find(o, "Service", "troupe-gateway").spec as { selector: Record<string, string> }).selector = {
      "app.kubernetes.io/name": "gatway",
    };
  });
  t.true(mentions(problems, "Service/troupe-gateway: selects no pod"), problems.join("\n"));
});

test("manifests - a missing Secret, Secret key or ServiceAccount is caught", (t) => {
  const noSecret = broken((o) => o.splice(o.indexOf(find(o, "Secret", "nats-users")), 1));
  t.true(mentions(noSecret, "Secret nats-users does not exist"), noSecret.join("\n"));
  const noKey = broken((o) => {
    delete (find(o, "Secret", "control-plane-token").stringData as Record<string, string>).token;
  });
  t.true(mentions(noKey, "Secret control-plane-token has no key token"), noKey.join("\n"));
  const noAccount = broken((o) => o.splice(o.indexOf(find(o, "ServiceAccount", "troupe-gateway")), 1));
  t.true(mentions(noAccount, "ServiceAccount troupe-gateway does not exist"), noAccount.join("\n"));
});

test("manifests - a securityContext that breaks Pod Security restricted, or a writable root, is caught", (t) => {
  const escalation = broken((o) => {
    (
      container(find(o, "Deployment", "troupe-host-default")).securityContext as Record<string, unknown>
    ).allowPrivilegeEscalation = true;
  });
  t.true(mentions(escalation, "allows privilege escalation"), escalation.join("\n"));
  const rootUser = broken((o) => {
    (podSpec(find(o, "StatefulSet", "nats")).securityContext as Record<string, unknown>).runAsUser = 0;
  });
  t.true(mentions(rootUser, "runs as user 0"), rootUser.join("\n"));
  const writable = broken((o) => {
    delete (container(find(o, "Deployment", "troupe-gateway")).securityContext as Record<string, unknown>)
      .readOnlyRootFilesystem;
  });
  t.true(mentions(writable, "writable root filesystem"), writable.join("\n"));
  const caps = broken((o) => {
    (container(find(o, "Deployment", "jaeger")).securityContext as { capabilities: unknown }).capabilities = {
      add: ["NET_ADMIN"],
    };
  });
  t.true(mentions(caps, "does not drop ALL"), caps.join("\n"));
});

test("manifests - a grace period shorter than preStop plus a drain is caught (NATS: its lame-duck time)", (t) => {
  const host = broken((o) => {
    podSpec(find(o, "Deployment", "troupe-host-default")).terminationGracePeriodSeconds = 20;
  });
  t.true(mentions(host, "Deployment/troupe-host-default: terminationGracePeriodSeconds 20"), host.join("\n"));
  const nats = broken((o) => {
    const cm = find(o, "ConfigMap", "nats-config").data as Record<string, string>;
    cm["nats.conf"] = (cm["nats.conf"] ?? "").replace("lame_duck_duration: 30s", "lame_duck_duration: 120s");
  });
  t.true(mentions(nats, "StatefulSet/nats: terminationGracePeriodSeconds 60"), nats.join("\n"));
});

test("manifests - a probe on an undeclared port and a target port no container has are caught", (t) => {
  const probe = broken((o) => {
    (
      container(find(o, "Deployment", "troupe-host-default")).readinessProbe as { httpGet: { port: unknown } }
    ).httpGet.port = 9999;
  });
  t.true(mentions(probe, "readinessProbe hits port 9999"), probe.join("\n"));
  const target = broken((o) => {
    (find(o, "Service", "nats").spec as { ports: { targetPort: unknown }[] }).ports[0] = {
      port: 4222,
      targetPort: "client",
    } as never;
  });
  t.true(mentions(target, "Service/nats: target port client"), target.join("\n"));
});

test("manifests - a ScaledObject whose target or scaler does not exist, or whose group is another's, is caught", (t) => {
  const target = broken((o) => {
    (
      find(o, "ScaledObject", "troupe-host-batch").spec as { scaleTargetRef: { name: string } }
    ).scaleTargetRef.name = "troupe-host-bulk";
  });
  t.true(mentions(target, "target troupe-host-bulk is not a Deployment"), target.join("\n"));
  const scaler = broken((o) => {
    const trig = (
      find(o, "ScaledObject", "troupe-host-batch").spec as {
        triggers: { metadata: Record<string, string> }[];
      }
    ).triggers[0];
    if (trig) trig.metadata.scalerAddress = "troupe-control-plane.troupe.svc.cluster.local:9000";
  });
  t.true(mentions(scaler, "scalerAddress"), scaler.join("\n"));
  const group = broken((o) => {
    const trig = (
      find(o, "ScaledObject", "troupe-host-batch").spec as {
        triggers: { metadata: Record<string, string> }[];
      }
    ).triggers[0];
    if (trig) trig.metadata.group = "default";
  });
  t.true(mentions(group, "trigger group default"), group.join("\n"));
});

test("manifests - a ScaledObject without authentication, naming a missing TriggerAuthentication, or one whose Secret or key is missing, is caught", (t) => {
  const trigger = (o: K8sObject[]) =>
    (
      find(o, "ScaledObject", "troupe-host-batch").spec as {
        triggers: { authenticationRef?: { name: string } }[];
      }
    ).triggers[0] as { authenticationRef?: { name: string } };
  const none = broken((o) => {
    delete trigger(o).authenticationRef;
  });
  t.true(
    mentions(none, "ScaledObject/troupe-host-batch: its external trigger has no authenticationRef"),
    none.join("\n"),
  );
  const unknown = broken((o) => {
    trigger(o).authenticationRef = { name: "troupe-scalr" };
  });
  t.true(
    mentions(unknown, "authenticationRef troupe-scalr is not a TriggerAuthentication here"),
    unknown.join("\n"),
  );
  const gone = broken((o) => o.splice(o.indexOf(find(o, "TriggerAuthentication", "troupe-scaler")), 1));
  t.true(mentions(gone, "authenticationRef troupe-scaler is not a TriggerAuthentication"), gone.join("\n"));
  // cert-manager writes the client Secret: without its Certificate, KEDA has nothing to present.
  const noSecret = broken((o) => o.splice(o.indexOf(find(o, "Certificate", "keda-scaler-client-tls")), 1));
  t.true(
    mentions(noSecret, "TriggerAuthentication/troupe-scaler: Secret keda-scaler-client-tls does not exist"),
    noSecret.join("\n"),
  );
  const badKey = broken((o) => {
    const refs = (
      find(o, "TriggerAuthentication", "troupe-scaler").spec as { secretTargetRef: { key: string }[] }
    ).secretTargetRef;
    if (refs[2]) refs[2].key = "tls.pem";
  });
  t.true(mentions(badKey, "Secret keda-scaler-client-tls has no key tls.pem"), badKey.join("\n"));
  const noCa = broken((o) => {
    const refs = (find(o, "TriggerAuthentication", "troupe-scaler").spec as { secretTargetRef: unknown[] })
      .secretTargetRef;
    refs.splice(0, 1);
  });
  t.true(mentions(noCa, "TriggerAuthentication/troupe-scaler: no caCert"), noCa.join("\n"));
  // The control plane's own scaler certificate too.
  const noServerCert = broken((o) =>
    o.splice(o.indexOf(find(o, "Certificate", "troupe-control-plane-scaler-tls")), 1),
  );
  t.true(
    mentions(
      noServerCert,
      "Deployment/troupe-control-plane: Secret troupe-control-plane-scaler-tls does not exist",
    ),
    noServerCert.join("\n"),
  );
});

test("manifests - production: KEDA reaches the control plane only on its mTLS scaler port, never the token port", (t) => {
  const objects = render("production");
  const args = container(find(objects, "Deployment", "troupe-control-plane")).args;
  for (const flag of ["--scaler-port", "--scaler-tls-cert", "--scaler-tls-key", "--scaler-tls-ca"])
    t.true(args.includes(flag), flag);
  t.is(args[args.indexOf("--scaler-port") + 1], "7234");
  // Readiness stays on the main port.
  t.deepEqual(
    (container(find(objects, "Deployment", "troupe-control-plane")).readinessProbe as { grpc: unknown }).grpc,
    { port: 7233 },
  );
  const keda = find(objects, "NetworkPolicy", "troupe-control-plane-keda").spec as {
    ingress: { ports: { port: number }[] }[];
  };
  t.deepEqual(
    keda.ingress.flatMap((r) => r.ports.map((p) => p.port)),
    [7234],
  );
  // Opening 7233 to KEDA again is a rule no needed flow uses; sending KEDA there is blocked.
  const wider = broken((o) => {
    (
      find(o, "NetworkPolicy", "troupe-control-plane-keda").spec as { ingress: { ports: unknown[] }[] }
    ).ingress[0]?.ports.push({ protocol: "TCP", port: 7233 });
  });
  t.true(mentions(wider, "troupe-control-plane-keda: Ingress rule 0 opens TCP 7233"), wider.join("\n"));
  const back = broken((o) => {
    const trig = (
      find(o, "ScaledObject", "troupe-host-default").spec as {
        triggers: { metadata: Record<string, string> }[];
      }
    ).triggers[0];
    if (trig) trig.metadata.scalerAddress = "troupe-control-plane.troupe.svc.cluster.local:7233";
  });
  t.true(mentions(back, "blocked: KEDA asks the external scaler"), back.join("\n"));
});

test("manifests - the control plane exports its scaling gauges and Prometheus may scrape them; without --metrics-port, the port or the annotation it is caught", (t) => {
  for (const name of OVERLAYS) {
    const w = find(render(name), "Deployment", "troupe-control-plane");
    const args = container(w).args;
    t.is(args[args.indexOf("--metrics-port") + 1], "9464", name);
  }
  const plane = (o: K8sObject[]) => find(o, "Deployment", "troupe-control-plane");
  const noFlag = broken((o) => {
    const args = container(plane(o)).args;
    args.splice(args.indexOf("--metrics-port"), 2);
  });
  t.true(
    mentions(
      noFlag,
      "Deployment/troupe-control-plane: troupe control-plane serves no metrics (no --metrics-port): its scaling decisions are not exported",
    ),
    noFlag.join("\n"),
  );
  const noPort = broken((o) => {
    const c = container(plane(o)) as unknown as { ports: { name: string }[] };
    c.ports = c.ports.filter((p) => p.name !== "metrics");
  });
  t.true(
    mentions(noPort, "Deployment/troupe-control-plane: metrics port 9464 is not a declared container port"),
    noPort.join("\n"),
  );
  const noAnnotation = broken((o) => {
    const template = (plane(o).spec as { template: { metadata: { annotations?: Record<string, string> } } })
      .template;
    delete template.metadata.annotations;
  });
  t.true(
    mentions(
      noAnnotation,
      "Deployment/troupe-control-plane: its pod template does not announce metrics port 9464 for scraping",
    ),
    noAnnotation.join("\n"),
  );
  // Announced but not let in: Prometheus (namespace monitoring) is blocked by the control plane's policy.
  const blocked = broken((o) => {
    const np = find(o, "NetworkPolicy", "troupe-control-plane").spec as { ingress: unknown[] };
    np.ingress.splice(1, 1);
  });
  t.true(
    mentions(
      blocked,
      "blocked: prometheus scrapes troupe-control-plane (monitoring -> troupe-control-plane:9464",
    ),
    blocked.join("\n"),
  );
});

test("manifests - a NetworkPolicy that blocks a needed flow is caught, and so is one that opens more", (t) => {
  const blocked = broken((o) => {
    const np = find(o, "NetworkPolicy", "troupe-host").spec as { egress: unknown[] };
    np.egress.splice(0, 1); // the rule to NATS
  });
  t.true(mentions(blocked, "blocked: troupe-host-default connects to NATS"), blocked.join("\n"));
  const routes = broken((o) => o.splice(o.indexOf(find(o, "NetworkPolicy", "nats-routes")), 1));
  t.true(mentions(routes, "blocked: NATS cluster routes"), routes.join("\n"));
  const dns = broken((o) => o.splice(o.indexOf(find(o, "NetworkPolicy", "dns")), 1));
  t.true(mentions(dns, "blocked: DNS"), dns.join("\n"));
  const extraPort = broken((o) => {
    const np = find(o, "NetworkPolicy", "nats").spec as { ingress: { ports: unknown[] }[] };
    np.ingress[0]?.ports.push({ protocol: "TCP", port: 8222 });
  });
  t.true(mentions(extraPort, "nats: Ingress rule 0 opens TCP 8222"), extraPort.join("\n"));
  const extraPeer = broken((o) => {
    const np = find(o, "NetworkPolicy", "troupe-control-plane").spec as { ingress: { from: unknown[] }[] };
    np.ingress[0]?.from.push({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "troupe-gateway" } },
    });
  });
  t.true(mentions(extraPeer, "troupe-control-plane: Ingress rule 0 opens TCP 7233"), extraPeer.join("\n"));
  const noDeny = broken((o) => o.splice(o.indexOf(find(o, "NetworkPolicy", "default-deny")), 1));
  t.true(mentions(noDeny, "no default-deny policy"), noDeny.join("\n"));
});

test("manifests - an unknown field, a wrong type and an unknown kind are caught by the schemas", (t) => {
  const typo = broken((o) => {
    container(find(o, "Deployment", "troupe-gateway")).imagePullPolcy = "Always";
  });
  t.true(
    mentions(
      typo,
      "Deployment/troupe-gateway: unknown field .spec.template.spec.containers[0].imagePullPolcy",
    ),
    typo.join("\n"),
  );
  const nested = broken((o) => {
    (find(o, "ScaledObject", "troupe-host-default").spec as Record<string, unknown>).minReplicas = 1;
  });
  t.true(
    mentions(nested, "ScaledObject/troupe-host-default: unknown field .spec.minReplicas"),
    nested.join("\n"),
  );
  const type = broken((o) => {
    (find(o, "Service", "jaeger").spec as { ports: { port: unknown }[] }).ports[0] = { port: "4317" };
  });
  t.true(mentions(type, "Service/jaeger: "), type.join("\n"));
  const kind = broken((o) => o.push({ apiVersion: "v1", kind: "Pod", metadata: { name: "x" } }));
  t.true(mentions(kind, "Pod/x: no schema"), kind.join("\n"));
});

test("manifests - an image tag, a flag, an env var, a NATS user, an inbox prefix, a host group or permissions the code does not match are caught", (t) => {
  const tag = broken((o) => {
    container(find(o, "Deployment", "troupe-gateway")).image = "troupe:0.0.1";
  });
  t.true(mentions(tag, "image troupe:0.0.1 is not troupe:"), tag.join("\n"));
  const flag = broken((o) =>
    container(find(o, "Deployment", "troupe-control-plane")).args.push("--health-port", "8081"),
  );
  t.true(mentions(flag, "troupe control-plane has no --health-port"), flag.join("\n"));
  const env = broken((o) =>
    container(find(o, "Deployment", "troupe-host-default")).env.push({ name: "TROUPE_HOST_GROUP" }),
  );
  t.true(mentions(env, "the code never reads TROUPE_HOST_GROUP"), env.join("\n"));
  const user = broken((o) => {
    const e = container(find(o, "Deployment", "troupe-gateway")).env.find((x) => x.name === "NATS_USER") as {
      value?: string;
    };
    e.value = "troupe-host";
  });
  t.true(mentions(user, "NATS_USER is troupe-host"), user.join("\n"));
  const inbox = broken((o) => {
    const e = container(find(o, "Deployment", "troupe-gateway")).env.find(
      (x) => x.name === "NATS_INBOX_PREFIX",
    ) as { value?: string };
    e.value = "_INBOX";
  });
  t.true(mentions(inbox, "NATS_INBOX_PREFIX is _INBOX, not _INBOX_troupe-gateway"), inbox.join("\n"));
  const group = broken((o) => {
    const args = container(find(o, "Deployment", "troupe-host-batch")).args;
    args.splice(args.indexOf("--group"), 2);
  });
  t.true(
    mentions(group, "troupe-host-batch: --group is undefined, not its host-group label batch"),
    group.join("\n"),
  );
  const r1 = broken((o) => {
    const args = container(find(o, "Deployment", "troupe-host-batch")).args;
    args[args.indexOf("--replicas") + 1] = "1";
  });
  t.true(mentions(r1, "--replicas 1 on a 3-node cluster"), r1.join("\n"));
  const auth = broken((o) => {
    const cm = find(o, "ConfigMap", "nats-auth").data as Record<string, string>;
    cm["auth.conf"] = (cm["auth.conf"] ?? "").replace('"troupe.rpc.>"', '"troupe.>"');
  });
  t.true(mentions(auth, "ConfigMap/nats-auth is not what `troupe auth gen` writes"), auth.join("\n"));
});

test("manifests - with TLS, every Troupe process trusts the CA of the Secret cert-manager writes; without the Certificate the Secret is missing", (t) => {
  const objects = renderKustomization(overlayDir("production-tls"));
  for (const name of ["troupe-host-default", "troupe-host-batch", "troupe-control-plane", "troupe-gateway"]) {
    t.true(
      container(find(objects, "Deployment", name)).env.some((e) => e.name === "NATS_CA"),
      name,
    );
  }
  t.regex(
    (find(objects, "ConfigMap", "nats-config").data as Record<string, string>)["nats.conf"] ?? "",
    /tls \{/,
  );
  objects.splice(objects.indexOf(find(objects, "Certificate", "nats-tls")), 1);
  const problems = allProblems(objects);
  t.true(mentions(problems, "Secret nats-tls does not exist"), problems.join("\n"));
});

test("manifests - the renderer refuses what it does not implement and patches that miss", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "troupe-kustomize-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    path.join(dir, "cm.yaml"),
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n",
  );
  writeFileSync(path.join(dir, "kustomization.yaml"), "resources: [cm.yaml]\nconfigMapGenerator: []\n");
  t.throws(() => renderKustomization(dir), { message: /configMapGenerator.*not supported/ });
  writeFileSync(
    path.join(dir, "kustomization.yaml"),
    "resources: [cm.yaml]\nnamespace: n\npatches:\n  - target: { kind: ConfigMap, name: a }\n    patch: |-\n      - op: replace\n        path: /data/missing\n        value: x\n",
  );
  t.throws(() => renderKustomization(dir), { message: /does not exist/ });
  writeFileSync(
    path.join(dir, "kustomization.yaml"),
    "resources: [cm.yaml]\nnamespace: n\npatches:\n  - target: { kind: ConfigMap, name: a }\n    patch: |-\n      - op: add\n        path: /data/j\n        value: w\n      - op: remove\n        path: /data/k\n",
  );
  const [cm] = renderKustomization(dir);
  t.deepEqual(cm, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "a", namespace: "n" },
    data: { j: "w" },
  });
});
