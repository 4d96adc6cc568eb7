#!/usr/bin/env node
// The content of the container image, built into a folder: the Dockerfile's build stage runs this
// script, and test/deploy/image.test.ts runs it too, so what the image holds is tested without Docker.
//
//   node scripts/build-image.mjs --out DIR
//
// Needs the repository's dev dependencies installed (typescript). Steps, in order:
//   1. compile runtime/ and services/ (tsconfig.build.json) into DIR/dist
//   2. copy what the compiled code reads at run time: bin/, protos/, package.json, package-lock.json
//   3. install the production dependencies only, exactly as locked, without install scripts
//      (npm ci --omit=dev --ignore-scripts): no compiler, no test tools, no native build step
// DIR must not exist or be empty. Exit code 0 on success; a failed step prints it and exits 1.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** What the image needs besides dist/ and node_modules/. */
export const RUNTIME_FILES = ["bin", "protos", "package.json", "package-lock.json"];

function run(step, command, args, cwd) {
  process.stdout.write(`build-image: ${step}: ${command} ${args.join(" ")}\n`);
  const r = spawnSync(command, args, {
    cwd,
    stdio: "inherit",
    env: { ...process.env, NODE_ENV: "production" },
  });
  if (r.error || r.status !== 0) {
    process.stderr.write(`build-image: ${step} failed (${r.error?.message ?? `exit ${r.status}`})\n`);
    process.exit(1);
  }
}

const { values } = parseArgs({ options: { out: { type: "string" } } });
if (!values.out) {
  process.stderr.write("Usage: node scripts/build-image.mjs --out DIR\n");
  process.exit(2);
}
const out = path.resolve(values.out);
if (existsSync(out) && readdirSync(out).length > 0) {
  process.stderr.write(`build-image: ${out} is not empty\n`);
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
run(
  "compile",
  process.execPath,
  [tsc, "-p", "tsconfig.build.json", "--outDir", path.join(out, "dist")],
  root,
);
for (const entry of RUNTIME_FILES) cpSync(path.join(root, entry), path.join(out, entry), { recursive: true });
const npmCli =
  process.env.npm_execpath && existsSync(process.env.npm_execpath) ? [process.env.npm_execpath] : [];
run(
  "production dependencies",
  npmCli.length > 0 ? process.execPath : "npm",
  [...npmCli, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"],
  out,
);
process.stdout.write(`build-image: done: ${out}\n`);
