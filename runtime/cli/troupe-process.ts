/**
 * Starting the `troupe` command as a child process (the local autoscaler's hosts): the compiled
 * CLI from a package, the TypeScript sources through tsx in a checkout. stdout and stderr are the
 * parent's.
 *
 * `detached` puts the child in its own process group: a terminal's Ctrl-C then reaches only the
 * parent, which stops the child itself (once: a second signal would end a draining host at once).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export function spawnTroupe(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  options: { detached?: boolean } = {},
): ChildProcess {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith(".ts");
  const bin = resolve(here, fromSource ? "../../../bin/troupe.js" : "../../../../bin/troupe.js");
  const nodeArgs = fromSource ? ["--conditions=troupe-source", "--import", "tsx"] : [];
  return spawn(process.execPath, [...nodeArgs, bin, ...args], {
    stdio: ["ignore", "inherit", "inherit"],
    env,
    detached: options.detached === true,
  });
}
