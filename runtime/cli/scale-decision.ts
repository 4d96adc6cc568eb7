/**
 * Reading scaling decisions from the control plane's `troupe.v1.ScalingService` (for `troupe scale`
 * and the local autoscaler of `troupe scale run` and `troupe dev --autoscale`).
 */
import { type Metadata, type ServiceError, status } from "@grpc/grpc-js";
import type { ScalingDecision__Output } from "../protos/index.js";
import type { ControlPlaneConnection } from "../throttling/index.js";

/** How long one decision may take to arrive (an autoscaler's round, and its stop, wait for it). */
export const DECISION_DEADLINE_MS = 5000;

/** The group's decision; rejects with the gRPC error (NOT_FOUND: unknown group). */
export function getDecision(
  connection: ControlPlaneConnection,
  group: string,
): Promise<ScalingDecision__Output> {
  return unary<ScalingDecision__Output>((md, cb) =>
    connection.scaling.GetDecision({ group }, md, { deadline: Date.now() + DECISION_DEADLINE_MS }, cb),
  )(connection);
}

/**
 * The group's decision for an autoscaler: undefined while the control plane does not know the
 * group yet (NOT_FOUND: no host registered). Other errors reject, UNAVAILABLE included, so the
 * autoscaler keeps the hosts it has while the control plane is away (fail-static) instead of
 * falling back to its bootstrap count.
 */
export async function groupDecision(
  connection: ControlPlaneConnection,
  group: string,
): Promise<ScalingDecision__Output | undefined> {
  try {
    return await getDecision(connection, group);
  } catch (err) {
    if (isServiceError(err) && err.code === status.NOT_FOUND) {
      return undefined;
    }
    throw err;
  }
}

/** A unary call with the connection's metadata, as a promise. */
export function unary<Res>(
  call: (md: Metadata, cb: (err: ServiceError | null, res?: Res) => void) => unknown,
): (connection: ControlPlaneConnection) => Promise<Res> {
  return (connection) =>
    new Promise((resolvePromise, reject) => {
      call(connection.metadata(), (err, res) => (err ? reject(err) : resolvePromise(res as Res)));
    });
}

export function isServiceError(err: unknown): err is ServiceError {
  return typeof err === "object" && err !== null && "code" in err && "details" in err;
}
