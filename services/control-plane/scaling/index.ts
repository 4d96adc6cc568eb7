/**
 * Scaling: per host group, how many hosts the control plane recommends and why, from the group's
 * job queues (JetStream) and its hosts' load (host channel). Served as `troupe.v1.ScalingService`,
 * as KEDA's `externalscaler.ExternalScaler`, and as Prometheus gauges.
 * See docs/patterns/competing-consumers.md.
 */
export {
  type GroupSample,
  type HostSample,
  type QueueSample,
  recommend,
  ScalingDecider,
  type ScalingDecision,
} from "./decide.js";
export { externalScalerHandlers, metricNameOf } from "./external-scaler.js";
export { observeScaling } from "./metrics.js";
export {
  HOST_RECONNECT_CAP_MS,
  type ScalingConfig,
  type ScalingHostView,
  ScalingMonitor,
} from "./monitor.js";
export {
  DEFAULT_GROUP,
  DEFAULT_GROUP_POLICY,
  type GroupPolicy,
  groupPolicy,
  isGroupName,
  parseGroupPolicy,
} from "./policy.js";
export { scalingServiceHandlers } from "./scaling-service.js";
