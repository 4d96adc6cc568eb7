// Module resolve hook for `npm run bench -- --built DIR`: makes `troupe` and `troupe/testing`
// resolve to a tsc build of the runtime in DIR (`npx tsc -p tsconfig.build.json --outDir DIR`)
// instead of the TypeScript sources tsx compiles. Bare imports made by files in DIR (nats.js,
// msgpackr...) resolve from the repository's node_modules. Plain JS so it runs before tsx.
import { pathToFileURL } from "node:url";

let dirUrl;
let repoPackageUrl;

export function initialize(data) {
  dirUrl = pathToFileURL(`${data.dir}/`).href;
  repoPackageUrl = pathToFileURL(`${data.repo}/package.json`).href;
}

// DIR may lie outside the repository (no package.json with "type": "module" above it): files
// resolved into it are ES modules.
const MODULE = { format: "module", shortCircuit: true };

export async function resolve(specifier, context, next) {
  if (specifier === "troupe") return { url: new URL("runtime/index.js", dirUrl).href, ...MODULE };
  if (specifier === "troupe/testing")
    return { url: new URL("runtime/testing/index.js", dirUrl).href, ...MODULE };
  const fromDir = context.parentURL?.startsWith(dirUrl) ?? false;
  const bare = !specifier.startsWith(".") && !specifier.startsWith("/") && !specifier.includes(":");
  if (bare && fromDir) return next(specifier, { ...context, parentURL: repoPackageUrl });
  const resolved = await next(specifier, context);
  return resolved.url.startsWith(dirUrl) ? { ...resolved, ...MODULE } : resolved;
}
