/**
 * A client of KEDA's external scaler built from KEDA's protocol alone, the way KEDA's Go code sees
 * it (field names as written, no Troupe loader options), so tests check the wire, not our generated
 * types. `creds`: what KEDA dials with (insecure by default; mutual TLS from a TriggerAuthentication).
 */
import { fileURLToPath } from "node:url";
import {
  type ChannelCredentials,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  Metadata,
  type ServiceClientConstructor,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

export function kedaClient(address: string, creds: ChannelCredentials = credentials.createInsecure()) {
  const file = fileURLToPath(new URL("../../protos/externalscaler/externalscaler.proto", import.meta.url));
  const pkg = loadPackageDefinition(loadSync(file, { keepCase: true, longs: String, defaults: true }));
  const Scaler = (pkg.externalscaler as GrpcObject).ExternalScaler as ServiceClientConstructor;
  return new Scaler(address, creds);
}

export type KedaClient = ReturnType<typeof kedaClient>;

/** A unary call of the scaler; `md` defaults to none (what KEDA sends). */
export const kedaCall = <T>(
  client: KedaClient,
  method: string,
  request: unknown,
  md = new Metadata(),
): Promise<T> =>
  new Promise((resolve, reject) => {
    (client[method] as (r: unknown, m: Metadata, cb: (e: ServiceError | null, r: T) => void) => void).call(
      client,
      request,
      md,
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });

/** Calls until `done` holds (a group's first decision needs one monitor round). */
export async function pollUntil<T>(
  fn: () => Promise<T>,
  done: (r: T) => boolean,
  withinMs = 30_000,
): Promise<T> {
  const until = performance.now() + withinMs;
  for (;;) {
    try {
      const r = await fn();
      if (done(r)) return r;
    } catch (err) {
      if ((err as ServiceError).code !== status.UNAVAILABLE || performance.now() > until) throw err;
    }
    if (performance.now() > until) throw new Error("timed out polling");
    await new Promise((r) => setTimeout(r, 50));
  }
}
