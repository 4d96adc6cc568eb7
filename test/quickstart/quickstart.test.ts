import { accessSync, constants } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { cleanClone, runCommand } from "./clean-clone.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const bootstrap = path.join(repoRoot, "scripts", "bootstrap.mjs");

/** process.env minus the given variables (tests drop NATS_URL, so a missing nats-server is reported, not excused). */
function envWithout(...names: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of names) delete env[name];
  return env;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

test("quickstart - bootstrap --check passes in the working tree and reports node_modules and nats-server", async (t) => {
  const result = await runCommand(process.execPath, [bootstrap, "--check"], {
    cwd: repoRoot,
    env: envWithout("NATS_URL"),
  });
  t.is(result.code, 0, result.output);
  t.regex(result.stdout, /^troupe: node v\d+\.\d+\.\d+ present/m);
  t.regex(result.stdout, /^troupe: node_modules present and up to date/m);
  t.regex(result.stdout, /^troupe: nats-server present: \S*nats-server/m);
});

test("quickstart - bootstrap --check without nats-server exits 1 and says how to get it", async (t) => {
  const bin = await mkdtemp(path.join(os.tmpdir(), "troupe-path-"));
  t.teardown(() => rm(bin, { recursive: true, force: true }));
  await symlink(process.execPath, path.join(bin, "node"));
  const npm = findOnPath("npm");
  if (npm !== undefined) await symlink(npm, path.join(bin, "npm"));

  const result = await runCommand(process.execPath, [bootstrap, "--check"], {
    cwd: repoRoot,
    env: { ...envWithout("NATS_URL"), NATS_SERVER_BIN: "/nonexistent", PATH: bin },
  });
  t.is(result.code, 1, result.output);
  t.regex(result.stdout, /^troupe: node_modules present/m);
  t.regex(
    result.stderr,
    /^troupe: nats-server not found \(NATS_SERVER_BIN=\/nonexistent is not an executable file\)/m,
  );
  t.true(result.stderr.includes("sudo apt-get install nats-server"), result.stderr);
  t.true(result.stderr.includes("https://github.com/nats-io/nats-server/releases"), result.stderr);
  t.true(result.stderr.includes("NATS_SERVER_BIN=/path/to/nats-server"), result.stderr);
  t.true(result.stderr.includes("NATS_URL="), result.stderr);
});

test("quickstart - a clean clone has no node_modules and bootstrap --check says to run npm ci", async (t) => {
  // A throwaway repo holding just what bootstrap needs, committed in the temp folder (not in this repo):
  // the real repo may have no commit yet, and cleanClone clones HEAD only.
  const source = await mkdtemp(path.join(os.tmpdir(), "troupe-fixture-repo-"));
  t.teardown(() => rm(source, { recursive: true, force: true }));
  await mkdir(path.join(source, "scripts"));
  for (const file of ["package.json", "package-lock.json", path.join("scripts", "bootstrap.mjs")]) {
    await copyFile(path.join(repoRoot, file), path.join(source, file));
  }
  const git = (...args: string[]) =>
    runCommand(
      "git",
      [
        "-c",
        "user.name=troupe test",
        "-c",
        "user.email=test@troupe.invalid",
        "-c",
        "commit.gpgsign=false",
        ...args,
      ],
      { cwd: source },
    );
  for (const args of [
    ["init", "--quiet"],
    ["add", "."],
    ["commit", "--quiet", "-m", "fixture"],
  ]) {
    const result = await git(...args);
    t.is(result.code, 0, `git ${args.join(" ")}: ${result.output}`);
  }

  const clone = await cleanClone(source, { env: envWithout("NATS_URL") });
  t.teardown(() => clone.remove());
  t.not(clone.dir, source);
  t.is(clone.check.code, 1, clone.check.output);
  t.regex(clone.check.stderr, /^troupe: node_modules is missing: run `npm ci`/m);
});

test.todo("quickstart - the README's two commands work from a clean clone");
