/**
 * The manifests against the code they run: the troupe image tag is package.json's version, each
 * container's command and flags are ones that command accepts (from the CLI's own usage texts),
 * every environment variable is one the code reads, each component connects as its own NATS user
 * with its own password key and inbox prefix, each host Deployment names its group (`--group`, as
 * its label), stream replicas fit the NATS cluster, and the nats-auth ConfigMap is
 * exactly what `troupe auth gen` writes for the prefix and the actor types the hosts serve.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { inboxPrefixOf, natsUser, passwordVariable, renderAuthorization } from "../../runtime/cli/auth.js";
import { CONTROL_PLANE_USAGE } from "../../runtime/cli/control-plane.js";
import { GATEWAY_USAGE } from "../../runtime/cli/gateway.js";
import { HOST_USAGE } from "../../runtime/cli/host.js";
import { COMPONENTS, type Component } from "../../runtime/cli/nats-permissions.js";
import { byKind, containers, workloads } from "./checks.js";
import type { K8sObject } from "./kustomize.js";
import { root } from "./processes.js";

const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };

export const FLAGS: Record<string, Set<string>> = {
  host: new Set(HOST_USAGE.match(/--[a-z-]+/g) ?? []),
  "control-plane": new Set(CONTROL_PLANE_USAGE.match(/--[a-z-]+/g) ?? []),
  gateway: new Set(GATEWAY_USAGE.match(/--[a-z-]+/g) ?? []),
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return name === "generated" ? [] : sources(file);
    return file.endsWith(".ts") ? [file] : [];
  });
}
/** Every environment variable the code reads (`process.env.X`, and the OTEL_* the SDK setup names). */
export function envNamesRead(): Set<string> {
  const names = new Set<string>();
  for (const file of [...sources(path.join(root, "runtime")), ...sources(path.join(root, "services"))]) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1] as string);
    if (file.includes(`${path.sep}telemetry${path.sep}`))
      for (const m of text.matchAll(/\b(OTEL_[A-Z0-9_]+)/g)) names.add(m[1] as string);
  }
  return names;
}

const COMPONENT_OF: Record<string, Component> = {
  host: "host",
  gateway: "gateway",
  "control-plane": "control-plane",
};

function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

export interface ConsistencyInput {
  /** The actor types an entry module exports, e.g. from `import(entry)`. */
  typesOf(entry: string): readonly string[];
}

export function cliProblems(objects: K8sObject[], input: ConsistencyInput): string[] {
  const problems: string[] = [];
  const envNames = envNamesRead();
  const nats = byKind(objects, "StatefulSet", "nats");
  const natsReplicas = (nats?.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  const natsEnv = nats ? (containers(nats)[0]?.env ?? []) : [];
  const prefixes = new Set<string>();
  const types = new Set<string>();
  for (const w of workloads(objects)) {
    for (const c of containers(w)) {
      if (!/^troupe(:|$)/.test(c.image) && !c.image.includes("/troupe:")) continue;
      const where = `${w.kind}/${w.metadata.name}`;
      if (!c.image.endsWith(`:${pkg.version}`))
        problems.push(`${where}: image ${c.image} is not troupe:${pkg.version}`);
      const args = c.args ?? [];
      const command = args[0] ?? "";
      const known = FLAGS[command];
      if (!known) {
        problems.push(
          `${where}: "${command}" is not a troupe command it can run (host, control-plane, gateway)`,
        );
        continue;
      }
      for (const a of args.filter((x) => x.startsWith("--")))
        if (!known.has(a)) problems.push(`${where}: troupe ${command} has no ${a}`);
      for (const e of c.env ?? [])
        if (!envNames.has(e.name)) problems.push(`${where}: the code never reads ${e.name}`);
      const component = COMPONENT_OF[command] as Component;
      const user = c.env?.find((e) => e.name === "NATS_USER")?.value;
      const password = c.env?.find((e) => e.name === "NATS_PASSWORD")?.valueFrom?.secretKeyRef;
      if (user !== natsUser(component))
        problems.push(`${where}: NATS_USER is ${user}, not ${natsUser(component)}`);
      const inboxPrefix = c.env?.find((e) => e.name === "NATS_INBOX_PREFIX")?.value;
      if (inboxPrefix !== inboxPrefixOf(component))
        problems.push(
          `${where}: NATS_INBOX_PREFIX is ${inboxPrefix}, not ${inboxPrefixOf(component)} (the only inboxes ${natsUser(component)} may subscribe to)`,
        );
      if (command === "host") {
        // Without --group every Deployment of one entry would report the same group (its file name).
        const group = flagValue(args, "--group");
        const label = w.metadata.labels?.["troupe.dev/host-group"];
        if (group !== label)
          problems.push(`${where}: --group is ${group}, not its host-group label ${label}`);
      }
      const served = natsEnv.find((e) => e.name === passwordVariable(component))?.valueFrom?.secretKeyRef;
      if (!password || !served || password.name !== served.name || password.key !== served.key)
        problems.push(
          `${where}: NATS_PASSWORD is not the Secret key nats-server reads as ${passwordVariable(component)}`,
        );
      for (const flag of ["--replicas", "--kv-replicas"]) {
        const n = Number(flagValue(args, flag) ?? 1);
        if (n > natsReplicas) problems.push(`${where}: ${flag} ${n} exceeds the ${natsReplicas} NATS nodes`);
        if (natsReplicas >= 3 && n < 3 && flagValue(args, flag) !== undefined)
          problems.push(`${where}: ${flag} ${n} on a ${natsReplicas}-node cluster (use R3)`);
      }
      prefixes.add(
        flagValue(args, "--prefix") ?? c.env?.find((e) => e.name === "TROUPE_PREFIX")?.value ?? "troupe",
      );
      if (command === "host" && args[1] && !args[1].startsWith("--"))
        for (const t of input.typesOf(args[1])) types.add(t);
    }
  }
  if (prefixes.size > 1) problems.push(`components use different prefixes: ${[...prefixes].join(", ")}`);
  for (const c of COMPONENTS) {
    if (c === "client") continue;
    if (!natsEnv.some((e) => e.name === passwordVariable(c)))
      problems.push(`StatefulSet/nats: no ${passwordVariable(c)}`);
  }
  const auth = byKind(objects, "ConfigMap", "nats-auth");
  const expected = renderAuthorization({ prefix: [...prefixes][0] ?? "troupe", types: [...types].sort() });
  if ((auth?.data as Record<string, string> | undefined)?.["auth.conf"] !== expected)
    problems.push(
      "ConfigMap/nats-auth is not what `troupe auth gen` writes for these prefix and types: regenerate it",
    );
  return problems;
}
