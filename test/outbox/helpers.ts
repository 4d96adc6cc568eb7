/** Helpers of the outbox tests: a sender child process and reading back the events it sent. */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecutionContext } from "ava";
import { onLines } from "../helpers/lines.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SENDER = path.join(root, "test/outbox/fixtures/sender.ts");

export interface Sender {
  readonly child: ChildProcess;
  /** Indices acknowledged so far, in the order the calls resolved. */
  readonly acked: number[];
  readonly lines: string[];
  readonly exited: Promise<unknown>;
  /** Resolves once the sender wrote `line` (or rejects if it exits first). */
  saw(line: string): Promise<void>;
  kill(): Promise<void>;
}

export function spawnSender(t: ExecutionContext, env: Record<string, string>): Sender {
  const child = spawn(process.execPath, ["--conditions=troupe-source", "--import", "tsx", SENDER], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", process.env.TROUPE_TEST_ECHO === "1" ? "inherit" : "ignore"],
  });
  const exited = new Promise((r) => child.once("exit", r));
  let alive = true;
  void exited.then(() => {
    alive = false;
  });
  const acked: number[] = [];
  const lines: string[] = [];
  const waiters: { line: string; resolve: () => void }[] = [];
  onLines(child.stdout, (line) => {
    if (line.startsWith("a ")) acked.push(Number(line.slice(2)));
    else lines.push(line);
    for (const w of waiters.filter((x) => x.line === line)) w.resolve();
  });
  const kill = async () => {
    if (alive) child.kill("SIGKILL");
    await exited;
  };
  t.teardown(kill);
  return {
    child,
    acked,
    lines,
    exited,
    kill,
    saw: (line) =>
      lines.includes(line)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ line, resolve });
            void exited.then(() => {
              if (!lines.includes(line)) reject(new Error(`the sender exited before it wrote "${line}"`));
            });
          }),
  };
}
