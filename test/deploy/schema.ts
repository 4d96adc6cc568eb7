/**
 * Schema validation of rendered objects with kubernetes-models (the Kubernetes OpenAPI schemas
 * compiled to validators), @kubernetes-models/keda and /cert-manager, plus what those do not check: unknown
 * fields. The validators read exactly the properties their schema declares (maps are enumerated),
 * so the object is validated through a Proxy that records every property read; a property that was
 * never read is a field the schema does not know, e.g. a typo that the API server would drop.
 */
import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import type { K8sObject } from "./kustomize.js";

type Model = { prototype: { validate(): void } };

const MODELS: Record<string, Model> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "networking.k8s.io/v1/Ingress": Ingress,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "keda.sh/v1alpha1/TriggerAuthentication": TriggerAuthentication,
  "cert-manager.io/v1/Certificate": Certificate,
};

/** The problems of one object: schema errors and unknown fields, each with the object's name. */
export function schemaProblems(o: K8sObject): string[] {
  const id = `${o.kind}/${o.metadata?.name}`;
  const model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!model) return [`${id}: no schema for ${o.apiVersion} ${o.kind}`];
  const read = new WeakMap<object, Set<string>>();
  const mark = (target: object, key: string) => {
    const keys = read.get(target) ?? new Set<string>();
    read.set(target, keys);
    keys.add(key);
  };
  const proxies = new WeakMap<object, object>();
  const wrap = (value: unknown): unknown => {
    if (typeof value !== "object" || value === null) return value;
    let p = proxies.get(value);
    if (!p) {
      p = new Proxy(value, {
        get(target, key, receiver) {
          if (typeof key === "string") mark(target, key);
          return wrap(Reflect.get(target, key, receiver));
        },
        has(target, key) {
          if (typeof key === "string") mark(target, key);
          return Reflect.has(target, key);
        },
        ownKeys(target) {
          for (const key of Reflect.ownKeys(target)) if (typeof key === "string") mark(target, key);
          return Reflect.ownKeys(target);
        },
      });
      proxies.set(value, p);
    }
    return p;
  };
  const problems: string[] = [];
  try {
    model.prototype.validate.call(wrap(o));
  } catch (err) {
    problems.push(`${id}: ${(err as Error).message}`);
  }
  const walk = (value: unknown, at: string) => {
    if (typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${at}[${i}]`);
      return;
    }
    const keys = read.get(value) ?? new Set<string>();
    for (const [key, v] of Object.entries(value)) {
      if (!keys.has(key)) problems.push(`${id}: unknown field ${at}.${key}`);
      else walk(v, `${at}.${key}`);
    }
  };
  walk(o, "");
  return problems;
}
