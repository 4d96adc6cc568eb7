/** The control plane as a real process, killed with SIGKILL mid-run and started again. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { ThrottledError } from "troupe";
import { reservePorts } from "troupe/testing";
import { throttle } from "../../runtime/cli/throttle.js";
import { HostChannelClient, LocalEnforcer } from "../../runtime/throttling/index.js";
import { recordingLogger } from "../helpers/logger.js";
import { startServer } from "../helpers/nats.js";
import { Echo } from "../placement/fixtures/actors.js";
import { client, spawnHost, uniquePrefix } from "../placement/helpers.js";
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

test("host processes - the control plane killed while two host processes enforce: they keep refusing on the last shares, nothing crashes; restarted, they reconnect and take new limits", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const [port] = await reservePorts(1);
  const dir = mkdtempSync(path.join(tmpdir(), "troupe-kill-hosts-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = path.join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const address = `127.0.0.1:${port}`;
  const cli = (args: string[]) =>
    throttle([...args, "--address", address, "--token-file", tokenFile], { out: () => {}, err: () => {} });
  const first = controlPlaneProcess(t, server.url, port ?? 0, tokenFile);
  await first.listening;
  const rate = 20;
  const policy = ["set", "echo-limit", "--callers", "k", "--types", "Echo", "--burst", "5"];
  t.is(await cli([...policy, "--rate", String(rate)]), 0);

  const prefix = uniquePrefix();
  const hosts = ["h1", "h2"].map((name) =>
    spawnHost(t, {
      servers: server.url,
      prefix,
      name,
      jobs: false,
      throttling: { controlPlane: address, token: TOKEN },
    }),
  );
  await Promise.all(hosts.map((h) => h.ready));
  const caller = await client(t, server.url, prefix, { clientId: "k", adaptiveRate: false });
  /** n calls from 8 callers at once, refusals counted; anything but a ThrottledError is collected. */
  const burst = async (n: number) => {
    let next = 0;
    let ok = 0;
    let refused = 0;
    const other: unknown[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < n; i = next++) {
          try {
            await caller.ref(Echo, `e${i % 16}`).whoami();
            ok += 1;
          } catch (err) {
            if (err instanceof ThrottledError) refused += 1;
            else other.push(err);
          }
        }
      }),
    );
    return { ok, refused, other };
  };
  // Both hosts enforce once some call is refused on each (shares in force): wait for refusals.
  const deadline = performance.now() + 30_000;
  let before = await burst(100);
  while (before.refused === 0 && performance.now() < deadline) before = await burst(100);
  t.true(before.refused > 0, "the hosts enforce the policy");

  first.child.kill("SIGKILL");
  await first.exited;
  // Both hosts log the outage once they notice it (their channel broke).
  await waitFor(
    () => hosts.every((h) => h.logs.some((l) => /unreachable/.test(String(l.msg)))),
    15_000,
    "both hosts to notice the control plane is gone",
  );
  const during = await burst(200);
  t.log(`with the control plane dead: ${during.ok} ok, ${during.refused} refused`);
  t.deepEqual(during.other, [], "only ThrottledErrors: the hosts serve on");
  t.true(during.refused > during.ok, "the last shares are still enforced");

  const second = controlPlaneProcess(t, server.url, port ?? 0, tokenFile);
  await second.listening;
  // The policy survived (JetStream KV); lifting its rate reaches the reconnected hosts.
  t.is(await cli([...policy, "--rate", "100000", "--burst", "100000"]), 0);
  const end = performance.now() + 30_000;
  let after = await burst(100);
  while (after.refused > 0 && performance.now() < end) after = await burst(100);
  t.is(after.refused, 0, "the new limit reached both reconnected hosts");
  t.deepEqual(after.other, []);
  for (const h of hosts) t.is(await Promise.race([h.exited, Promise.resolve("running")]), "running");
});
