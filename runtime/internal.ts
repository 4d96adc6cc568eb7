/**
 * `troupe/internal`: what this repository's services (gateway, control plane, CLI) need beyond
 * the public API, kept out of `troupe` so users do not build on it. No stability promise.
 */
export { fromWireError, toWireError, type WireError } from "./errors.js";
export { interceptTurn, readonlyHeaders, recordHeaders, runChain } from "./interceptors/index.js";
export { assertCaller, CALLER_HEADER, callerOf, MAX_CALLER_LENGTH } from "./messaging/caller.js";
export type { Transport } from "./transport/transport.js";
