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
import type { Host } from "../host/index.js";
import { consoleLogger } from "../log.js";
import { DEFAULT_PREFIX } from "../messaging/index.js";
import { intFlag, parseCommandArgs } from "./args.js";
import type { CliIo } from "./command.js";
import { DEFAULT_DEV_ENTRY } from "./dev.js";
import { groupFromEntry } from "./group-name.js";
import { whileWaiting } from "./progress.js";
import { serveEntry, untilSignal } from "./serve.js";

export const HOST_USAGE = `Usage: troupe host [entry] [options]

  Hosts the actor classes exported by entry on the mesh at NATS_URL (production; never starts a
  server). The entry is imported only for its exported actor classes. Drains on SIGTERM/SIGINT.
  To host beside a running \`troupe dev\`: troupe dev --add <entry>, or NATS_URL=<its URL> troupe host <entry>.

  --health-port <n>          /healthz and /readyz on this port (also TROUPE_HEALTH_PORT)
  --metrics-port <n>         Prometheus /metrics on this port (also TROUPE_METRICS_PORT)
  --replicas <n>             replicas of the streams and buckets Troupe creates (3 on a cluster)
  --prefix <p>               subject and bucket prefix (default TROUPE_PREFIX or troupe)
  --control-plane <host:port> enforce the control plane's throttle policies (TROUPE_CONTROL_PLANE)
  --control-token-file <f>   token for the control plane
  --user-from-inbox          take each call's NATS user from its reply inbox (_INBOX_<user>) as
                             its attested identity (ctx.user, throttle --users): only with the
                             permissions of \`troupe auth gen\` (also TROUPE_USER_FROM_INBOX=1)
  --group <name>             host group: the unit scaling decisions are made for (default: the
                             entry's file name)
  --job-capacity <n>         jobs this host runs at once per type (default 16)`;

/**
 * The flags of `troupe host`, as `util.parseArgs` options. Add a flag here and map it in
 * {@link hostOptionsFrom}; {@link HostCommandOptions} takes the parsed value.
 */
export const HOST_FLAGS = {
  prefix: { type: "string" },
  "health-port": { type: "string" },
  "metrics-port": { type: "string" },
  replicas: { type: "string" },
  "control-plane": { type: "string" },
  "control-token-file": { type: "string" },
  "user-from-inbox": { type: "boolean" },
  group: { type: "string" },
  "job-capacity": { type: "string" },
} as const;

/** `troupe host ...` from the command line; resolves with the exit code once the host drained. */
export async function runHostCommand(argv: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommandArgs(argv, HOST_FLAGS, { max: 1, names: "[entry]" });
  await hostCommand({ ...hostOptionsFrom(values, positionals), io });
  return 0;
}

/** Parsed flags (and their environment variables) to {@link HostCommandOptions}. */
export function hostOptionsFrom(
  values: ReturnType<typeof parseCommandArgs<typeof HOST_FLAGS>>["values"],
  positionals: string[],
): HostCommandOptions {
  const healthPort = intFlag(values["health-port"] ?? process.env.TROUPE_HEALTH_PORT, "--health-port", {
    max: 65535,
  });
  const metricsPort = intFlag(values["metrics-port"] ?? process.env.TROUPE_METRICS_PORT, "--metrics-port", {
    max: 65535,
  });
  const replicas = intFlag(values.replicas, "--replicas", { min: 1, max: 5 });
  const jobCapacity = intFlag(values["job-capacity"], "--job-capacity", { min: 1 });
  return {
    ...(values.group ? { group: values.group } : {}),
    ...(jobCapacity !== undefined ? { jobCapacity } : {}),
    ...(positionals[0] ? { entry: positionals[0] } : {}),
    ...(values.prefix ? { prefix: values.prefix } : {}),
    ...(healthPort !== undefined ? { healthPort } : {}),
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    ...(replicas !== undefined ? { replicas } : {}),
    ...(values["control-plane"] ? { controlPlane: values["control-plane"] } : {}),
    ...(values["control-token-file"] ? { controlTokenFile: values["control-token-file"] } : {}),
    ...(values["user-from-inbox"] || process.env.TROUPE_USER_FROM_INBOX === "1"
      ? { userFromInbox: true }
      : {}),
  };
}

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
  /** Host option `userFromInbox`: only where every NATS user reads only its own inboxes. */
  userFromInbox?: boolean;
  /** The host group reported to the control plane (default: from the entry's file name). */
  group?: string;
  /** Jobs the host runs at once per type (default 16). */
  jobCapacity?: number;
  until?: Promise<unknown>;
  /** Where progress lines go (a drain that takes over a second); default none. */
  io?: CliIo;
  /** Called with the health server's port once it listens. */
  onHealthListening?: (port: number) => void;
}

export async function hostCommand(options: HostCommandOptions = {}): Promise<void> {
  const servers = process.env.NATS_URL;
  if (!servers) {
    throw new ConfigurationError(
      "troupe host needs NATS_URL (use `troupe dev` for a local mesh with its own server, or `troupe dev --add <entry>` beside a running one)",
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
        ...(options.userFromInbox ? { userFromInbox: true } : {}),
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
      ...(options.io
        ? { whileDraining: (drain: Promise<void>) => whileWaiting(options.io as CliIo, "draining", drain) }
        : {}),
      metricsPort: options.metricsPort,
      whileServing: async (_mesh, host) => {
        served = host;
        // Listening for signals before saying "ready": one sent on that line must drain, not kill.
        const signalled = options.until ?? untilSignal();
        logger.info("host ready", { types: host.types });
        const signal = await signalled;
        logger.info("draining", { signal: String(signal) });
      },
    });
  } finally {
    health?.close();
  }
}
