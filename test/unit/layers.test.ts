/**
 * The layer rules of .dependency-cruiser.cjs (docs/architecture.md) catch what they claim to: a
 * lower layer importing a higher one, a circle between folders, a deep import into another
 * folder, even when the import is only for types. Runs dependency-cruiser on a tiny tree.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const cruise = path.join(root, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");

function checkTree(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "troupe-layers-"));
  try {
    writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true } }),
    );
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    const run = spawnSync(
      process.execPath,
      [cruise, "runtime", "--config", path.join(root, ".dependency-cruiser.cjs"), "--output-type", "err"],
      { cwd: dir, encoding: "utf8" },
    );
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hostIndex = 'export { host } from "./host.js";\n';
const hostFile = 'import { wire } from "../messaging/index.js";\nexport const host = wire;\n';

test("layers - imports that go down through an index pass", (t) => {
  const { status, output } = checkTree({
    "runtime/messaging/index.ts": "export const wire = 1;\n",
    "runtime/host/index.ts": hostIndex,
    "runtime/host/host.ts": hostFile,
  });
  t.is(status, 0, output);
});

test("layers - a lower layer importing a higher one fails the check, type imports included", (t) => {
  const { status, output } = checkTree({
    "runtime/messaging/index.ts":
      'import type { host } from "../host/index.js";\nexport const wire = 1;\nexport type H = typeof host;\n',
    "runtime/host/index.ts": hostIndex,
    "runtime/host/host.ts": hostFile,
  });
  t.not(status, 0);
  t.regex(output, /layer-1-upward: runtime\/messaging\/index\.ts → runtime\/host\/index\.ts/);
  t.regex(output, /no-circular/);
});

test("layers - a deep import into another folder fails the check", (t) => {
  const { status, output } = checkTree({
    "runtime/messaging/index.ts": "export const wire = 1;\n",
    "runtime/messaging/codec.ts": "export const codec = 2;\n",
    "runtime/host/index.ts": hostIndex,
    "runtime/host/host.ts": 'import { codec } from "../messaging/codec.js";\nexport const host = codec;\n',
  });
  t.not(status, 0);
  t.regex(output, /through-the-index: runtime\/host\/host\.ts → runtime\/messaging\/codec\.ts/);
});

test("layers - a top-level module imports folders through their index too; the entry points may pick files", (t) => {
  const deep = checkTree({
    "runtime/messaging/index.ts": "export const wire = 1;\n",
    "runtime/messaging/codec.ts": "export const codec = 2;\n",
    "runtime/mesh.ts": 'import { codec } from "./messaging/codec.js";\nexport const mesh = codec;\n',
  });
  t.not(deep.status, 0);
  t.regex(deep.output, /root-through-the-index: runtime\/mesh\.ts → runtime\/messaging\/codec\.ts/);
  const entry = checkTree({
    "runtime/messaging/index.ts": "export const wire = 1;\n",
    "runtime/messaging/codec.ts": "export const codec = 2;\n",
    "runtime/internal.ts": 'export { codec } from "./messaging/codec.js";\n',
  });
  t.is(entry.status, 0, entry.output);
});

test("layers - sibling folders of one layer may not import each other", (t) => {
  const { status, output } = checkTree({
    "runtime/jobs/index.ts": 'import { events } from "../pubsub/index.js";\nexport const jobs = events;\n',
    "runtime/pubsub/index.ts": "export const events = 1;\n",
  });
  t.not(status, 0);
  t.regex(output, /layer-\d+-sibling: runtime\/jobs\/index\.ts → runtime\/pubsub\/index\.ts/);
});
