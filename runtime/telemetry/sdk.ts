/**
 * The OpenTelemetry SDK for process entry points only (host processes, `troupe dev`): libraries and
 * the runtime use the hooks of `./index.ts`, which depend on `@opentelemetry/api` alone.
 *
 * Configuration is the standard `OTEL_*` environment:
 * - `OTEL_SDK_DISABLED=true`: nothing is set up.
 * - `OTEL_TRACES_EXPORTER`: `otlp`, `console` or `none`. Unset: `otlp` when an OTLP endpoint is set,
 *   otherwise no tracing at all (the hooks stay on their no-op path).
 * - `OTEL_EXPORTER_OTLP_ENDPOINT` (base URL, e.g. `http://localhost:4318`, or `:4317` for gRPC) or
 *   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (full URL), `OTEL_EXPORTER_OTLP_HEADERS`, `..._TIMEOUT`,
 *   `..._COMPRESSION`: read by the exporters themselves.
 * - `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf`
 *   (default), `http/json` or `grpc`. With `http/protobuf` spans are recorded by Troupe's own
 *   tracer (`./tracer/`, several times cheaper per span than the SDK's, see docs/observability.md);
 *   `TROUPE_TRACER=sdk` uses the SDK's tracer and exporter instead.
 * - `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`; `OTEL_TRACES_SAMPLER` (+`_ARG`);
 *   `OTEL_BSP_*` (batch span processor); `OTEL_LOG_LEVEL` (SDK diagnostics to the console).
 * - `OTEL_METRICS_EXPORTER=prometheus`: a Prometheus scrape endpoint on
 *   `OTEL_EXPORTER_PROMETHEUS_HOST`:`OTEL_EXPORTER_PROMETHEUS_PORT` (default 0.0.0.0:9464).
 *
 * @example
 * ```ts
 * const telemetry = await startTelemetry({ serviceName: "shop-host" });
 * const mesh = await connect();
 * // ... on shutdown, after the mesh closed:
 * await telemetry.shutdown(); // flushes pending spans
 * ```
 */
import {
  context,
  DiagConsoleLogger,
  DiagLogLevel,
  diag,
  metrics,
  propagation,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { MetricReader } from "@opentelemetry/sdk-metrics";
import { activeTracer } from "./hop.js";
import { useStandardPropagation } from "./propagation.js";

export interface TelemetryOptions {
  /** `service.name` when `OTEL_SERVICE_NAME` is not set. Default `troupe`. */
  serviceName?: string;
  /** Starts the Prometheus endpoint on this port even without `OTEL_METRICS_EXPORTER=prometheus`. */
  metricsPort?: number;
  /** Where setup problems are reported. Default: stderr. */
  warn?: (message: string) => void;
}

export interface Telemetry {
  /** Whether spans are exported. */
  readonly tracing: boolean;
  /** The Prometheus scrape URL, when metrics are served. */
  readonly metricsUrl: string | undefined;
  /** Exports the spans ended so far. */
  forceFlush(): Promise<void>;
  /**
   * Flushes and stops exporting, and unregisters the SDK from the API. Idempotent; never rejects
   * (a flush that fails, e.g. collector unreachable, is reported through `warn`).
   */
  shutdown(): Promise<void>;
}

type Protocol = "http/protobuf" | "http/json" | "grpc";

/**
 * Sets up tracing (and Prometheus metrics when asked) from the `OTEL_*` environment and registers
 * it globally: AsyncLocalStorage context manager, W3C trace-context and baggage propagators, a
 * batch span processor and an OTLP exporter. Does nothing when no exporter is configured.
 */
export async function startTelemetry(options: TelemetryOptions = {}): Promise<Telemetry> {
  const env = process.env;
  const warn = options.warn ?? ((m: string) => process.stderr.write(`troupe telemetry: ${m}\n`));
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return DISABLED;
  const logLevel = diagLevel(env.OTEL_LOG_LEVEL);
  if (logLevel !== undefined) diag.setLogger(new DiagConsoleLogger(), logLevel);

  const tracesExporter = chooseTracesExporter(env);
  const wantsMetrics =
    options.metricsPort !== undefined || listOf(env.OTEL_METRICS_EXPORTER).includes("prometheus");
  if (!tracesExporter && !wantsMetrics) return DISABLED;

  const resource = await buildResource(options.serviceName ?? "troupe");
  const stops: (() => Promise<void>)[] = [];
  const flushes: (() => Promise<void>)[] = [];
  let tracing = false;

  if (tracesExporter) {
    if (activeTracer()) {
      warn("a tracer provider is already registered; Troupe's spans go to it");
    } else {
      const protocol = tracesExporter === "otlp" ? otlpProtocol(env, warn) : undefined;
      const provider =
        protocol === "http/protobuf" && env.TROUPE_TRACER?.trim().toLowerCase() !== "sdk"
          ? await registerTroupeTracer(resource, env, warn)
          : await registerSdkTracer(resource, protocol);
      tracing = true;
      flushes.push(() => provider.forceFlush());
      stops.push(async () => {
        // An unreachable collector must not fail the process's shutdown: report and go on.
        await provider.shutdown().catch((err) => warn(`spans not flushed at shutdown: ${String(err)}`));
        trace.disable();
        propagation.disable();
        useStandardPropagation(false);
        context.disable();
      });
    }
  }

  let metricsUrl: string | undefined;
  if (wantsMetrics) {
    const { MeterProvider } = await import("@opentelemetry/sdk-metrics");
    const { PrometheusExporter } = await import("@opentelemetry/exporter-prometheus");
    const host = env.OTEL_EXPORTER_PROMETHEUS_HOST || "0.0.0.0";
    const port = options.metricsPort ?? (Number(env.OTEL_EXPORTER_PROMETHEUS_PORT) || 9464);
    const reader: MetricReader = new PrometheusExporter({ host, port, preventServerStart: true });
    await (reader as InstanceType<typeof PrometheusExporter>).startServer();
    const meterProvider = new MeterProvider({ resource, readers: [reader] });
    if (metrics.setGlobalMeterProvider(meterProvider)) {
      metricsUrl = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}/metrics`;
      stops.push(async () => {
        await meterProvider.shutdown().catch((err) => warn(`metrics shutdown failed: ${String(err)}`));
        metrics.disable();
      });
    } else {
      warn("a meter provider is already registered; Troupe's metrics go to it");
      await meterProvider.shutdown();
    }
  }

  let stopped: Promise<void> | undefined;
  return {
    tracing,
    metricsUrl,
    forceFlush: async () => {
      await Promise.all(flushes.map((f) => f()));
    },
    shutdown: () => {
      stopped ??= (async () => {
        for (const stop of stops) await stop();
      })();
      return stopped;
    },
  };
}

const DISABLED: Telemetry = {
  tracing: false,
  metricsUrl: undefined,
  forceFlush: async () => {},
  shutdown: async () => {},
};

function chooseTracesExporter(env: NodeJS.ProcessEnv): "otlp" | "console" | undefined {
  const listed = listOf(env.OTEL_TRACES_EXPORTER);
  if (listed.length === 0) {
    return env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? "otlp" : undefined;
  }
  if (listed.includes("none")) return undefined;
  if (listed.includes("otlp")) return "otlp";
  if (listed.includes("console")) return "console";
  return undefined;
}

function otlpProtocol(env: NodeJS.ProcessEnv, warn: (m: string) => void): Protocol {
  const value = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || "http/protobuf")
    .trim()
    .toLowerCase();
  if (value === "http/protobuf" || value === "http/json" || value === "grpc") return value;
  warn(`unknown OTLP protocol "${value}", using http/protobuf`);
  return "http/protobuf";
}

/**
 * The SDK's tracer provider with its exporter for `protocol` (undefined: the console), registered
 * with the AsyncLocalStorage context manager and W3C trace context and baggage propagation.
 */
async function registerSdkTracer(resource: Resource, protocol: Protocol | undefined) {
  const { NodeTracerProvider, BatchSpanProcessor, ConsoleSpanExporter } = await import(
    "@opentelemetry/sdk-trace-node"
  );
  const exporter = protocol ? await otlpExporter(protocol) : new ConsoleSpanExporter();
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  // What provider.register() installs, through the one place that records it for propagation.ts.
  await registerGlobally(provider);
  return provider;
}

/**
 * Troupe's tracer (runtime/telemetry/tracer/) for OTLP/HTTP protobuf: the SDK's sampler classes,
 * batch span processor (`OTEL_BSP_*`) and HTTP export delegate, with a leaner span and OTLP encoder;
 * registered like the SDK's (AsyncLocalStorage context manager, W3C trace context and baggage).
 */
async function registerTroupeTracer(resource: Resource, env: NodeJS.ProcessEnv, warn: (m: string) => void) {
  const { BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-node");
  const { OtlpHttpSpanExporter } = await import("./tracer/otlp-exporter.js");
  const { samplerFollowsParent, samplerFromEnv, samplerRootRatio } = await import("./tracer/sampler.js");
  const { spanLimitsFromEnv, TroupeTracerProvider } = await import("./tracer/tracer.js");
  await resource.waitForAsyncAttributes?.();
  // The batch processor reads only spanContext() and resource (see RecordedSpan) before handing
  // spans to the exporter, which is ours: the casts bridge its ReadableSpan typing.
  const processor = new BatchSpanProcessor(new OtlpHttpSpanExporter(resource.attributes) as never);
  const provider = new TroupeTracerProvider({
    sampler: samplerFromEnv(env, warn),
    // samplerFromEnv builds only the standard samplers, which decide from the parent and trace id.
    samplerIgnoresAttributes: true,
    samplerFollowsParent: samplerFollowsParent(env),
    rootRatio: samplerRootRatio(env),
    processor: processor as never,
    limits: spanLimitsFromEnv(env),
  });
  await registerGlobally(provider);
  return provider;
}

/**
 * Registers `provider` as the global tracer provider with what the SDK's `register()` installs:
 * the AsyncLocalStorage context manager and W3C trace context and baggage propagation.
 */
export async function registerGlobally(provider: TracerProvider): Promise<void> {
  const [{ AsyncLocalStorageContextManager }, core] = await Promise.all([
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/core"),
  ]);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const registered = propagation.setGlobalPropagator(
    new core.CompositePropagator({
      propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
    }),
  );
  // Troupe's hops may then read and write the common W3C cases themselves (propagation.ts).
  useStandardPropagation(registered);
  trace.setGlobalTracerProvider(provider);
}

async function otlpExporter(protocol: Protocol) {
  // Each exporter reads its endpoint, headers, timeout and compression from OTEL_EXPORTER_OTLP_*.
  if (protocol === "grpc") {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-grpc");
    return new OTLPTraceExporter();
  }
  if (protocol === "http/json") {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    return new OTLPTraceExporter();
  }
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
  return new OTLPTraceExporter();
}

async function buildResource(serviceName: string) {
  const { defaultResource, detectResources, envDetector, resourceFromAttributes } = await import(
    "@opentelemetry/resources"
  );
  // Later resources win: the default service name, then OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES.
  return defaultResource()
    .merge(resourceFromAttributes({ "service.name": serviceName }))
    .merge(detectResources({ detectors: [envDetector] }));
}

function listOf(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
}

function diagLevel(value: string | undefined): DiagLogLevel | undefined {
  switch (value?.trim().toUpperCase()) {
    case "ALL":
      return DiagLogLevel.ALL;
    case "VERBOSE":
      return DiagLogLevel.VERBOSE;
    case "DEBUG":
      return DiagLogLevel.DEBUG;
    case "INFO":
      return DiagLogLevel.INFO;
    case "WARN":
      return DiagLogLevel.WARN;
    case "ERROR":
      return DiagLogLevel.ERROR;
    default:
      return undefined;
  }
}
