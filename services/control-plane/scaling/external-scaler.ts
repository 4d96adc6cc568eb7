/**
 * KEDA's `externalscaler.ExternalScaler`, served by the control plane from the same decisions as
 * the ScalingService. A ScaledObject trigger (`type: external` or `external-push`) names the group
 * in its metadata (`group`, and optionally `prefix`, which must be this control plane's).
 *
 * How KEDA arrives at our count: GetMetricSpec declares one metric with target 1 (KEDA builds an
 * HPA external metric of type AverageValue); GetMetrics reports the desired host count. The HPA
 * computes ceil(value / target) = desired hosts. IsActive (and StreamIsActive, for
 * `external-push`) is true while the group should have a host: with `minReplicaCount: 0` KEDA
 * scales to zero when it turns false.
 *
 * Bad metadata never crashes: no group → INVALID_ARGUMENT, unknown group or foreign prefix →
 * NOT_FOUND, with a message naming the field.
 */
import { type ServerWritableStream, status } from "@grpc/grpc-js";
import type { Logger } from "troupe";
import type {
  ExternalScalerHandlers,
  GetMetricSpecResponse,
  IsActiveResponse,
  ScaledObjectRef__Output,
} from "troupe/internal";
import type { ScalingMonitor } from "./monitor.js";
import { type LookupError, lookupDecision } from "./scaling-service.js";

/** The metric KEDA asks for: one per group. */
export function metricNameOf(group: string): string {
  return `troupe-hosts-${group}`;
}

export function externalScalerHandlers(
  monitor: ScalingMonitor,
  prefix: string,
  logger: Logger,
): ExternalScalerHandlers {
  const groupOf = (ref: ScaledObjectRef__Output | null): { group: string } | { error: LookupError } => {
    const metadata = ref?.scalerMetadata ?? {};
    const group = metadata.group ?? "";
    if (!group) {
      return {
        error: {
          code: status.INVALID_ARGUMENT,
          details: "scalerMetadata.group: required (the host group to scale)",
        },
      };
    }
    if (metadata.prefix !== undefined && metadata.prefix !== prefix) {
      return {
        error: {
          code: status.NOT_FOUND,
          details: `scalerMetadata.prefix: this control plane serves prefix "${prefix}", not "${metadata.prefix.slice(0, 80)}"`,
        },
      };
    }
    return { group };
  };
  const decisionOf = (ref: ScaledObjectRef__Output | null) => {
    const g = groupOf(ref);
    if ("error" in g) return g;
    const found = lookupDecision(monitor, g.group);
    if ("error" in found) {
      return {
        error: { ...found.error, details: found.error.details.replace(/^group/, "scalerMetadata.group") },
      };
    }
    return found;
  };
  const refused = (method: string, ref: ScaledObjectRef__Output | null, error: LookupError) => {
    logger.warn("external scaler: refused a request", {
      method,
      scaledObject: `${ref?.namespace ?? ""}/${ref?.name ?? ""}`,
      code: status[error.code],
      details: error.details,
    });
    return error;
  };
  const spec = (group: string): GetMetricSpecResponse => ({
    metricSpecs: [{ metricName: metricNameOf(group), targetSize: 1, targetSizeFloat: 1 }],
  });
  return {
    IsActive: (call, callback) => {
      const found = decisionOf(call.request);
      if ("error" in found) callback(refused("IsActive", call.request, found.error));
      else callback(null, { result: found.decision.active });
    },
    StreamIsActive: (call: ServerWritableStream<ScaledObjectRef__Output, IsActiveResponse>) => {
      const found = decisionOf(call.request);
      if ("error" in found) {
        call.emit("error", refused("StreamIsActive", call.request, found.error));
        return;
      }
      const group = found.decision.group;
      let last = found.decision.active;
      call.write({ result: last });
      const unsubscribe = monitor.onDecision((d) => {
        if (d.group !== group || d.active === last) return;
        last = d.active;
        call.write({ result: last });
      });
      const unStop = monitor.onStop(() => call.end());
      const end = () => {
        unsubscribe();
        unStop();
      };
      call.on("cancelled", end);
      call.on("close", end);
      call.on("error", end);
    },
    GetMetricSpec: (call, callback) => {
      const g = groupOf(call.request);
      if ("error" in g) return callback(refused("GetMetricSpec", call.request, g.error));
      const found = lookupDecision(monitor, g.group);
      if ("error" in found && found.error.code !== status.UNAVAILABLE) {
        return callback(refused("GetMetricSpec", call.request, found.error));
      }
      callback(null, spec(g.group));
    },
    StreamMetricSpec: (call: ServerWritableStream<ScaledObjectRef__Output, GetMetricSpecResponse>) => {
      const g = groupOf(call.request);
      if ("error" in g) {
        call.emit("error", refused("StreamMetricSpec", call.request, g.error));
        return;
      }
      // The spec never changes (target 1): sent once, the stream stays open until KEDA ends it.
      call.write(spec(g.group));
      const unStop = monitor.onStop(() => call.end());
      call.on("cancelled", unStop);
      call.on("close", unStop);
    },
    GetMetrics: (call, callback) => {
      const ref = call.request.scaledObjectRef;
      const found = decisionOf(ref);
      if ("error" in found) return callback(refused("GetMetrics", ref, found.error));
      const desired = found.decision.desiredHosts;
      const metricName = call.request.metricName || metricNameOf(found.decision.group);
      callback(null, { metricValues: [{ metricName, metricValue: desired, metricValueFloat: desired }] });
    },
  };
}
