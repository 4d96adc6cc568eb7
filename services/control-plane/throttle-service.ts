/**
 * The handlers of `troupe.v1.ThrottleService`: policy CRUD through the {@link PolicyStore}, and the
 * status the control plane computes. Errors become gRPC statuses with a message that says what was
 * wrong: an invalid policy INVALID_ARGUMENT (naming the field), an unknown name NOT_FOUND, a store
 * that cannot be reached UNAVAILABLE, anything else INTERNAL (and logged).
 */
import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import type { Logger } from "troupe";
import { TroupeError } from "troupe";
import type { GetStatusResponse, ThrottlePolicy, ThrottleServiceHandlers } from "troupe/internal";
import { InvalidPolicyError } from "troupe/internal";
import type { PolicyStore } from "./policy-store.js";

export interface StatusSource {
  status(policy: string | undefined): GetStatusResponse;
}

interface GrpcError {
  code: status;
  details: string;
}

export function throttleServiceHandlers(
  store: PolicyStore,
  statusSource: StatusSource,
  logger: Logger,
): ThrottleServiceHandlers {
  const run = <Req, Res>(
    method: string,
    work: (request: Req) => Promise<Res>,
  ): ((call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void) => {
    return (call, callback) => {
      work(call.request).then(
        (response) => callback(null, response),
        (err: unknown) => callback(toGrpcError(err, method, logger)),
      );
    };
  };
  return {
    SetPolicy: run("SetPolicy", async (request): Promise<ThrottlePolicy> => {
      if (!request.policy) throw InvalidPolicyError.of("policy", "is required");
      const saved = await store.set(request.policy);
      logger.info("control plane: policy set", { policy: saved.name, revision: saved.revision });
      return saved;
    }),
    GetPolicy: run("GetPolicy", async (request): Promise<ThrottlePolicy> => {
      const policy = await store.get(request.name);
      if (!policy) throw notFound(request.name);
      return policy;
    }),
    ListPolicies: run("ListPolicies", async () => ({ policies: await store.list() })),
    DeletePolicy: run("DeletePolicy", async (request) => {
      if (!(await store.delete(request.name))) throw notFound(request.name);
      logger.info("control plane: policy deleted", { policy: request.name });
      return {};
    }),
    GetStatus: run("GetStatus", async (request) => statusSource.status(request.policy || undefined)),
  };
}

function notFound(name: string): GrpcError {
  return { code: status.NOT_FOUND, details: `no throttle policy named "${name}"` };
}

function toGrpcError(err: unknown, method: string, logger: Logger): GrpcError {
  if (isGrpcError(err)) return err;
  if (err instanceof InvalidPolicyError) {
    return { code: status.INVALID_ARGUMENT, details: `invalid policy: ${err.message}` };
  }
  if (err instanceof TroupeError && err.retryable) {
    logger.warn("control plane: policy store unavailable", { method, err });
    return { code: status.UNAVAILABLE, details: `policy store unavailable: ${err.message}` };
  }
  logger.error("control plane: request failed", { method, err });
  return { code: status.INTERNAL, details: `${method} failed: ${(err as Error)?.message ?? String(err)}` };
}

function isGrpcError(err: unknown): err is GrpcError {
  return (
    typeof err === "object" &&
    err !== null &&
    typeof (err as GrpcError).code === "number" &&
    typeof (err as GrpcError).details === "string"
  );
}
