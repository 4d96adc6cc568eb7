/**
 * The outbound call path of a mesh connection: ref → caller (calls, tells) → routes (in-process to
 * a host of this connection, or the broker) → transport. It depends on hosts only through
 * {@link LocalRoute}, so nothing here calls back up into host/ or mesh.ts.
 */
export { Caller, type CallerDeps } from "./caller.js";
export type { LocalRoute } from "./local-route.js";
export { Routes, type TypeLookup } from "./routes.js";
export { MAX_PENDING_TELL_RESENDS, type TellDeps, Tells } from "./tells.js";
