/**
 * Troupe promises Node.js 20 (package.json `engines`): every package it installs, direct or
 * transitive, must say it supports Node 20 by its own `engines`. Where a dependency names a release
 * that does not, package.json's `overrides` pin one that does, and projects made by `troupe init`
 * carry the same overrides (npm applies only the installing project's).
 */
import { readFileSync } from "node:fs";
import test from "ava";
import semver from "semver";
import { NODE20_OVERRIDES, packageJson } from "../../runtime/cli/init-templates.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  engines: { node: string };
  overrides: Record<string, string | Record<string, string>>;
};

const lock = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8")) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

const NODE20 = "20.19.0";

test("engines - Troupe's floor is Node 20, and every installed package supports Node 20 by its own engines", (t) => {
  t.is(semver.minVersion(pkg.engines.node)?.major, 20);
  const excluding = Object.entries(lock.packages).flatMap(([where, manifest]) => {
    const engines = manifest.engines;
    const range = engines && !Array.isArray(engines) ? engines.node : undefined;
    return where && range && !semver.satisfies(NODE20, range)
      ? [`${where}@${manifest.version} (${range})`]
      : [];
  });
  t.deepEqual(excluding, [], "pin a release that supports Node 20 in package.json's overrides");
  t.log(`running on ${process.version}`);
});

test("engines - the overrides that keep Node 20 are installed, and troupe init writes the same ones", (t) => {
  // One more override is Troupe's own, for its tests only (not written by troupe init): the old
  // OTLP exporter aliased as otlp-official-protos, kept for its official .proto files, takes
  // Troupe's @opentelemetry/core instead of its own 1.10, whose peer range (api < 1.5) made every
  // `npm ci` print an ERESOLVE warning.
  const { "otlp-official-protos": testsOnly, ...node20 } = pkg.overrides;
  t.deepEqual(testsOnly, { "@opentelemetry/core": "$@opentelemetry/core" });
  t.deepEqual(node20, NODE20_OVERRIDES);
  for (const [name, version] of Object.entries(NODE20_OVERRIDES)) {
    const copies = Object.entries(lock.packages).filter(([where]) => where.endsWith(`node_modules/${name}`));
    t.true(copies.length > 0, `${name} is installed`);
    for (const [where, manifest] of copies) t.is(manifest.version, version, `${where} as overridden`);
  }
  const scaffolded = JSON.parse(packageJson({ name: "app", troupe: "file:../troupe.tgz" })) as {
    overrides?: Record<string, string>;
  };
  t.deepEqual(scaffolded.overrides, NODE20_OVERRIDES);
});
