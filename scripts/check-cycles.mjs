#!/usr/bin/env node
// Import-cycle check (part of `npm run check`), using the dpdm devDependency's programmatic API.
//
//   node scripts/check-cycles.mjs              checks runtime/, services/, bench/, bin/
//   node scripts/check-cycles.mjs DIR|FILE...  checks the given folders/files instead
//
// Imports are resolved the way TypeScript does with ./tsconfig.json (NodeNext, so "./x.js" finds x.ts, and
// the "troupe-source" condition, so "troupe" finds runtime/index.ts). TypeScript files are transpiled
// first, so imports used only for types (erased at run time) do not count as cycle edges.
// Exits 1 and lists every cycle when there is one; exits 2 when the check itself cannot run.

import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_DIRS = ["runtime", "services", "bench", "bin"];
const SOURCE_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];
const SKIP_DIRS = new Set(["node_modules", "dist", ".git", ".troupe"]);

function die(message) {
  console.error(`check-cycles: ${message}`);
  process.exit(2);
}

let dpdm;
try {
  dpdm = createRequire(path.join(root, "package.json"))("dpdm");
} catch (error) {
  die(
    `cannot load the dpdm devDependency (${error.message.split("\n")[0]}); run \`node scripts/bootstrap.mjs\` or \`npm ci\``,
  );
}

function isSource(file) {
  return SOURCE_EXTENSIONS.includes(path.extname(file)) && !/\.d\.[cm]?ts$/.test(file);
}

/** Source files under `target` (a folder or a file), absolute paths, sorted. */
function collect(target, out) {
  let stat;
  try {
    stat = statSync(target);
  } catch {
    return out; // a default folder that does not exist (yet) has nothing to check
  }
  if (stat.isFile()) {
    if (isSource(target)) out.push(target);
    return out;
  }
  if (!stat.isDirectory()) return out;
  for (const entry of readdirSync(target, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) collect(full, out);
    } else if (entry.isFile() && isSource(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

const targets = process.argv.slice(2);
for (const target of targets) {
  try {
    statSync(path.resolve(target));
  } catch {
    die(`no such file or folder: ${target}`);
  }
}
const files = (targets.length > 0 ? targets : DEFAULT_DIRS.map((dir) => path.join(root, dir))).flatMap((t) =>
  collect(path.resolve(t), []),
);

// Glob metacharacters in a path would be misread by dpdm's glob matching of entries.
const weird = files.filter((file) => /[*?[\]{}()!]/.test(file));
if (weird.length > 0) die(`cannot check paths with glob characters: ${weird.join(", ")}`);

const display = (id) => {
  const rel = path.relative(root, path.resolve(root, id));
  return rel.startsWith("..") ? path.resolve(root, id) : rel;
};

let circulars;
try {
  const tree = await dpdm.parseDependencyTree(files, {
    cwd: root,
    context: root,
    tsconfig: path.join(root, "tsconfig.json"),
    transform: true,
    extensions: ["", ...SOURCE_EXTENSIONS, ".json"],
    js: SOURCE_EXTENSIONS,
    exclude: /[\\/]node_modules[\\/]/,
  });
  circulars = dpdm.parseCircular(tree);
} catch (error) {
  die(`dpdm failed: ${error.stack ?? error}`);
}

if (circulars.length === 0) {
  console.log(`check-cycles: no import cycles in ${files.length} file(s)`);
} else {
  console.error(`check-cycles: ${circulars.length} import cycle(s) found:`);
  circulars.forEach((cycle, i) => {
    const chain = [...cycle, cycle[0]].map(display).join(" -> ");
    console.error(`  ${i + 1}) ${chain}`);
  });
  console.error(
    "check-cycles: break each cycle (move the shared code into its own module, or use `import type`).",
  );
  process.exit(1);
}
