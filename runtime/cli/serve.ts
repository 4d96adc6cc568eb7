/**
 * Hosting the actor classes an entry module exports, for `troupe dev` and `troupe host`: connect,
 * host, report, wait for a stop signal, drain. Telemetry (OTEL_* variables) is set up here because
 * this is a process entry point.
 */
import { hostname } from "node:os";
import { pathToFileURL } from "node:url";
import type { ActorClass } from "../actor/index.js";
import { Actor } from "../actor/index.js";
import { connect } from "../connect.js";
import { ConfigurationError } from "../errors.js";
import type { Host, HostOptions } from "../host/index.js";
import type { Logger } from "../log.js";
import type { ConnectOptions, Mesh } from "../mesh.js";
import { startTelemetry } from "../telemetry/index.js";

/** The OpenTelemetry SDK setup, for the other process entry points of the CLI (`troupe control-plane`). */
export { startTelemetry };

export interface ServeOptions {
  entry: string;
  connect: ConnectOptions;
  logger: Logger;
  serviceName: string;
  /** Port of the Prometheus scrape endpoint (`/metrics`); default: only with OTEL_METRICS_EXPORTER=prometheus. */
  metricsPort?: number | undefined;
  /** Options of the host (e.g. `throttling`). */
  host?: HostOptions;
  /** Runs on the connected mesh before the host starts (e.g. an edge site's streams). */
  beforeHost?: (mesh: Mesh) => Promise<void>;
  /** Wraps the drain, e.g. with a progress line (progress.ts). Default: none. */
  whileDraining?: (drain: Promise<void>) => Promise<void>;
  /** Called once the host serves; resolves when it should stop (the caller's signal handling). */
  whileServing(mesh: Mesh, host: Host, classes: ActorClass[]): Promise<unknown>;
}

export async function serveEntry(options: ServeOptions): Promise<void> {
  const classes = await loadActorClasses(options.entry);
  const telemetry = await startTelemetry({
    serviceName: options.serviceName,
    ...(options.metricsPort !== undefined ? { metricsPort: options.metricsPort } : {}),
  });
  if (telemetry.metricsUrl) options.logger.info("metrics endpoint", { url: telemetry.metricsUrl });
  try {
    const mesh = await connect({
      name: `${options.serviceName}@${hostname()}`,
      ...options.connect,
      logger: options.logger,
    });
    try {
      await options.beforeHost?.(mesh);
      const host = await mesh.host(classes, options.host ?? {});
      await options.whileServing(mesh, host, classes);
      await (options.whileDraining ?? ((drain) => drain))(host.drain());
    } finally {
      await mesh.close();
    }
  } finally {
    await telemetry.shutdown();
  }
}

/** Resolves with the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const on = (sig: NodeJS.Signals) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolveSignal(sig);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

/**
 * Imports `entry` and returns every exported class that extends Actor. The entry is imported only
 * for those classes: code at its top level runs too, so scripts belong in their own file.
 * A TypeScript entry is compiled by tsx (registered here when the CLI itself runs compiled).
 */
export async function loadActorClasses(entry: string): Promise<ActorClass[]> {
  if (/\.[cm]?tsx?$/.test(entry) && import.meta.url.endsWith(".js")) await registerTsx();
  const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  const classes = Object.values(mod).filter(
    (v): v is ActorClass => typeof v === "function" && v.prototype instanceof Actor,
  );
  if (classes.length === 0) throw new ConfigurationError(`${entry} exports no actor classes`);
  return classes;
}

let tsxRegistered: Promise<unknown> | undefined;

/** Lets `import()` load TypeScript: tsx's ESM loader, once per process. */
function registerTsx(): Promise<unknown> {
  tsxRegistered ??= import("tsx/esm/api").then(({ register }) => register());
  return tsxRegistered;
}
