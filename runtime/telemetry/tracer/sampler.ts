/**
 * The sampler named by `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, built from the SDK's own
 * sampler classes so that decisions match the SDK exactly (same trace-id ratio algorithm).
 */
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-node";

/** `parentbased_always_on` unless the environment says otherwise (the SDK's default). */
export function samplerFromEnv(env: NodeJS.ProcessEnv, warn: (message: string) => void): Sampler {
  const name = samplerName(env);
  const ratio = () => ratioOf(env, warn);
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio());
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      warn(`unknown OTEL_TRACES_SAMPLER "${name}", using parentbased_always_on`);
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * The ratio by which the sampler `samplerFromEnv(env)` builds decides a root span, when it is
 * `traceidratio` or `parentbased_traceidratio` (see `TroupeTracerProviderOptions.rootRatio`).
 */
export function samplerRootRatio(env: NodeJS.ProcessEnv): number | undefined {
  const name = samplerName(env);
  if (name !== "traceidratio" && name !== "parentbased_traceidratio") return undefined;
  // samplerFromEnv has warned about a bad ratio already.
  return ratioOf(env, () => {});
}

function samplerName(env: NodeJS.ProcessEnv): string {
  return (env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on").trim().toLowerCase();
}

function ratioOf(env: NodeJS.ProcessEnv, warn: (message: string) => void): number {
  const raw = env.OTEL_TRACES_SAMPLER_ARG;
  const value = raw === undefined || raw.trim() === "" ? 1 : Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    warn(`OTEL_TRACES_SAMPLER_ARG="${raw}" is not a ratio between 0 and 1, using 1`);
    return 1;
  }
  return value;
}

/**
 * Whether the sampler `samplerFromEnv(env)` builds is parent-based with the default delegates, so
 * that under a valid parent the parent's sampled flag alone decides.
 */
export function samplerFollowsParent(env: NodeJS.ProcessEnv): boolean {
  const name = samplerName(env);
  return (
    name === "parentbased_always_on" ||
    name === "parentbased_always_off" ||
    name === "parentbased_traceidratio" ||
    !KNOWN.has(name)
  );
}

const KNOWN = new Set([
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
]);
