/**
 * The Troupe control plane: throttle policies over gRPC, stored in JetStream KV, and the host
 * channel that gives every host its share of each cluster-wide limit. See docs/control-plane.md.
 */
export { type Demand, type LimitShare, splitLimit, splitRate, splitWhole } from "./allocate.js";
export { type ApiLimit, DEFAULT_API_LIMIT } from "./api-limit.js";
export { loadTokens, MIN_TOKEN_LENGTH, TokenVerifier } from "./auth.js";
export {
  type ControlPlane,
  type ControlPlaneOptions,
  DEFAULT_CONTROL_PLANE_PORT,
  DEFAULT_REPORT_INTERVAL_MS,
  type ScalerListenerOptions,
  startControlPlane,
} from "./control-plane.js";
export type { SecurityOptions, TlsOptions } from "./credentials.js";
export { planShares } from "./share-planner.js";
