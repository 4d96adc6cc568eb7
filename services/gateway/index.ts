/**
 * The HTTP gateway (`troupe gateway`): HTTP and Server-Sent Events in front of the mesh, with
 * ordered middleware and RFC 9457 problem bodies. See docs/gateway.md.
 */
export * from "./auth/index.js";
export * from "./errors.js";
export { DEFAULT_LIMITS, type GatewayLimits } from "./limits.js";
export * from "./middleware/index.js";
export { mappingOf, PROBLEM_CONTENT_TYPE, type Problem, problemOf, STATUS_BY_CODE } from "./problems.js";
export { buildGateway, type Gateway, type GatewayOptions, startGateway } from "./server.js";
