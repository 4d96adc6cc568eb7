/**
 * docs/gateway.md's tested curl example, run with curl against `troupe dev` (in-process, on a test
 * nats-server), which must start the gateway and print its port.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { dev } from "../../runtime/cli/dev.js";
import { startServer } from "../helpers/nats.js";
import { waitFor } from "../placement/helpers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The shell lines of the block after `<!-- gateway-doc-test -->`, and the expected output (`# ...`). */
async function testedExample(): Promise<{ commands: string; expected: string }> {
  const doc = await readFile(path.join(root, "docs/gateway.md"), "utf8");
  const m = /<!-- gateway-doc-test -->\n```sh\n([\s\S]*?)```/.exec(doc);
  if (!m?.[1]) throw new Error("docs/gateway.md has no tested example");
  const lines = m[1].trim().split("\n");
  return {
    commands: lines.filter((l) => !l.startsWith("#")).join("\n"),
    expected: lines
      .filter((l) => l.startsWith("# "))
      .map((l) => l.slice(2))
      .join("\n"),
  };
}

test.serial(
  "docs - troupe dev prints the gateway's port and the doc's curl example runs against it",
  async (t) => {
    const server = await startServer(t);
    const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-devgw-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    process.env.NATS_URL = server.url;
    process.env.TROUPE_DEV_DIR = dir;
    const lines: string[] = [];
    let stop!: () => void;
    const until = new Promise<void>((r) => {
      stop = r;
    });
    const running = dev({ prefix: `docs${process.pid}`, gatewayPort: 0, until, out: (l) => lines.push(l) });
    t.teardown(async () => {
      stop();
      await running.catch(() => undefined);
    });
    await waitFor("the gateway line", () => lines.some((l) => l.includes("HTTP gateway on")), 60_000);
    const line = lines.find((l) => l.includes("HTTP gateway on")) as string;
    t.regex(line, /INSECURE/);
    const url = /(http:\/\/\S+)/.exec(line)?.[1] as string;
    t.true(
      lines.some((l) => l.includes(`curl -X POST ${url}/v1/actors/`)),
      lines.join("\n"),
    );

    const { commands, expected } = await testedExample();
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        "sh",
        ["-c", commands],
        { env: { ...process.env, GATEWAY: url }, timeout: 30_000 },
        (err, out) => (err ? reject(err) : resolve(out)),
      ),
    );
    t.is(stdout.trim(), expected);
    stop();
    await running;
    t.true(lines.some((l) => l.includes("stopped")));
  },
);
