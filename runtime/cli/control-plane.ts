/**
 * `troupe control-plane`: runs the control plane (services/control-plane) until SIGINT/SIGTERM.
 *
 *   troupe control-plane [--port 7233] [--bind 0.0.0.0] [--nats URL] [--prefix P]
 *                        [--token-file F] [--tls-cert F --tls-key F [--tls-ca F]] [--insecure]
 *                        [--report-interval-ms N] [--kv-replicas N] [--metrics-port N]
 *                        [--scaler-port N --scaler-tls-cert F --scaler-tls-key F --scaler-tls-ca F]
 *
 * Tokens also come from TROUPE_CONTROL_TOKEN (comma-separated). Without tokens or mutual TLS it
 * refuses to start; `--insecure` is for local development and logged as such. `--scaler-port` opens a
 * second listener for KEDA (which cannot send a token): its external scaler and health only, under
 * mutual TLS; without the three --scaler-tls-* files it is a usage error (exit 2), unless --insecure.
 */
import { parseArgs } from "node:util";
import {
  loadTokens,
  type ScalerListenerOptions,
  startControlPlane,
} from "../../services/control-plane/index.js";
import { parseGroupPolicy } from "../../services/control-plane/scaling/index.js";
import { ConfigurationError } from "../errors.js";
import { consoleLogger, type Logger } from "../log.js";
import { intFlag, UsageError } from "./args.js";
import { startTelemetry, untilSignal } from "./serve.js";

export const CONTROL_PLANE_USAGE = `Usage: troupe control-plane [options]

  --port N                 gRPC port (default 7233; 0 = any free port)
  --bind ADDR              address to listen on (default 0.0.0.0)
  --nats URL               NATS server(s) (default NATS_URL)
  --prefix P               subject/bucket prefix (default TROUPE_PREFIX or troupe)
  --token-file F           bearer tokens, one per line (also TROUPE_CONTROL_TOKEN)
  --tls-cert F --tls-key F serve TLS; with --tls-ca F, require client certificates (mTLS)
  --insecure               no authentication, no TLS: local development only
  --report-interval-ms N   how often hosts report usage and shares are re-planned (default 1000)
  --kv-replicas N          replicas of the policy and demand buckets (3 in a 3-node NATS cluster)
  --scaler-port N          a second gRPC port for KEDA: externalscaler.ExternalScaler and health only,
                           mutual TLS instead of tokens (KEDA cannot send one); needs:
  --scaler-tls-cert F --scaler-tls-key F
                           that port's server certificate and key
  --scaler-tls-ca F        the CA of KEDA's client certificate (required: no client certificate, no call)
  --metrics-port N         Prometheus /metrics on this port: the troupe.scaling.* gauges per host
                           group (also TROUPE_METRICS_PORT)
  --scale-group SPEC       a host group's scaling policy, repeatable:
                           NAME:min=1,max=4,drain=30s,down=300s,up=0,stuck=60s,backlog=100,types=A+B`;

/** Starts the control plane and resolves when it has stopped after a signal. */
export async function controlPlaneCommand(argv: string[]): Promise<number> {
  const values = parseFlags(argv);
  if (values.help) {
    process.stdout.write(`${CONTROL_PLANE_USAGE}\n`);
    return 0;
  }
  const logger = consoleLogger();
  const number = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new ConfigurationError(`--${flag} must be a whole number (got "${value}")`);
    return n;
  };
  const port = number("port", values.port);
  const reportIntervalMs = number("report-interval-ms", values["report-interval-ms"]);
  const kvReplicas = number("kv-replicas", values["kv-replicas"]);
  const prefix = values.prefix ?? process.env.TROUPE_PREFIX;
  const scaler = scalerListener(values);
  const metricsPort = intFlag(values["metrics-port"] ?? process.env.TROUPE_METRICS_PORT, "--metrics-port", {
    max: 65535,
  });
  const telemetry = await startTelemetry({
    serviceName: process.env.OTEL_SERVICE_NAME ?? "troupe-control-plane",
    ...(metricsPort !== undefined ? { metricsPort } : {}),
  });
  if (telemetry.metricsUrl) logger.info("metrics endpoint", { url: telemetry.metricsUrl });
  try {
    return await serve(values, { port, reportIntervalMs, kvReplicas, prefix }, scaler, logger);
  } finally {
    await telemetry.shutdown();
  }
}

/** The control plane until SIGINT or SIGTERM; the exit code. */
async function serve(
  values: ReturnType<typeof parseFlags>,
  numbers: {
    port: number | undefined;
    reportIntervalMs: number | undefined;
    kvReplicas: number | undefined;
    prefix: string | undefined;
  },
  scaler: ScalerListenerOptions | undefined,
  logger: Logger,
): Promise<number> {
  const { port, reportIntervalMs, kvReplicas, prefix } = numbers;
  const plane = await startControlPlane({
    ...(port !== undefined ? { port } : {}),
    ...(values.bind ? { bind: values.bind } : {}),
    ...(values.nats ? { nats: { servers: values.nats } } : {}),
    ...(prefix ? { prefix } : {}),
    ...(reportIntervalMs ? { reportIntervalMs } : {}),
    ...(kvReplicas ? { kvReplicas } : {}),
    tokens: values.insecure ? [] : loadTokens(values["token-file"], process.env.TROUPE_CONTROL_TOKEN),
    tls: {
      ...(values["tls-cert"] ? { certFile: values["tls-cert"] } : {}),
      ...(values["tls-key"] ? { keyFile: values["tls-key"] } : {}),
      ...(values["tls-ca"] ? { caFile: values["tls-ca"] } : {}),
    },
    insecure: values.insecure === true,
    ...(scaler ? { scaler } : {}),
    ...(values["scale-group"] ? { scaling: { groups: values["scale-group"].map(parseGroupPolicy) } } : {}),
    logger,
  });
  // Listening for signals before the lines that say it listens: a signal sent on them (a test, a
  // script, an orchestrator that read the port) must stop it cleanly, not kill it.
  const signalled = untilSignal();
  // Tests and scripts read the port from this line when --port 0.
  process.stdout.write(`control plane listening on ${plane.address} (${plane.securityMode})\n`);
  if (plane.scalerAddress)
    process.stdout.write(
      `KEDA external scaler listening on ${plane.scalerAddress} (${values.insecure ? "insecure" : "mtls"})\n`,
    );
  logger.info("control plane: stopping", { signal: await signalled });
  await plane.stop();
  return 0;
}

/** The scaler listener from its flags; a usage error when the port lacks its mutual TLS files. */
function scalerListener(values: ReturnType<typeof parseFlags>): ScalerListenerOptions | undefined {
  const port = intFlag(values["scaler-port"], "--scaler-port", { max: 65535 });
  const files = {
    "--scaler-tls-cert": values["scaler-tls-cert"],
    "--scaler-tls-key": values["scaler-tls-key"],
    "--scaler-tls-ca": values["scaler-tls-ca"],
  };
  const given = Object.entries(files).filter(([, file]) => file !== undefined);
  if (port === undefined) {
    if (given.length > 0) throw new UsageError(`${given[0]?.[0]} needs --scaler-port`);
    return undefined;
  }
  const missing = Object.entries(files).filter(([, file]) => file === undefined);
  if (!values.insecure && missing.length > 0)
    throw new UsageError(
      `--scaler-port serves KEDA over mutual TLS only: it needs ${missing.map(([flag]) => flag).join(", ")} (--insecure only for local development)`,
    );
  return {
    port,
    tls: {
      ...(files["--scaler-tls-cert"] ? { certFile: files["--scaler-tls-cert"] } : {}),
      ...(files["--scaler-tls-key"] ? { keyFile: files["--scaler-tls-key"] } : {}),
      ...(files["--scaler-tls-ca"] ? { caFile: files["--scaler-tls-ca"] } : {}),
    },
  };
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      bind: { type: "string" },
      nats: { type: "string" },
      prefix: { type: "string" },
      "token-file": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "tls-ca": { type: "string" },
      insecure: { type: "boolean" },
      "report-interval-ms": { type: "string" },
      "kv-replicas": { type: "string" },
      "scale-group": { type: "string", multiple: true },
      "metrics-port": { type: "string" },
      "scaler-port": { type: "string" },
      "scaler-tls-cert": { type: "string" },
      "scaler-tls-key": { type: "string" },
      "scaler-tls-ca": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }).values;
}
