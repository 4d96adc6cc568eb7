/**
 * The layering of docs/architecture.md as dependency-cruiser rules (`npm run check` runs them via
 * scripts/check-layers.mjs). Type-only imports count: they tangle the code as much as value
 * imports do. Every violation fails the check; there is no list of tolerated ones.
 *
 * Layers, lowest first. A folder may import its own layer's shared files and any layer below;
 * never a layer above, never a sibling folder of its own layer (that is how folder circles start).
 */
const LAYERS = [
  ["runtime/errors\\.ts$", "runtime/log\\.ts$"],
  ["runtime/messaging/"],
  ["runtime/resilience/"],
  ["runtime/transport/"],
  ["runtime/interceptors/"],
  ["runtime/telemetry/"],
  ["runtime/outbox/"],
  ["runtime/actor/"],
  ["runtime/placement/"],
  ["runtime/durable/"],
  ["runtime/jobs/", "runtime/pubsub/", "runtime/reminders/"],
  ["runtime/host/", "runtime/caller/"],
  [
    "runtime/mesh\\.ts$",
    "runtime/connect\\.ts$",
    "runtime/connect-options\\.ts$",
    "runtime/outbox-link\\.ts$",
    "runtime/index\\.ts$",
    "runtime/internal\\.ts$",
    "runtime/edge/",
  ],
  ["runtime/testing/"],
  ["runtime/cli/"],
];

const rules = [];
LAYERS.forEach((layer, rank) => {
  const above = LAYERS.slice(rank + 1).flat();
  for (const from of layer) {
    if (above.length > 0) {
      rules.push({
        name: `layer-${rank}-upward`,
        comment: `${from} is in layer ${rank}: it may not import a higher layer (docs/architecture.md)`,
        severity: "error",
        from: { path: `^${from}` },
        to: { path: `^(${above.join("|")})` },
      });
    }
    const siblings = layer.filter((other) => other !== from && other.endsWith("/"));
    if (from.endsWith("/") && siblings.length > 0) {
      rules.push({
        name: `layer-${rank}-sibling`,
        comment: `${from} may not import a sibling folder of its own layer: move what both need down a layer`,
        severity: "error",
        from: { path: `^${from}` },
        to: { path: `^(${siblings.join("|")})` },
      });
    }
  }
});

module.exports = {
  forbidden: [
    ...rules,
    {
      name: "no-circular",
      comment: "No import circle between modules (type imports included).",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "nats-only-in-transport",
      comment: "Only runtime/transport imports nats.js.",
      severity: "error",
      from: { path: "^(runtime|services)/", pathNot: "^runtime/(transport|testing)/" },
      to: { path: "@nats-io/" },
    },
    {
      name: "otel-api-only-in-telemetry",
      comment: "Only runtime/telemetry imports OpenTelemetry; the SDK is set up in process entries.",
      severity: "error",
      from: { path: "^(runtime|services)/", pathNot: "^runtime/telemetry/" },
      to: { path: "@opentelemetry/" },
    },
    {
      name: "runtime-not-on-services",
      comment: "The library never imports services/; only the process-entry layer (runtime/cli) may.",
      severity: "error",
      from: { path: "^runtime/", pathNot: "^runtime/cli/" },
      to: { path: "^services/" },
    },
    {
      name: "services-use-the-public-api",
      comment: "services/ import the published entries (troupe, troupe/testing), never runtime internals.",
      severity: "error",
      from: { path: "^services/" },
      to: { path: "^runtime/", pathNot: "^runtime/(index\\.ts|internal\\.ts|testing/index\\.ts)$" },
    },
    {
      name: "through-the-index",
      comment: "Another runtime folder is imported through its index.ts, not a file inside it.",
      severity: "error",
      from: { path: "^runtime/([^/]+)/" },
      to: {
        path: "^runtime/([^/]+)/.+",
        pathNot: ["^runtime/$1/", "^runtime/[^/]+/index\\.ts$"],
      },
    },
    {
      name: "root-through-the-index",
      comment:
        "The runtime's top-level modules (mesh.ts, connect.ts, ...) import folders through their index.ts too; only the package entry points (index.ts, internal.ts) pick files.",
      severity: "error",
      from: { path: "^runtime/[^/]+\\.ts$", pathNot: "^runtime/(index|internal)\\.ts$" },
      to: { path: "^runtime/[^/]+/.+", pathNot: "^runtime/[^/]+/index\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["troupe-source", "import", "types", "default"],
      extensions: [".ts", ".js", ".mjs", ".cjs"],
    },
    exclude: { path: "(^|/)(node_modules|dist)/" },
  },
};
