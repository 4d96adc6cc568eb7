// Module resolve hook for bench workers that run a tsc build in DIR (`npm run bench` makes one with
// `tsc -p tsconfig.bench.json --outDir DIR`; `bench/hot-path.ts` can use a runtime-only build):
// makes `troupe`, `troupe/testing` and `troupe/internal` (the gateway's) resolve to DIR's runtime instead of the TypeScript sources.
// Bare imports made by files in DIR (nats.js, msgpackr...) resolve from the repository's
// node_modules. Plain JS: it runs without tsx.
import { pathToFileURL } from "node:url";

let dirUrl;
let repoPackageUrl;
let repoRuntimeUrl;

export function initialize(data) {
  dirUrl = pathToFileURL(`${data.dir}/`).href;
  repoPackageUrl = pathToFileURL(`${data.repo}/package.json`).href;
  repoRuntimeUrl = pathToFileURL(`${data.repo}/runtime/`).href;
}

// DIR may lie outside the repository (no package.json with "type": "module" above it): files
// resolved into it are ES modules.
const MODULE = { format: "module", shortCircuit: true };

export async function resolve(specifier, context, next) {
  if (specifier === "troupe") return { url: new URL("runtime/index.js", dirUrl).href, ...MODULE };
  if (specifier === "troupe/testing")
    return { url: new URL("runtime/testing/index.js", dirUrl).href, ...MODULE };
  if (specifier === "troupe/internal") return { url: new URL("runtime/internal.js", dirUrl).href, ...MODULE };
  const fromDir = context.parentURL?.startsWith(dirUrl) ?? false;
  const bare = !specifier.startsWith(".") && !specifier.startsWith("/") && !specifier.includes(":");
  if (bare && fromDir) return next(specifier, { ...context, parentURL: repoPackageUrl });
  const resolved = await next(specifier, context);
  // A bench file importing a runtime source file by path (bench/lib/sdk-cost.ts imports
  // runtime/telemetry/sdk.ts) gets DIR's copy too: two copies of a module keep two copies of its
  // state (the standard-propagation switch `registerGlobally()` sets would be set in the other one).
  if (resolved.url.startsWith(repoRuntimeUrl) && resolved.url.endsWith(".ts")) {
    const rel = resolved.url.slice(repoRuntimeUrl.length).replace(/\.ts$/, ".js");
    return { url: new URL(`runtime/${rel}`, dirUrl).href, ...MODULE };
  }
  return resolved.url.startsWith(dirUrl) ? { ...resolved, ...MODULE } : resolved;
}
