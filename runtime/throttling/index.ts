/**
 * Throttling: policies (what to limit), the local enforcer (decides on the host from the shares the
 * control plane sent), and the host channel client (receives shares, reports usage). Enforcement is
 * a synchronous `decide(input)` so it plugs into the inbound interceptor chain; see
 * docs/patterns/throttling.md.
 */
export {
  type ControlPlaneClientOptions,
  type ControlPlaneConnection,
  channelCredentials,
  connectControlPlane,
  DEFAULT_CONTROL_PLANE_ADDRESS,
  resolveToken,
} from "./control-client.js";
export {
  CONCURRENCY_RETRY_AFTER_MS,
  type Decision,
  LocalEnforcer,
  MAX_KEYS_PER_POLICY,
  type PolicyCounters,
} from "./enforcer.js";
export { InvalidPolicyError } from "./errors.js";
export { compileGlobs, type Matcher } from "./glob.js";
export { grpcStatusOf, RETRY_PUSHBACK_HEADER } from "./grpc-status.js";
export {
  HostChannelClient,
  type HostChannelClientOptions,
  type HostChannelState,
} from "./host-channel-client.js";
export { DEFAULT_TENANT_HEADER, type ThrottledTurn, throttlingInterceptor } from "./interceptor.js";
export {
  type CompiledMatch,
  compileMatch,
  MAX_FUNCTION_KEY_LENGTH,
  type ThrottleInput,
  type ThrottleKeyFunction,
} from "./match.js";
export { observeThrottleDecisions } from "./metrics.js";
export {
  DEFAULT_HOPS,
  HOPS,
  type Hop,
  KEY_BYS,
  type Policy,
  type PolicyLimit,
  validateLimit,
  validatePolicy,
  validatePolicyName,
} from "./policy.js";
export { TokenBucket } from "./token-bucket.js";
