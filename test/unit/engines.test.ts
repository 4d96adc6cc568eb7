/**
 * Troupe promises Node.js 20 (package.json `engines`): every direct dependency must say it supports
 * Node 20 by its own `engines`. Transitive packages that declare a higher floor are listed in
 * KNOWN_HIGHER_FLOOR (and in the README's requirements); the whole suite runs on Node 20 to show
 * they work there.
 */
import { readFileSync } from "node:fs";
import test from "ava";
import semver from "semver";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Transitive packages whose engines say Node 22, used on Node 20 (README: Requirements). */
const KNOWN_HIGHER_FLOOR = ["@nats-io/nuid", "cookie"];

function enginesOf(name: string): string | undefined {
  const file = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
  const manifest = JSON.parse(readFileSync(file, "utf8")) as { engines?: { node?: string } };
  return manifest.engines?.node;
}

test("engines - Troupe's floor is Node 20, and every direct dependency supports Node 20 by its own engines", (t) => {
  t.is(semver.minVersion(pkg.engines.node)?.major, 20);
  const node20 = "20.19.0";
  const excluding = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).flatMap((name) => {
    const range = enginesOf(name);
    return range && !semver.satisfies(node20, range) ? [`${name} (${range})`] : [];
  });
  t.deepEqual(excluding, []);
});

test("engines - the transitive packages with a higher floor are the ones the README names, and this suite runs them on Node 20", (t) => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  for (const name of KNOWN_HIGHER_FLOOR) {
    const range = enginesOf(name) ?? "";
    t.false(
      semver.satisfies("20.19.0", range),
      `${name} now supports Node 20 (${range}): drop it from the list`,
    );
    t.true(readme.includes(`\`${name}\``), `README's requirements name ${name}`);
  }
  t.log(`running on ${process.version}`);
});
