/**
 * From zero to your own project, as a user outside this repository, with the README's commands
 * exactly as it prints them (read from README.md, run through the shell): Troupe packed with
 * `npm pack`, `troupe init` writing a new project that depends on the tarball (and installing it
 * from the npm registry, through the machine's shared npm cache), the project's `npm run dev`, its
 * client script calling the actor on that dev mesh, `troupe call`, `npm test` and one test file.
 */
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { projectFiles } from "../../runtime/cli/init-templates.js";
import { packageVersion } from "../../runtime/cli/version.js";
import { startProcess } from "../helpers/cli-process.js";
import { runCommand } from "./clean-clone.js";
import { commandLines, readmeBlocks, withoutComment } from "./readme-blocks.js";

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

/**
 * A copy of the package's sources as a clone has them (not its node_modules, which is linked), in
 * `<work>/troupe`, where the README's commands run.
 */
async function troupeCheckout(work: string): Promise<string> {
  const src = path.join(work, "troupe");
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
  return src;
}

/** A README command line as a user types it: through the shell, which also drops its `# comment`. */
function shell(line: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number) {
  return runCommand("sh", ["-c", line], { cwd, env, timeoutMs });
}

/** The last non-empty line of a command's stdout (npm run prints its own header lines first). */
function lastLine(stdout: string): string {
  return stdout.trimEnd().split("\n").at(-1) ?? "";
}

test("quickstart - the README's own-project commands, as printed: pack, troupe init, the project's dev mesh, client, call, tests", async (t) => {
  t.timeout(1_500_000);
  const [setup = [], project = []] = readmeBlocks("Your own project", "sh").map(commandLines);
  const [packAndInit = "", cdAndDev = ""] = setup;
  t.is(setup.length, 2, "readme.test.ts checks what these two lines are");
  const work = await mkdtemp(path.join(os.tmpdir(), "troupe-scaffold-"));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const checkout = await troupeCheckout(work);
  const env = userEnv();

  // 1. `npm pack && node bin/troupe.js init ../my-app --troupe troupe-<version>.tgz`, in the clone.
  const init = await shell(packAndInit, checkout, env, 900_000);
  t.is(init.code, 0, init.output);
  const app = path.join(work, "my-app");
  const tarball = path.join(checkout, `troupe-${packageVersion()}.tgz`);
  t.regex(init.stdout, /Next:\n {2}cd \.\.\/my-app\n {2}npm run dev/);
  const pkg = JSON.parse(await readFile(path.join(app, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  t.is(pkg.dependencies.troupe, `file:${tarball}`);
  for (const [rel, text] of Object.entries(projectFiles({ name: "my-app", troupe: `file:${tarball}` }))) {
    t.is(await readFile(path.join(app, rel), "utf8"), text, rel);
  }
  t.notRegex(init.output, /install-scripts/, "npm has no install script to ask about");
  // The project's overrides (written by init) keep every installed package on a Node 20 floor.
  t.notRegex(init.output, /EBADENGINE/, "no installed package excludes Node 20");

  // 2. `cd ../my-app && npm run dev`, from the clone; it runs until Ctrl-C. (The project block's
  // first line is that same `npm run dev`, already running: readme.test.ts checks it.)
  const dev = startProcess("sh", ["-c", cdAndDev], { cwd: checkout, env, name: cdAndDev });
  t.teardown(() => dev.kill());
  // The welcome's last line: its lines may come in separate reads, so not "dev mesh ready".
  await dev.waitFor("Press Ctrl-C to drain and stop.", 300_000);
  t.regex(dev.output(), /Counter: increment, get {2}\(stateful\)/);

  // 3. The project's commands, each as printed, in the project folder.
  const [devLine = "", ...rest] = project;
  t.is(withoutComment(devLine), "npm run dev");
  const ran = new Set<string>();
  const run = async (command: string, timeoutMs = 300_000) => {
    const line = rest.find((l) => withoutComment(l) === command);
    if (line === undefined) throw new Error(`the README's project block has no \`${command}\``);
    ran.add(line);
    return shell(line, app, env, timeoutMs);
  };
  const client = await run("npm run client", 120_000);
  t.is(client.code, 0, client.output);
  t.is(lastLine(client.stdout), "home-page has 3 visits");
  const get = await run("npm run troupe -- call Counter home-page get", 120_000);
  t.is(get.code, 0, get.output);
  t.is(JSON.parse(lastLine(get.stdout)), 3);

  dev.signal("SIGINT");
  const exit = await dev.exited(120_000);
  t.true(exit.code === 0 || exit.signal === "SIGINT", dev.output());
  t.regex(dev.output(), /troupe: stopped\./);
  t.notRegex(dev.output(), /Uncaught|triggerUncaughtException/);

  const npmTest = await run("npm test");
  t.is(npmTest.code, 0, npmTest.output);
  t.regex(npmTest.output, /1 test passed/);
  const oneFile = await run("npx ava test/counter.test.ts");
  t.is(oneFile.code, 0, oneFile.output);
  t.regex(oneFile.output, /1 test passed/);
  t.deepEqual(
    rest.filter((l) => !ran.has(l)),
    [],
    "every command of the README's project block ran",
  );

  const typecheck = await runCommand("npm", ["run", "typecheck"], { cwd: app, env, timeoutMs: 300_000 });
  t.is(typecheck.code, 0, typecheck.output);
});
