// Scaffolding for the quickstart test: a clean clone of a repo, with nothing linked or copied from the
// working tree (no node_modules), as a new developer or CI would have it.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  output: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs a command without stdin (like CI) and collects its output; never rejects on a non-zero exit. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      output += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, output }));
  });
}

export interface CleanClone {
  /** The clone's work tree. */
  dir: string;
  /** Result of `node scripts/bootstrap.mjs --check` run inside the clone (exit 1 while node_modules is missing). */
  check: CommandResult;
  /** Deletes the clone and its temp parent folder. */
  remove(): Promise<void>;
}

/**
 * `git clone --quiet <sourceDir> <tmp>` (so only what is committed at HEAD), then
 * `node scripts/bootstrap.mjs --check` inside the clone. Links or copies nothing else.
 * The caller must `await clone.remove()` when done.
 */
export async function cleanClone(
  sourceDir: string,
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<CleanClone> {
  const parent = await mkdtemp(path.join(os.tmpdir(), "troupe-clean-clone-"));
  const dir = path.join(parent, "troupe");
  const remove = () => rm(parent, { recursive: true, force: true });
  try {
    const clone = await runCommand("git", ["clone", "--quiet", sourceDir, dir], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    });
    if (clone.code !== 0) {
      throw new Error(`git clone --quiet ${sourceDir} failed (exit ${clone.code}):\n${clone.output}`);
    }
    const bootstrap = path.join(dir, "scripts", "bootstrap.mjs");
    if (!existsSync(bootstrap)) {
      throw new Error(`the clone of ${sourceDir} has no scripts/bootstrap.mjs: is it committed at HEAD?`);
    }
    const check = await runCommand(process.execPath, [bootstrap, "--check"], {
      cwd: dir,
      env: options.env ?? process.env,
    });
    return { dir, check, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
