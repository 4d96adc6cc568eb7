#!/usr/bin/env node
// Generates the TypeScript types of protos/troupe/v1/*.proto into runtime/protos/generated/ with
// proto-loader-gen-types (part of @grpc/proto-loader), using the same options the code loads the
// protos with (runtime/protos/load.ts: LOADER_OPTIONS).
//
//   node scripts/gen-protos.mjs           regenerate (npm run gen:protos)
//   node scripts/gen-protos.mjs --check   exit 1 when the committed types differ from the protos (npm run check)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const protoRoot = path.join(root, "protos");
const outDir = path.join(root, "runtime", "protos", "generated");
const bin = path.join(
  root,
  "node_modules",
  "@grpc",
  "proto-loader",
  "build",
  "bin",
  "proto-loader-gen-types.js",
);

// Keep in step with LOADER_OPTIONS in runtime/protos/load.ts.
const OPTIONS = [
  "--longs=Number",
  "--enums=String",
  "--defaults",
  "--oneofs",
  "--grpcLib=@grpc/grpc-js",
  "--importFileExtension=.js",
  "--targetFileExtension=.ts",
];

function protoFiles() {
  const dir = path.join(protoRoot, "troupe", "v1");
  const troupe = readdirSync(dir)
    .filter((f) => f.endsWith(".proto"))
    .sort()
    .map((f) => path.join("troupe", "v1", f));
  // KEDA's external scaler protocol, served by the control plane.
  return [...troupe, path.join("externalscaler", "externalscaler.proto")];
}

function generate(into) {
  const result = spawnSync(
    process.execPath,
    [bin, ...OPTIONS, "-I", protoRoot, "-O", into, ...protoFiles()],
    {
      cwd: protoRoot,
      encoding: "utf8",
    },
  );
  if (result.status !== 0) {
    console.error(`gen-protos: proto-loader-gen-types failed:\n${result.stderr}${result.stdout}`);
    process.exit(2);
  }
  // The generator writes each proto's absolute path into a header comment: make it relative, so
  // every checkout generates the same bytes.
  for (const [file, text] of listFiles(into)) {
    const relative = text.replaceAll(`${protoRoot}${path.sep}`, "protos/");
    if (relative !== text) writeFileSync(path.join(into, file), relative);
  }
}

function listFiles(dir, base = dir, out = new Map()) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) listFiles(full, base, out);
    else out.set(path.relative(base, full), readFileSync(full, "utf8"));
  }
  return out;
}

if (process.argv.includes("--check")) {
  const tmp = mkdtempSync(path.join(tmpdir(), "troupe-protos-"));
  try {
    generate(tmp);
    const fresh = listFiles(tmp);
    const committed = listFiles(outDir);
    const stale = [];
    for (const [file, text] of fresh) if (committed.get(file) !== text) stale.push(file);
    for (const file of committed.keys()) if (!fresh.has(file)) stale.push(file);
    if (stale.length > 0) {
      console.error(
        `gen-protos: generated types are stale (${stale.length} file(s), e.g. ${stale.slice(0, 3).join(", ")}); run \`npm run gen:protos\` and commit`,
      );
      process.exit(1);
    }
    console.log(`gen-protos: ${fresh.size} generated file(s) match protos/`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  rmSync(outDir, { recursive: true, force: true });
  generate(outDir);
  console.log(`gen-protos: wrote ${listFiles(outDir).size} file(s) to ${path.relative(root, outDir)}`);
}
