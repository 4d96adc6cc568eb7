#!/usr/bin/env node
// Layer check (part of `npm run check`): runs dependency-cruiser with .dependency-cruiser.cjs over
// runtime/ and services/. There is no list of tolerated violations: any violation, type-only
// imports included, fails the check (exit 1) and is printed with the rule it breaks.
//
//   node scripts/check-layers.mjs
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const cruise = path.join(root, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");
const config = path.join(root, ".dependency-cruiser.cjs");
const dirs = ["runtime", "services"];

const run = spawnSync(process.execPath, [cruise, ...dirs, "--config", config, "--output-type", "err"], {
  cwd: root,
  stdio: "inherit",
});
if (run.error) {
  console.error(`check-layers: ${run.error.message}`);
  process.exit(2);
}
process.exit(run.status ?? 2);
