/** Gateway child processes (`troupe gateway`, from the sources) for the multi-process tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecutionContext } from "ava";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(root, "bin/troupe.js");

export interface GatewayProcess {
  readonly url: Promise<string>;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly output: string[];
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** An API keys file in a temp folder (removed in teardown). */
export function keysFile(t: ExecutionContext, lines: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "troupe-gw-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "keys.txt");
  writeFileSync(file, lines);
  return file;
}

export function spawnGateway(
  t: ExecutionContext,
  args: string[],
  env: Record<string, string> = {},
): GatewayProcess {
  const child = spawn(
    process.execPath,
    ["--conditions=troupe-source", "--import", "tsx", BIN, "gateway", ...args],
    {
      cwd: root,
      env: { ...process.env, TROUPE_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let alive = true;
  void exited.then(() => {
    alive = false;
  });
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line) continue;
        output.push(line);
        if (process.env.TROUPE_TEST_ECHO === "1") process.stderr.write(`[gateway] ${line}\n`);
        const m = /listening on (http:\/\/\S+)/.exec(line);
        if (m?.[1]) resolve(m[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then((code) =>
      reject(new Error(`gateway exited (${code}) before listening:\n${output.slice(-10).join("\n")}`)),
    );
  });
  url.catch(() => undefined);
  t.teardown(async () => {
    if (!alive) return;
    child.kill("SIGKILL");
    await exited;
  });
  return {
    url,
    child,
    exited,
    output,
    kill: (signal = "SIGKILL") => {
      if (alive) child.kill(signal);
      return exited;
    },
  };
}
