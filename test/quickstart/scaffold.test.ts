/**
 * From zero to your own project, as a user outside this repository: Troupe packed with `npm pack`,
 * `troupe init` writing a new project that depends on the tarball (and installing it from the npm
 * registry, through the machine's shared npm cache), the project's own `npm test`, its
 * `npm run dev`, and its client script calling the actor on that dev mesh.
 */
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { projectFiles } from "../../runtime/cli/init-templates.js";
import { exitWatch } from "../helpers/process-exit.js";
import { runCommand } from "./clean-clone.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** The environment of a user's shell: no NATS_URL, nothing pointing into this repository. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    npm_config_prefer_offline: "true",
    npm_config_update_notifier: "false",
  };
  for (const name of Object.keys(env)) {
    if (/^(NATS_|TROUPE_)/.test(name) || name === "NODE_OPTIONS") delete env[name];
  }
  for (const name of Object.keys(env)) if (/^npm_(package|lifecycle)_/.test(name)) delete env[name];
  return env;
}

/** A copy of the package's sources (not its node_modules, which is linked) to build and pack. */
async function packTroupe(work: string): Promise<string> {
  const src = path.join(work, "troupe-src");
  await mkdir(src);
  for (const entry of [
    "package.json",
    "tsconfig.json",
    "tsconfig.build.json",
    "README.md",
    "bin",
    "runtime",
    "services",
    "protos",
  ]) {
    await cp(path.join(repoRoot, entry), path.join(src, entry), { recursive: true });
  }
  await symlink(path.join(repoRoot, "node_modules"), path.join(src, "node_modules"), "dir");
  const packed = await runCommand("npm", ["pack", "--pack-destination", work, "--silent"], {
    cwd: src,
    env: userEnv(),
    timeoutMs: 600_000,
  });
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.output}`);
  const tarball = packed.stdout.trim().split("\n").at(-1) as string;
  return path.join(work, tarball);
}

/** Ctrl-C to exit: a drain of an idle mesh, stopping nats-server, and the CLI's own exit grace (5 s). */
const EXIT_WAIT_MS = 120_000;

test("quickstart - troupe init from the packed tarball: the project's tests pass, its dev mesh runs, its client calls it", async (t) => {
  t.timeout(1_500_000);
  const work = await mkdtemp(path.join(os.tmpdir(), "troupe-scaffold-"));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const tarball = await packTroupe(work);
  t.regex(path.basename(tarball), /^troupe-\d+\.\d+\.\d+\.tgz$/);
  const env = userEnv();

  // troupe init, run from the packed package's own CLI (what `npx troupe` runs once installed).
  const app = path.join(work, "my-app");
  const cli = path.join(work, "troupe-src", "bin", "troupe.js");
  const init = await runCommand(process.execPath, [cli, "init", app, "--troupe", tarball], {
    cwd: work,
    env,
    timeoutMs: 900_000,
  });
  t.is(init.code, 0, init.output);
  t.regex(init.stdout, /Next:\n {2}cd .*my-app\n {2}npm run dev/);
  const pkg = JSON.parse(await readFile(path.join(app, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  t.is(pkg.dependencies.troupe, `file:${tarball}`);
  for (const [rel, text] of Object.entries(projectFiles({ name: "my-app", troupe: `file:${tarball}` }))) {
    t.is(await readFile(path.join(app, rel), "utf8"), text, rel);
  }
  t.notRegex(init.output, /install-scripts/, "npm has no install script to ask about");
  // Only the two transitive packages the README names declare Node 22 (they work on 20).
  const badEngines = [...init.output.matchAll(/EBADENGINE +package: '(@?[^@']+)@/g)].map((m) => m[1]);
  t.deepEqual(
    [...new Set(badEngines)].sort(),
    ["@nats-io/nuid", "cookie"].filter((n) => badEngines.includes(n)),
  );

  const npmTest = await runCommand("npm", ["test"], { cwd: app, env, timeoutMs: 300_000 });
  t.is(npmTest.code, 0, npmTest.output);
  t.regex(npmTest.output, /1 test passed/);

  const typecheck = await runCommand("npm", ["run", "typecheck"], { cwd: app, env, timeoutMs: 300_000 });
  t.is(typecheck.code, 0, typecheck.output);

  // Bounded wait for its exit, with a diagnostic report of whatever still holds it open.
  const watch = await exitWatch();
  t.teardown(() => watch.remove());
  const devProcess = spawn("npm", ["run", "dev"], {
    cwd: app,
    env: { ...env, ...watch.env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  devProcess.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
  devProcess.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
  watch.attach(devProcess);
  t.teardown(() => {
    try {
      process.kill(-(devProcess.pid as number), "SIGKILL");
    } catch {
      // already gone
    }
  });
  const deadline = Date.now() + 300_000;
  while (!output.includes("dev mesh ready")) {
    if (Date.now() > deadline || devProcess.exitCode !== null) {
      t.fail(`npm run dev did not get ready:\n${output}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  t.regex(output, /Counter: increment, get {2}\(stateful\)/);

  const client = await runCommand("npm", ["run", "--silent", "client"], {
    cwd: app,
    env,
    timeoutMs: 120_000,
  });
  t.is(client.code, 0, client.output);
  t.is(client.stdout, "home-page has 3 visits\n");
  const get = await runCommand(
    "npm",
    ["run", "--silent", "troupe", "--", "call", "Counter", "home-page", "get"],
    {
      cwd: app,
      env,
      timeoutMs: 120_000,
    },
  );
  t.is(get.code, 0, get.output);
  t.is(JSON.parse(get.stdout), 3);

  process.kill(-(devProcess.pid as number), "SIGINT");
  t.true(["exit 0", "SIGINT"].includes(await watch.wait(EXIT_WAIT_MS)), output);
  t.regex(output, /troupe: stopped\./);
  for (const line of output.split("\n").filter((l) => l.includes("after the command finished"))) t.log(line);
  t.notRegex(output, /Uncaught|triggerUncaughtException/);
});
