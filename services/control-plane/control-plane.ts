/**
 * The control plane process: a gRPC server (ThrottleService, HostChannel, grpc.health.v1, server
 * reflection) over the policy store and the host channel, and a tick that re-plans every host's
 * shares about once per report interval, and at once when policies change or a host registers.
 * Optionally a second listener for KEDA (`scaler`): the same ExternalScaler handlers and
 * grpc.health.v1, nothing else, behind mutual TLS (KEDA cannot send a bearer token).
 *
 * Design: stateless replicas. Policies live in JetStream KV (PolicyStore), each replica's hosts'
 * demand and load too (DemandBoard: throttle shares and scaling decisions count every replica's hosts); any number of replicas can run behind one Service, hosts may connect to
 * any, and a restarted replica picks everything up from the buckets. No leader is needed because
 * nothing is decided that two replicas could disagree on for long: a share is recomputed every tick
 * from the same buckets. See docs/control-plane.md.
 */
import { hostname } from "node:os";
import { Server, type ServerCredentials } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import type { NatsOptions } from "troupe";
import { consoleLogger, type Logger } from "troupe";
import type { GetStatusResponse, PolicyShare, Transport } from "troupe/internal";
import {
  DEFAULT_PREFIX,
  NatsTransport,
  Subjects,
  troupePackageDefinition,
  troupeProto,
} from "troupe/internal";
import { type ApiLimit, apiLimitInterceptor, DEFAULT_API_LIMIT } from "./api-limit.js";
import { TokenVerifier, tokenInterceptor } from "./auth.js";
import {
  resolveScalerSecurity,
  resolveSecurity,
  type SecurityOptions,
  type TlsOptions,
} from "./credentials.js";
import { DemandBoard } from "./demand-board.js";
import { HostChannelService } from "./host-channel.js";
import { PolicyStore } from "./policy-store.js";
import {
  externalScalerHandlers,
  observeScaling,
  type ScalingConfig,
  ScalingMonitor,
  scalingServiceHandlers,
} from "./scaling/index.js";
import { type HostView, planShares } from "./share-planner.js";
import { statusReport } from "./status-report.js";
import { throttleServiceHandlers } from "./throttle-service.js";

export interface ControlPlaneOptions extends SecurityOptions {
  /** Port to listen on (0: any free port; read it back from `port`). Default 7233. */
  port?: number;
  /** Address to bind. Default "0.0.0.0". */
  bind?: string;
  /** NATS connection (default NATS_URL); ignored when `transport` is given. */
  nats?: NatsOptions;
  /** An open transport to use (not closed by `stop()`). */
  transport?: Transport;
  prefix?: string;
  /** How often hosts report usage and shares are re-planned. Default 1000 ms. */
  reportIntervalMs?: number;
  /** This replica's id in the demand bucket. Default `<hostname>-<pid>`. */
  replicaId?: string;
  /** Replicas of the KV buckets' streams (3 in a 3-node NATS cluster). */
  kvReplicas?: number;
  /** Calls per client to this API (token bucket); false: unlimited. Default 50/s, burst 100. */
  apiLimit?: ApiLimit | false;
  logger?: Logger;
  /** Scaling: policies of the host groups (others get the defaults); see docs/patterns/competing-consumers.md. */
  scaling?: ScalingConfig;
  /**
   * A second listener for KEDA: only `externalscaler.ExternalScaler` and `grpc.health.v1`, under
   * mutual TLS (`tls.cert`, `tls.key`, and `tls.ca` of the client certificates; all required unless
   * `insecure`). The main port keeps its own authentication.
   */
  scaler?: ScalerListenerOptions;
}

export interface ScalerListenerOptions {
  /** 0: any free port (read it back from `scalerPort`). */
  port: number;
  /** Default: the main listener's `bind`. */
  bind?: string;
  tls?: TlsOptions;
}

export interface ControlPlane {
  readonly port: number;
  /** `host:port` clients can dial on this machine. */
  readonly address: string;
  /** "mtls", "tls", "plaintext" or "insecure". */
  readonly securityMode: string;
  /** The scaler listener's port and dial address, when `scaler` was given. */
  readonly scalerPort?: number;
  readonly scalerAddress?: string;
  /** Stops serving: hosts' streams end (they keep their shares), the server shuts down. */
  stop(): Promise<void>;
}

export const DEFAULT_CONTROL_PLANE_PORT = 7233;
export const DEFAULT_REPORT_INTERVAL_MS = 1000;
const SERVICES = [
  "troupe.v1.ThrottleService",
  "troupe.v1.HostChannel",
  "troupe.v1.ScalingService",
  "externalscaler.ExternalScaler",
];
const SCALER_SERVICES = ["externalscaler.ExternalScaler"];

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const logger = options.logger ?? consoleLogger();
  const security = resolveSecurity(options, logger);
  // Refused here, before NATS is dialled, like the main port's security.
  const scalerSecurity = options.scaler
    ? resolveScalerSecurity(options.scaler.tls, options.insecure === true, logger)
    : undefined;
  const reportIntervalMs = options.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS;
  const subjects = new Subjects(options.prefix ?? DEFAULT_PREFIX);
  const ownTransport = options.transport === undefined;
  const transport =
    options.transport ??
    (await NatsTransport.connect({ name: "troupe-control-plane", ...options.nats }, logger));
  const replicaId = sanitize(options.replicaId ?? `${hostname()}-${process.pid}`);
  let store: PolicyStore | undefined;
  let board: DemandBoard | undefined;
  try {
    const kv = options.kvReplicas ? { replicas: options.kvReplicas } : {};
    store = await PolicyStore.open(transport, subjects, logger, kv);
    board = await DemandBoard.open(transport, subjects, replicaId, reportIntervalMs, logger, kv);
    const securities = { main: security, scaler: scalerSecurity };
    return await serve(options, logger, securities, reportIntervalMs, store, board, transport, async () => {
      if (ownTransport) await transport.close();
    });
  } catch (err) {
    store?.close();
    board?.close();
    if (ownTransport) await transport.close().catch(() => {});
    throw err;
  }
}

async function serve(
  options: ControlPlaneOptions,
  logger: Logger,
  securities: {
    main: ReturnType<typeof resolveSecurity>;
    scaler: ReturnType<typeof resolveScalerSecurity> | undefined;
  },
  reportIntervalMs: number,
  store: PolicyStore,
  board: DemandBoard,
  transport: Transport,
  closeTransport: () => Promise<void>,
): Promise<ControlPlane> {
  let lastPlan = new Map<string, PolicyShare[]>();
  let planScheduled = false;
  const hostChannel = new HostChannelService(logger, reportIntervalMs, {
    onRegistered: () => schedulePlan(),
  });

  const allHosts = (): HostView[] => {
    const local = hostChannel.connected();
    return [...local, ...board.remoteHosts(new Set(local.map((h) => h.hostId)))];
  };
  const plan = () => {
    planScheduled = false;
    lastPlan = planShares(store.current(), allHosts());
    for (const host of hostChannel.connected()) {
      try {
        host.sendShares(lastPlan.get(host.hostId) ?? []);
      } catch (err) {
        logger.warn("control plane: could not send shares to a host", { host: host.hostId, err });
      }
    }
  };
  const schedulePlan = () => {
    if (planScheduled) return;
    planScheduled = true;
    setImmediate(plan);
  };
  const unsubscribe = store.onChange(schedulePlan);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const scaling = new ScalingMonitor({
    transport,
    prefix,
    intervalMs: reportIntervalMs,
    // Every host of every replica: the other replicas' hosts come from the demand board.
    hosts: () => {
      const local = hostChannel.connected();
      return [
        ...local.map((h) => ({
          hostId: h.hostId,
          group: h.group,
          actorTypes: h.actorTypes,
          load: h.load,
          throttledPerSecond: [...h.usage.entries()].reduce((sum, d) => sum + d.refusedPerSecond, 0),
        })),
        ...board.remoteHosts(new Set(local.map((h) => h.hostId))),
      ];
    },
    ...options.scaling,
    logger,
  });
  scaling.start();
  const unobserveScaling = observeScaling(scaling);
  const tick = setInterval(() => {
    void board.publish(hostChannel.connected());
    plan();
  }, reportIntervalMs);

  const status = (policyName: string | undefined): GetStatusResponse =>
    statusReport(hostChannel.connected(), allHosts, board, store, lastPlan, policyName);

  const security = securities.main;
  const apiLimit =
    options.apiLimit === false ? [] : [apiLimitInterceptor(options.apiLimit ?? DEFAULT_API_LIMIT, logger)];
  // Authentication first: an unauthenticated caller does not even spend API tokens.
  const interceptors = [
    ...(security.tokens.length > 0
      ? [
          tokenInterceptor(
            new TokenVerifier(security.tokens),
            logger,
            // KEDA cannot send a token; under mutual TLS its client certificate authenticated it.
            security.mode === "mtls" ? ["/externalscaler.ExternalScaler/"] : [],
          ),
        ]
      : []),
    ...apiLimit,
  ];
  const server = new Server({ interceptors });
  const proto = troupeProto();
  server.addService(
    proto.troupe.v1.ThrottleService.service,
    throttleServiceHandlers(store, { status }, logger),
  );
  server.addService(proto.troupe.v1.HostChannel.service, { Connect: hostChannel.connect });
  server.addService(proto.troupe.v1.ScalingService.service, scalingServiceHandlers(scaling));
  // One set of handlers, served on the main port and (for KEDA) on the scaler port.
  const scaler = externalScalerHandlers(scaling, prefix, logger);
  server.addService(proto.externalscaler.ExternalScaler.service, scaler);
  const health = new HealthImplementation({
    "": "SERVING",
    ...Object.fromEntries(SERVICES.map((s) => [s, "SERVING"])),
  });
  health.addToServer(server);
  new ReflectionService(troupePackageDefinition()).addToServer(server);

  // The scaler listener: the ExternalScaler and health, nothing else; the client certificate
  // authenticated the caller during the handshake, so no token interceptor, only the API limit.
  const scalerListener = securities.scaler && options.scaler;
  const scalerServer = scalerListener ? new Server({ interceptors: apiLimit }) : undefined;
  const scalerHealth = new HealthImplementation({
    "": "SERVING",
    ...Object.fromEntries(SCALER_SERVICES.map((s) => [s, "SERVING"])),
  });
  if (scalerServer) {
    scalerServer.addService(proto.externalscaler.ExternalScaler.service, scaler);
    scalerHealth.addToServer(scalerServer);
  }

  const bind = options.bind ?? "0.0.0.0";
  const scalerBind = options.scaler?.bind ?? bind;
  let port = 0;
  let scalerPort: number | undefined;
  try {
    port = await bindServer(
      server,
      `${bind}:${options.port ?? DEFAULT_CONTROL_PLANE_PORT}`,
      security.credentials,
    );
    if (scalerServer && securities.scaler && scalerListener) {
      scalerPort = await bindServer(
        scalerServer,
        `${scalerBind}:${scalerListener.port}`,
        securities.scaler.credentials,
      );
    }
  } catch (err) {
    server.forceShutdown();
    scalerServer?.forceShutdown();
    clearInterval(tick);
    unsubscribe();
    unobserveScaling();
    await scaling.stop();
    store.close();
    board.close();
    await closeTransport();
    throw err;
  }
  const dialHost = (b: string) => (b === "0.0.0.0" || b === "::" ? "127.0.0.1" : b);
  logger.info("control plane: serving", { port, security: security.mode, reportIntervalMs });
  if (scalerPort !== undefined)
    logger.info("control plane: serving KEDA's external scaler", {
      port: scalerPort,
      security: securities.scaler?.mode,
    });

  let stopped: Promise<void> | undefined;
  return {
    port,
    address: `${dialHost(bind)}:${port}`,
    securityMode: security.mode,
    ...(scalerPort !== undefined
      ? { scalerPort, scalerAddress: `${dialHost(scalerBind)}:${scalerPort}` }
      : {}),
    stop: () => {
      stopped ??= (async () => {
        clearInterval(tick);
        unsubscribe();
        unobserveScaling();
        await scaling.stop();
        for (const s of ["", ...SERVICES]) health.setStatus(s, "NOT_SERVING");
        for (const s of ["", ...SCALER_SERVICES]) scalerHealth.setStatus(s, "NOT_SERVING");
        hostChannel.closeAll();
        await Promise.all([shutdown(server), ...(scalerServer ? [shutdown(scalerServer)] : [])]);
        store.close();
        board.close();
        await closeTransport();
        logger.info("control plane: stopped", { port });
      })();
      return stopped;
    },
  };
}

function bindServer(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/** Lets calls in flight finish for up to 2 s, then forces. */
function shutdown(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 2000);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

function sanitize(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64) || "replica";
}
