/**
 * `troupe init <dir>`: a new project that uses Troupe (init-templates.ts), then `npm install` in it.
 *
 * ```sh
 * npx troupe init my-app --troupe ./troupe-0.1.0.tgz   # until Troupe is on npm: the packed tarball
 * cd my-app && npm run dev
 * ```
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { parseCommandArgs, UsageError } from "./args.js";
import type { CliIo } from "./command.js";
import { projectFiles } from "./init-templates.js";
import { packageVersion } from "./version.js";

export const INIT_USAGE = `Usage: troupe init <dir> [--troupe <spec>] [--skip-install]

  Writes a new project into dir (which must be empty or new): one actor (src/counter.ts), a
  client script (src/client.ts), an ava test on a real nats-server, npm run dev / npm test;
  then runs npm install there.
  --troupe <spec>   the troupe dependency: a version range (default ^<this version>), or the path
                    of a packed tarball (troupe-x.y.z.tgz) until Troupe is published
  --skip-install    do not run npm install`;

/** `file:<absolute path>` for a path to a tarball or folder; anything else (a range) as given. */
export function troupeSpec(raw: string | undefined, cwd = process.cwd()): string {
  if (raw === undefined) return `^${packageVersion()}`;
  const path = raw.startsWith("file:") ? raw.slice(5) : raw;
  const looksLikePath =
    raw.startsWith("file:") || raw.endsWith(".tgz") || raw.startsWith(".") || isAbsolute(raw);
  if (!looksLikePath) return raw;
  const full = resolve(cwd, path);
  if (!existsSync(full)) throw new UsageError(`--troupe ${raw}: no such file`);
  return `file:${full}`;
}

/** A valid npm package name from a folder name. */
export function packageName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+/, "");
  return name || "troupe-app";
}

export async function initCommand(argv: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommandArgs(
    argv,
    { troupe: { type: "string" }, "skip-install": { type: "boolean" } },
    { min: 1, max: 1, names: "<dir>" },
  );
  const dir = resolve(positionals[0] as string);
  const troupe = troupeSpec(values.troupe);
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new UsageError(`${dir} is not empty: name a new or empty folder`);
  }
  const files = projectFiles({ name: packageName(dir), troupe });
  for (const [rel, text] of Object.entries(files)) {
    const file = join(dir, rel);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  io.out(`troupe: wrote a new project in ${dir} (troupe ${troupe})`);
  if (!values["skip-install"]) {
    io.out("troupe: npm install ...");
    const code = await run("npm", ["install", "--no-audit", "--no-fund"], dir);
    if (code !== 0) {
      io.err(`troupe: npm install failed in ${dir} (exit ${code}); fix it and run npm install there`);
      return 1;
    }
  }
  const cd = positionals[0] as string;
  io.out("");
  io.out("Next:");
  io.out(`  cd ${cd}${values["skip-install"] ? " && npm install" : ""}`);
  io.out("  npm run dev       # a local mesh hosting src/counter.ts (needs nats-server on the PATH)");
  io.out("  npm run client    # in another shell: calls the Counter actor");
  io.out("  npm test          # the tests, on their own nats-server");
  return 0;
}

function run(command: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolveCode, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("close", (code) => resolveCode(code ?? 1));
  });
}
