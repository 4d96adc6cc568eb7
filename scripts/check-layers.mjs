#!/usr/bin/env node
// Layer check (part of `npm run check`): runs dependency-cruiser with .dependency-cruiser.cjs over
// runtime/ and services/, ignoring the violations recorded in
// .dependency-cruiser-known-violations.json (the tangle being undone; the file only shrinks).
//
//   node scripts/check-layers.mjs             check (exit 1 on any new violation)
//   node scripts/check-layers.mjs --baseline  rewrite the known-violations file (after fixing some)
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const bin = path.join(root, "node_modules", "dependency-cruiser", "bin");
const config = path.join(root, ".dependency-cruiser.cjs");
const known = path.join(root, ".dependency-cruiser-known-violations.json");
const dirs = ["runtime", "services"];

const args = process.argv.includes("--baseline")
  ? [path.join(bin, "depcruise-baseline.mjs"), ...dirs, "--config", config, "--output-to", known]
  : [
      path.join(bin, "dependency-cruise.mjs"),
      ...dirs,
      "--config",
      config,
      "--ignore-known",
      known,
      "--output-type",
      "err",
    ];
const run = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
if (run.error) {
  console.error(`check-layers: ${run.error.message}`);
  process.exit(2);
}
process.exit(run.status ?? 2);
