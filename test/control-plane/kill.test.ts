/** The control plane as a real process, killed with SIGKILL mid-run and started again. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { reservePorts } from "troupe/testing";
import { throttle } from "../../runtime/cli/throttle.js";
import { HostChannelClient, LocalEnforcer } from "../../runtime/throttling/index.js";
import { recordingLogger } from "../helpers/logger.js";
import { startServer } from "../helpers/nats.js";
import { TOKEN, waitFor } from "./helpers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function controlPlaneProcess(t: ExecutionContext, natsUrl: string, port: number, tokenFile: string) {
  const child = spawn(
    process.execPath,
    [
      "--conditions=troupe-source",
      "--import",
      "tsx",
      path.join(root, "bin/troupe.js"),
      "control-plane",
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--nats",
      natsUrl,
      "--token-file",
      tokenFile,
      "--report-interval-ms",
      "200",
    ],
    { cwd: root, env: { ...process.env, TROUPE_LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  t.teardown(() => child.kill("SIGKILL"));
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", () => {});
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", () => {
      if (/listening on/.test(out)) resolve();
    });
    void exited.then(() => reject(new Error("the control plane exited before listening")));
  });
  return { child, exited, listening };
}

test("host channel - a killed control plane: hosts enforce the last shares; restarted, all policies are back and hosts reconnect", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const [port] = await reservePorts(1);
  const dir = mkdtempSync(path.join(tmpdir(), "troupe-kill-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = path.join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const address = `127.0.0.1:${port}`;
  const cli = (args: string[]) =>
    throttle([...args, "--address", address, "--token-file", tokenFile], { out: () => {}, err: () => {} });

  const first = controlPlaneProcess(t, server.url, port ?? 0, tokenFile);
  await first.listening;
  t.is(await cli(["set", "carts", "--types", "Cart", "--rate", "50"]), 0);

  const log = recordingLogger();
  const enforcer = new LocalEnforcer(log.logger);
  const channel = new HostChannelClient({
    address,
    token: TOKEN,
    hostId: "survivor",
    enforcer,
    logger: log.logger,
    reconnectInitialMs: 50,
    reconnectMaxMs: 400,
  });
  t.teardown(() => channel.stop());
  channel.start();
  await waitFor(() => enforcer.policies().includes("carts"), 10_000, "the first shares");

  first.child.kill("SIGKILL");
  await first.exited;
  await waitFor(() => channel.state !== "connected", 10_000, "the host to notice");
  const turn = { actorType: "Cart", method: "add", hop: "call" as const };
  let refused = false;
  for (let i = 0; i < 500 && !refused; i++) refused = !enforcer.decide(turn).allowed;
  t.true(refused, "the last shares are still enforced");
  t.deepEqual(enforcer.policies(), ["carts"]);

  const second = controlPlaneProcess(t, server.url, port ?? 0, tokenFile);
  await second.listening;
  await waitFor(() => channel.state === "connected", 15_000, "the host to reconnect");
  let listed = "";
  await throttle(["ls", "-o", "json", "--address", address, "--token-file", tokenFile], {
    out: (s) => (listed += s),
    err: () => {},
  });
  t.deepEqual(
    (JSON.parse(listed) as { name: string }[]).map((p) => p.name),
    ["carts"],
    "the policy survived the kill (it lives in JetStream KV)",
  );
  let newLimitSeen = false;
  channel.onShares((shares) => {
    if (shares.policies.some((p) => p.policy?.limit?.ratePerSecond === 500)) newLimitSeen = true;
  });
  t.is(await cli(["set", "carts", "--types", "Cart", "--rate", "500"]), 0);
  await waitFor(() => newLimitSeen, 5000, "the new limit to reach the reconnected host");
  t.is(log.at("warn").filter((e) => /unreachable/.test(e.msg)).length, 1, "the outage was logged once");
});
