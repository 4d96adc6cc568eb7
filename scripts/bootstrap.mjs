#!/usr/bin/env node
// Troupe bootstrap: makes a fresh machine (Node.js 20+ and npm only) ready for `npm run dev` and `npm test`.
//
// Plain Node on purpose: it runs before node_modules exists, so it must not import any dependency.
// It runs before every `npm test` / `npm run dev` / `npm run bench`, so the "everything is there" path
// only does a handful of stat() calls and prints nothing.
//
//   node scripts/bootstrap.mjs           install whatever is missing (npm ci, nats-server via apt-get)
//   node scripts/bootstrap.mjs --check   report only, install nothing; exit 1 if something is missing
//
// Steps:
//   1. Node.js major >= 20, else exit 1.
//   2. node_modules present and not older than package-lock.json, and every direct dependency of
//      package.json installed; else `npm ci`.
//   3. nats-server: $NATS_SERVER_BIN (if set, it is the only candidate), else PATH, /usr/sbin, /usr/local/bin.
//      If missing and NATS_URL is not set: as root with apt-get, `apt-get update && apt-get install -y
//      nats-server`; else the same through `sudo -n` if that works; else exit 1 with how to get it.
//      With NATS_URL set, a missing nats-server is not an error (`troupe dev` uses that server).

import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MIN_NODE_MAJOR = 20;
const NATS_RELEASES = "https://github.com/nats-io/nats-server/releases";
const NATS_FALLBACK_PATHS = ["/usr/sbin/nats-server", "/usr/local/bin/nats-server"];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const checkOnly = args.includes("--check");

if (args.includes("--help") || args.includes("-h")) {
  console.log(
    "usage: node scripts/bootstrap.mjs [--check]\n" +
      "  installs what `npm run dev` and `npm test` need (npm ci, nats-server); --check only reports",
  );
  process.exit(0);
}
const unknown = args.filter((a) => a !== "--check");
if (unknown.length > 0) {
  fail(`unknown argument(s): ${unknown.join(" ")} (usage: node scripts/bootstrap.mjs [--check])`);
}

function say(line) {
  console.log(`troupe: ${line}`);
}

function complain(...lines) {
  for (const line of lines) console.error(`troupe: ${line}`);
}

function fail(...lines) {
  complain(...lines);
  process.exit(1);
}

function mtimeMs(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function isExecutableFile(file) {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** Runs a command with stdout/stderr inherited and no stdin (CI has none; nothing may prompt). */
function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { stdio: ["ignore", "inherit", "inherit"], ...options });
  if (result.error) return { ok: false, why: result.error.message };
  if (result.status !== 0) {
    return { ok: false, why: result.signal ? `killed by ${result.signal}` : `exit code ${result.status}` };
  }
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------------
// 1. Node.js version
// ---------------------------------------------------------------------------------------------------

function checkNode() {
  const major = Number(process.versions.node.split(".")[0]);
  if (!(major >= MIN_NODE_MAJOR)) {
    fail(
      `Node.js ${MIN_NODE_MAJOR} or newer is required, but this is Node.js ${process.version} (${process.execPath}).`,
      `Install Node.js ${MIN_NODE_MAJOR}+ (it comes with npm) and run the command again.`,
    );
  }
  if (checkOnly) say(`node ${process.version} present (>= ${MIN_NODE_MAJOR})`);
}

// ---------------------------------------------------------------------------------------------------
// 2. node_modules
// ---------------------------------------------------------------------------------------------------

/** Why node_modules needs `npm ci`, or undefined when it is up to date. */
function nodeModulesProblem() {
  const lock = path.join(root, "package-lock.json");
  const lockTime = mtimeMs(lock);
  if (lockTime === undefined) {
    fail(`${lock} is missing; it is needed for a reproducible install (restore it from git).`);
  }
  const installedTime = mtimeMs(path.join(root, "node_modules", ".package-lock.json"));
  if (installedTime === undefined) return "node_modules is missing";
  if (lockTime > installedTime) return "node_modules is older than package-lock.json";

  // Every direct dependency must be installed (catches a half-finished or hand-pruned install).
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  } catch (error) {
    fail(`cannot read package.json: ${error.message}`);
  }
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })) {
    if (mtimeMs(path.join(root, "node_modules", name, "package.json")) === undefined) {
      return `node_modules lacks ${name}`;
    }
  }
  return undefined;
}

function ensureNodeModules() {
  const problem = nodeModulesProblem();
  if (problem === undefined) {
    if (checkOnly) say("node_modules present and up to date with package-lock.json");
    return true;
  }
  if (checkOnly) {
    complain(`${problem}: run \`npm ci\` (or \`node scripts/bootstrap.mjs\`)`);
    return false;
  }
  say(`${problem}: running npm ci`);
  const result = run("npm", ["ci"], { cwd: root });
  if (!result.ok) {
    fail(
      `npm ci failed (${result.why}).`,
      "Check that the npm registry is reachable and that package-lock.json matches package.json, then retry.",
    );
  }
  const after = nodeModulesProblem();
  if (after !== undefined) fail(`npm ci finished but ${after}; remove node_modules and retry.`);
  return true;
}

// ---------------------------------------------------------------------------------------------------
// 3. nats-server
// ---------------------------------------------------------------------------------------------------

/** { bin } when found, { why } when not. NATS_SERVER_BIN, when set, is the only candidate. */
function findNatsServer() {
  const explicit = process.env.NATS_SERVER_BIN;
  if (explicit !== undefined && explicit !== "") {
    return isExecutableFile(explicit)
      ? { bin: explicit }
      : { why: `NATS_SERVER_BIN=${explicit} is not an executable file`, explicit: true };
  }
  const bin = onPath("nats-server") ?? NATS_FALLBACK_PATHS.find(isExecutableFile);
  return bin ? { bin } : { why: `not on PATH nor at ${NATS_FALLBACK_PATHS.join(" or ")}` };
}

function natsHint(why) {
  return [
    `nats-server not found (${why}).`,
    "Troupe needs nats-server (with JetStream) to start a local mesh and to run its tests. Either:",
    "  - install it from Debian/Ubuntu packages: sudo apt-get install nats-server",
    `  - or download a nats-server release from ${NATS_RELEASES} and put it on PATH`,
    "  - or set NATS_SERVER_BIN=/path/to/nats-server",
    "  - or, for `npm run dev`, set NATS_URL=nats://host:4222 to use an existing server with JetStream",
  ];
}

function aptInstallNatsServer(aptGet, viaSudo) {
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const prefix = viaSudo ? ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"] : [];
  const steps = [
    [aptGet, "-q", "update"],
    [aptGet, "-q", "install", "-y", "nats-server"],
  ];
  say(
    `nats-server not found: installing it with ${viaSudo ? "sudo " : ""}apt-get (update, install -y nats-server)`,
  );
  for (const step of steps) {
    const [command, ...rest] = [...prefix, ...step];
    const result = run(command, rest, { env: aptEnv });
    if (!result.ok) return `\`${[...prefix, ...step].join(" ")}\` failed (${result.why})`;
  }
  return undefined;
}

function canSudo() {
  if (!onPath("sudo")) return false;
  const probe = spawnSync("sudo", ["-n", "true"], { stdio: "ignore" });
  return probe.status === 0;
}

function ensureNatsServer() {
  const found = findNatsServer();
  if (found.bin) {
    if (checkOnly) say(`nats-server present: ${found.bin}`);
    return true;
  }
  const natsUrl = process.env.NATS_URL;
  if (natsUrl) {
    // Not needed: troupe connects to the given server instead of starting one.
    say(`nats-server not found (${found.why}); NATS_URL=${natsUrl} is set, so the existing server is used`);
    return true;
  }
  if (found.explicit || checkOnly) {
    // A wrong NATS_SERVER_BIN is a mistake to fix, not something apt-get can repair.
    complain(...natsHint(found.why));
    if (!checkOnly) process.exit(1);
    return false;
  }

  const aptGet = onPath("apt-get") ?? ["/usr/bin/apt-get"].find(isExecutableFile);
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (aptGet === undefined)
    fail(...natsHint(`${found.why}; cannot install it automatically: apt-get is not available`));
  const viaSudo = !isRoot;
  if (viaSudo && !canSudo()) {
    fail(
      ...natsHint(`${found.why}; cannot install it automatically: not root and \`sudo -n\` is not available`),
    );
  }
  const failure = aptInstallNatsServer(aptGet, viaSudo);
  if (failure !== undefined) fail(...natsHint(`${found.why}; automatic install failed: ${failure}`));

  const after = findNatsServer();
  if (!after.bin) fail(...natsHint(`apt-get installed nats-server but it is still ${after.why}`));
  say(`nats-server installed: ${after.bin}`);
  return true;
}

// ---------------------------------------------------------------------------------------------------

checkNode();
const nodeModulesOk = ensureNodeModules();
const natsOk = ensureNatsServer();
if (!(nodeModulesOk && natsOk)) process.exit(1);
