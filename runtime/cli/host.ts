/**
 * `troupe host [entry]`: the production host process. Connects to `NATS_URL` (never starts a
 * server), hosts the actor classes the entry module exports, answers health probes, exports
 * telemetry per the OTEL_* variables, and drains on SIGTERM (Kubernetes' stop signal) so a rolling
 * restart loses no call.
 *
 *   GET /healthz  200 while the process runs (liveness)
 *   GET /readyz   200 while the host serves, 503 while it starts or drains (readiness)
 */
import { createServer, type Server } from "node:http";
import { resolve } from "node:path";
import { ConfigurationError } from "../errors.js";
import type { Host } from "../host/host.js";
import { consoleLogger } from "../log.js";
import { DEFAULT_PREFIX } from "../messaging/index.js";
import { DEFAULT_DEV_ENTRY } from "./dev.js";
import { groupFromEntry } from "./group-name.js";
import { serveEntry, untilSignal } from "./serve.js";

export interface HostCommandOptions {
  entry?: string;
  prefix?: string;
  /** Port of the health endpoints; 0 picks a free one, undefined disables them. */
  healthPort?: number;
  /** Port of the Prometheus endpoint (`/metrics`); undefined: only with OTEL_METRICS_EXPORTER=prometheus. */
  metricsPort?: number;
  /** Replicas of the buckets and streams Troupe creates (3 on a 3-node cluster). */
  replicas?: number;
  /**
   * `host:port` of the control plane: the host enforces its throttle policies (default
   * TROUPE_CONTROL_PLANE; none: no throttling). Token: `controlTokenFile`, else TROUPE_CONTROL_TOKEN
   * or TROUPE_CONTROL_TOKEN_FILE; TLS files: TROUPE_CONTROL_CA / _CERT / _KEY (read by the client).
   */
  controlPlane?: string;
  controlTokenFile?: string;
  /** The host group reported to the control plane (default: from the entry's file name). */
  group?: string;
  /** Jobs the host runs at once per type (default 16). */
  jobCapacity?: number;
  until?: Promise<unknown>;
  /** Called with the health server's port once it listens. */
  onHealthListening?: (port: number) => void;
}

export async function hostCommand(options: HostCommandOptions = {}): Promise<void> {
  const servers = process.env.NATS_URL;
  if (!servers) {
    throw new ConfigurationError(
      "troupe host needs NATS_URL (use `troupe dev` for a local mesh with its own server)",
    );
  }
  const logger = consoleLogger();
  let served: Host | undefined;
  let health: Server | undefined;
  if (options.healthPort !== undefined) {
    health = createServer((req, res) => {
      const ready = served?.status === "serving";
      const status = req.url === "/healthz" ? 200 : req.url === "/readyz" ? (ready ? 200 : 503) : 404;
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok\n" : `${status}\n`);
    });
    const server = health;
    await new Promise<void>((r) => server.listen(options.healthPort, "0.0.0.0", r));
    const address = server.address();
    if (address && typeof address === "object") options.onHealthListening?.(address.port);
  }
  const controlPlane = options.controlPlane ?? process.env.TROUPE_CONTROL_PLANE;
  const entry = resolve(options.entry ?? DEFAULT_DEV_ENTRY);
  if (
    options.jobCapacity !== undefined &&
    !(Number.isInteger(options.jobCapacity) && options.jobCapacity > 0)
  ) {
    throw new ConfigurationError(
      `--job-capacity must be a positive whole number, got ${options.jobCapacity}`,
    );
  }
  try {
    await serveEntry({
      host: {
        group: options.group ?? groupFromEntry(entry),
        ...(options.jobCapacity ? { jobs: { capacity: options.jobCapacity } } : {}),
        ...(controlPlane
          ? {
              throttling: {
                controlPlane,
                ...(options.controlTokenFile ? { tokenFile: options.controlTokenFile } : {}),
              },
            }
          : {}),
      },
      entry,
      connect: {
        servers,
        prefix: options.prefix ?? process.env.TROUPE_PREFIX ?? DEFAULT_PREFIX,
        ...(options.replicas ? { replicas: options.replicas } : {}),
      },
      logger,
      serviceName: process.env.OTEL_SERVICE_NAME ?? "troupe-host",
      metricsPort: options.metricsPort,
      whileServing: async (_mesh, host) => {
        served = host;
        logger.info("host ready", { types: host.types });
        const signal = await (options.until ?? untilSignal());
        logger.info("draining", { signal: String(signal) });
      },
    });
  } finally {
    health?.close();
  }
}
