/**
 * A kustomize subset, exactly what deploy/ uses, so the overlays render on a machine with only
 * Node (no kubectl). manifests.test.ts checks that `kubectl kustomize` gives the same objects where
 * kubectl exists. Supported `kustomization.yaml` fields, applied in kustomize's order:
 *
 * - `resources`: YAML files (several documents each) and folders holding a kustomization.yaml,
 *   rendered first, each with its own transformations;
 * - `patches`: `{ target: { kind, name }, patch: <JSON 6902 operations as YAML> }`, operations
 *   `add`, `replace`, `remove`; the target must match exactly one object;
 * - `images`: `{ name, newName?, newTag? }` for the containers of pod templates;
 * - `namespace`: set on every namespaced object.
 *
 * Any other field is refused (so a kustomization can't quietly use what this does not implement).
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments, parse as parseYaml } from "yaml";

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
};

const FIELDS = new Set(["apiVersion", "kind", "resources", "namespace", "patches", "images"]);
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
]);

interface Kustomization {
  resources?: string[];
  namespace?: string;
  patches?: { target: { kind: string; name: string }; patch: string }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

type Op = { op: "add" | "replace" | "remove"; path: string; value?: unknown };

export function renderKustomization(dir: string): K8sObject[] {
  const file = path.join(dir, "kustomization.yaml");
  const k = parseYaml(readFileSync(file, "utf8")) as Kustomization & Record<string, unknown>;
  for (const key of Object.keys(k)) {
    if (!FIELDS.has(key)) throw new Error(`${file}: "${key}" is not supported by this renderer`);
  }
  const objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const target = path.resolve(dir, resource);
    if (statSync(target).isDirectory()) objects.push(...renderKustomization(target));
    else objects.push(...readObjects(target));
  }
  for (const p of k.patches ?? []) {
    const matches = objects.filter((o) => o.kind === p.target.kind && o.metadata.name === p.target.name);
    if (matches.length !== 1) {
      throw new Error(
        `${file}: patch target ${p.target.kind}/${p.target.name} matches ${matches.length} objects`,
      );
    }
    const ops = parseYaml(p.patch) as Op[];
    if (!Array.isArray(ops))
      throw new Error(`${file}: only JSON 6902 patches (a list of operations) are supported`);
    const index = objects.indexOf(matches[0] as K8sObject);
    objects[index] = ops.reduce((o, op) => applyOp(o, op, file), matches[0] as K8sObject);
  }
  for (const image of k.images ?? []) {
    for (const o of objects) {
      for (const c of containersOf(o)) {
        const name = imageName(c.image);
        if (name !== image.name) continue;
        const tag = image.newTag ?? c.image.slice(name.length + 1);
        c.image = `${image.newName ?? name}${tag ? `:${tag}` : ""}`;
      }
    }
  }
  if (k.namespace) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  return objects;
}

export function readObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

function imageName(image: string): string {
  const at = image.indexOf("@");
  const base = at >= 0 ? image.slice(0, at) : image;
  const colon = base.lastIndexOf(":");
  return colon > base.lastIndexOf("/") ? base.slice(0, colon) : base;
}

/** The containers of an object's pod template (Deployment, StatefulSet...), mutable in place. */
export function containersOf(o: K8sObject): { name: string; image: string; [k: string]: unknown }[] {
  const spec = podSpecOf(o);
  if (!spec) return [];
  return [...((spec.initContainers as []) ?? []), ...((spec.containers as []) ?? [])];
}

export function podSpecOf(o: K8sObject): Record<string, unknown> | undefined {
  const spec = o.spec as { template?: { spec?: Record<string, unknown> } } | undefined;
  return spec?.template?.spec;
}

function applyOp(o: K8sObject, op: Op, file: string): K8sObject {
  const tokens = op.path
    .split("/")
    .slice(1)
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
  const last = tokens.pop();
  if (last === undefined) throw new Error(`${file}: patch path "${op.path}" is the whole object`);
  let parent: unknown = o;
  for (const t of tokens) {
    parent = (parent as Record<string, unknown>)?.[t];
    if (parent === undefined || parent === null)
      throw new Error(`${file}: patch path "${op.path}" does not exist`);
  }
  if (Array.isArray(parent)) {
    const container = parent as unknown[];
    const i = last === "-" ? container.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > container.length)
      throw new Error(`${file}: bad index in "${op.path}"`);
    if (op.op !== "add" && i >= container.length) throw new Error(`${file}: "${op.path}" does not exist`);
    if (op.op === "add") container.splice(i, 0, structuredClone(op.value));
    else if (op.op === "replace") container[i] = structuredClone(op.value);
    else container.splice(i, 1);
    return o;
  }
  const container = parent as Record<string, unknown>;
  if (op.op !== "add" && !(last in container)) throw new Error(`${file}: "${op.path}" does not exist`);
  if (op.op === "remove") delete container[last];
  else container[last] = structuredClone(op.value);
  return o;
}
