/**
 * `troupe gateway`: the HTTP gateway process (services/gateway). Connects to the mesh at `--nats`
 * or NATS_URL (else the dev mesh of this folder), serves HTTP on `--port`, Prometheus `/metrics`
 * on `--metrics-port`, and on SIGTERM stops taking requests (readiness 503), finishes the ones in
 * flight, and exits. Refuses to start without authentication unless `--insecure-dev`.
 */
import { parseArgs } from "node:util";
import {
  ApiKeys,
  type Authenticator,
  credentials,
  type Gateway,
  JwtVerifier,
  startGateway,
} from "../../services/gateway/index.js";
import { connect } from "../connect.js";
import { ConfigurationError } from "../errors.js";
import { consoleLogger, type Logger } from "../log.js";
import type { Mesh } from "../mesh.js";
import { startTelemetry } from "../telemetry/index.js";
import { resolveTarget } from "./call.js";
import { untilSignal } from "./serve.js";

export const GATEWAY_USAGE = `Usage: troupe gateway [options]

  --port <n>               HTTP port (default 8080; 0 = any free port)
  --host <addr>            listen address (default 0.0.0.0)
  --nats <url>             NATS servers (default NATS_URL, else the dev mesh of this folder)
  --prefix <p>             mesh prefix (default TROUPE_PREFIX or troupe)
  --api-keys-file <file>   API keys, one "<principal> <key>" per line
  --jwt-secret-file <file> shared secret for HS256/384/512 bearer tokens
  --jwks-url <url>         JWKS for RS/PS/ES/EdDSA bearer tokens
  --jwt-issuer <iss>       required issuer;  --jwt-audience <aud>  required audience
  --cors-origin <origin>   allow this browser origin (repeatable)
  --metrics-port <n>       Prometheus /metrics on this port
  --max-body-bytes <n>     largest request body (default 1048576)
  --control-plane <addr>   refuse calls over throttle policies at the edge, with shares from this
                           control plane (default TROUPE_CONTROL_PLANE; none: only hosts enforce)
  --control-token-file <f> bearer token for the control plane (else TROUPE_CONTROL_TOKEN(_FILE))
  --insecure-dev           no authentication (local development only)`;

export interface GatewayCommandOptions {
  argv: string[];
  until?: Promise<unknown>;
  logger?: Logger;
  /** Told the URL once listening (tests); the command also prints it. */
  onListening?: (url: string) => void;
}

export async function gatewayCommand(options: GatewayCommandOptions): Promise<number> {
  const { values } = parseArgs({
    args: options.argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      nats: { type: "string" },
      prefix: { type: "string" },
      "api-keys-file": { type: "string" },
      "jwt-secret-file": { type: "string" },
      "jwks-url": { type: "string" },
      "jwt-issuer": { type: "string" },
      "jwt-audience": { type: "string" },
      "cors-origin": { type: "string", multiple: true },
      "metrics-port": { type: "string" },
      "max-body-bytes": { type: "string" },
      "insecure-dev": { type: "boolean" },
      "control-plane": { type: "string" },
      "control-token-file": { type: "string" },
    },
  });
  const logger = options.logger ?? consoleLogger();
  const auth = await authFrom(values);
  if (!auth && !values["insecure-dev"]) {
    throw new ConfigurationError(
      "troupe gateway needs authentication: --api-keys-file, --jwt-secret-file or --jwks-url (or --insecure-dev for local development)",
    );
  }
  const port = numberOption(values.port, "--port") ?? 8080;
  const metricsPort = numberOption(values["metrics-port"], "--metrics-port");
  const maxBodyBytes = numberOption(values["max-body-bytes"], "--max-body-bytes");
  const target = values.nats
    ? { url: values.nats, prefix: values.prefix ?? process.env.TROUPE_PREFIX ?? "troupe" }
    : await resolveTarget();
  const telemetry = await startTelemetry({
    serviceName: process.env.OTEL_SERVICE_NAME ?? "troupe-gateway",
    ...(metricsPort !== undefined ? { metricsPort } : {}),
  });
  if (telemetry.metricsUrl) logger.info("metrics endpoint", { url: telemetry.metricsUrl });
  try {
    const mesh = await connect({
      servers: target.url,
      prefix: values.prefix ?? target.prefix,
      name: "troupe-gateway",
      logger,
      // One client's throttle must never pace the calls of the others this gateway makes.
      adaptiveRate: false,
    });
    const controlPlane = values["control-plane"] ?? process.env.TROUPE_CONTROL_PLANE;
    const tokenFile = values["control-token-file"];
    try {
      const gateway = await startGateway({
        mesh,
        auth: auth ?? "insecure-dev",
        logger,
        port,
        host: values.host ?? "0.0.0.0",
        ...(values["cors-origin"] ? { cors: { origins: values["cors-origin"] } } : {}),
        ...(maxBodyBytes !== undefined ? { limits: { maxBodyBytes } } : {}),
        ...(controlPlane ? { throttling: { controlPlane, ...(tokenFile ? { tokenFile } : {}) } } : {}),
      });
      // Listening for signals before the line that says it listens: one sent on it must stop cleanly.
      const signalled = options.until ?? untilSignal();
      process.stdout.write(`troupe gateway: listening on ${gateway.url}\n`);
      options.onListening?.(gateway.url);
      const signal = await signalled;
      logger.info("gateway stopping", { signal: String(signal) });
      await gateway.close();
    } finally {
      await mesh.close();
    }
  } finally {
    await telemetry.shutdown();
  }
  return 0;
}

async function authFrom(values: Record<string, unknown>): Promise<Authenticator | undefined> {
  const keysFile = values["api-keys-file"] as string | undefined;
  const secretFile = values["jwt-secret-file"] as string | undefined;
  const jwksUrl = values["jwks-url"] as string | undefined;
  const issuer = values["jwt-issuer"] as string | undefined;
  const audience = values["jwt-audience"] as string | undefined;
  const apiKeys = keysFile ? await ApiKeys.load(keysFile) : undefined;
  const jwt =
    secretFile || jwksUrl
      ? new JwtVerifier({
          ...(secretFile ? { secret: await JwtVerifier.secretFromFile(secretFile) } : {}),
          ...(jwksUrl ? { jwksUrl } : {}),
          ...(issuer ? { issuer } : {}),
          ...(audience ? { audience } : {}),
        })
      : undefined;
  if (!apiKeys && !jwt) return undefined;
  return credentials({ ...(apiKeys ? { apiKeys } : {}), ...(jwt ? { jwt } : {}) });
}

function numberOption(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ConfigurationError(`${name} must be a non-negative integer`);
  return n;
}

/**
 * The gateway of `troupe dev`: no authentication (a local mesh), on `port`, or on any free port
 * when that one is taken. Says loudly that it is insecure.
 */
export async function startDevGateway(
  mesh: Mesh,
  port: number,
  logger: Logger,
  out: (line: string) => void,
): Promise<Gateway> {
  let gateway: Gateway;
  try {
    gateway = await startGateway({ mesh, auth: "insecure-dev", port, host: "127.0.0.1", logger });
  } catch (err) {
    if ((err as { code?: unknown }).code !== "EADDRINUSE") throw err;
    gateway = await startGateway({ mesh, auth: "insecure-dev", port: 0, host: "127.0.0.1", logger });
  }
  out(`troupe: HTTP gateway on ${gateway.url} -- INSECURE: no authentication (dev only)`);
  return gateway;
}
