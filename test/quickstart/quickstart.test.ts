import { accessSync, constants } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { startProcess } from "../helpers/cli-process.js";
import { cleanClone, runCommand } from "./clean-clone.js";
import { commandLines, readmeBlocks, withoutComment } from "./readme-blocks.js";

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

/** Ctrl-C to exit: a drain of an idle mesh, stopping nats-server, and the CLI's own exit grace (5 s). */
const EXIT_WAIT_MS = 120_000;

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

test("quickstart - `npm run dev` from a clean clone starts a mesh that `troupe call` reaches, and Ctrl-C stops it", async (t) => {
  t.timeout(900_000); // npm ci in the clone, then the dev mesh: minutes on a busy machine
  // The README's first command, as a new user runs it: a fresh clone (committed HEAD only), no
  // node_modules, no NATS_URL. (The second command, `npm test`, is what CI runs on a clean clone.)
  const clone = await cleanClone(repoRoot, { env: envWithout("NATS_URL") });
  t.teardown(() => clone.remove());
  const env = { ...envWithout("NATS_URL", "TROUPE_DEV_DIR", "TROUPE_PREFIX"), CI: "true" };
  // Its own process group, so SIGINT reaches npm, node and nats-server like Ctrl-C; every wait on
  // it is bounded, and one that runs out says what each process was doing.
  const dev = startProcess("npm", ["run", "dev"], { cwd: clone.dir, env, name: "npm run dev" });
  t.teardown(() => dev.kill());
  await dev.waitFor("dev mesh ready", 240_000);
  // The gateway starts after the mesh is ready, on 8080 unless that port was taken.
  const gateway = (await dev.waitFor(/HTTP gateway on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1] as string;
  const output = dev.output();
  t.regex(output, /Visits: hit, count/);

  // The README's calls, exactly as it prints them (read from README.md), through the shell in the
  // clone. npm prints its own header lines (`> ...`) before the result.
  const [callBlock = "", curlBlock = ""] = readmeBlocks("Quick start", "sh").slice(1);
  const calls = commandLines(callBlock);
  const shell = (line: string) => runCommand("sh", ["-c", line], { cwd: clone.dir, env, timeoutMs: 60_000 });
  const result = (r: { stdout: string }): unknown => {
    try {
      return JSON.parse(r.stdout.replace(/^> .*\n/gm, ""));
    } catch {
      return undefined; // not JSON (yet): the check fails and says what was printed
    }
  };
  const expected: [string, (v: unknown) => boolean][] = [
    ["call Inventory tea restock 10", (v) => v === 10],
    ["call Cart alice add '[\"tea\", 2]'", () => true],
    [
      "call Cart alice checkout",
      (v) => {
        const order = v as { cart?: string; lines?: { sku: string; qty: number }[] } | undefined;
        return order?.cart === "alice" && order.lines?.[0]?.sku === "tea" && order.lines[0].qty === 2;
      },
    ],
    ["call Inventory tea available", (v) => v === 8],
    // The checkout's durable job and event reach their actors asynchronously: asked again until then.
    ["call Invoices alice-1 get", (v) => (v as { items?: number } | null)?.items === 2],
    ["call Notifications alice list", (v) => Array.isArray(v) && v.length === 1],
  ];
  t.deepEqual(
    calls.map(withoutComment),
    expected.map(([args]) => `npm run troupe -- ${args}`),
    "the README's calls are the ones checked here",
  );
  for (const [i, line] of calls.entries()) {
    const ok = expected[i]?.[1] ?? (() => false);
    let r = await shell(line);
    for (let again = 0; again < 60 && !(r.code === 0 && ok(result(r))); again++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      r = await shell(line);
    }
    t.is(r.code, 0, `${line}\n${r.output}`);
    t.true(ok(result(r)), `${line}\n${r.output}`);
  }
  // The README's curl, to the gateway's port as printed.
  const [curl = ""] = commandLines(curlBlock);
  const hit = await shell(curl.replace("http://127.0.0.1:8080", gateway));
  t.is(hit.code, 0, hit.output);
  t.is(JSON.parse(hit.stdout), 1);

  // A handler that throws: one line with the thrown class, exit 1.
  const call = (args: string) => shell(`npm run troupe -- call ${args}`);
  await call(`Cart bob add '["tea", 9]'`);
  const short = await call("Cart bob checkout");
  t.is(short.code, 1);
  t.regex(short.stderr, /^troupe: \w+: only 8 of tea left, 9 wanted \[TROUPE_ACTOR_METHOD_FAILED\]$/m);

  dev.signal("SIGINT");
  // npm re-raises the SIGINT its script got (like a shell after Ctrl-C); troupe itself exits 0.
  const exit = await dev.exited(EXIT_WAIT_MS);
  t.true(exit.code === 0 || exit.signal === "SIGINT", dev.output());
  t.notRegex(dev.output(), /Uncaught|triggerUncaughtException|ERR!/);
  t.regex(dev.output(), /troupe: stopped\./);
  // The CLI ends itself if a handle outlives the command; say so if it had to.
  for (const line of dev
    .output()
    .split("\n")
    .filter((l) => l.includes("after the command finished")))
    t.log(line);
});
