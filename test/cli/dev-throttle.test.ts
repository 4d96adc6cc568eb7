/**
 * Throttling wired through `troupe dev`, with real processes only: the dev mesh (its own
 * nats-server, its insecure local control plane, its host enforcing that control plane's policies),
 * `troupe throttle set` against the address it printed, and `troupe call` through the dev mesh
 * until a call is refused with TROUPE_THROTTLED. Then Ctrl-C: a clean exit within a bound.
 *
 * Isolation: its own TROUPE_DEV_DIR (dev state and JetStream data), prefix, and free ports for
 * nats-server, the gateway (--gateway-port 0), MQTT (free by default) and the control plane
 * (TROUPE_CONTROL_PLANE_PORT=0).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { runCli, startCli } from "../helpers/cli-process.js";

const entry = fileURLToPath(new URL("./fixtures/entry-env.ts", import.meta.url));

interface Status {
  hosts: { hostId: string; actorTypes: string[] }[];
  policies: { policy: string; keys: { shares: { hostId: string; ratePerSecond: number }[] }[] }[];
}

test("dev - a throttle policy set with troupe throttle reaches the dev host; troupe call is refused with TROUPE_THROTTLED; Ctrl-C stops it", async (t) => {
  t.timeout(600_000);
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-dev-throttle-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const env = { TROUPE_DEV_DIR: path.join(dir, ".troupe"), TROUPE_CONTROL_PLANE_PORT: "0" };
  const prefix = `dt${process.pid}`;
  const dev = startCli(["dev", entry, "--gateway-port", "0", "--prefix", prefix], { env });
  t.teardown(() => dev.kill());
  await dev.waitFor("dev mesh ready", 180_000);
  const address = (await dev.waitFor(/control plane on (\S+) \(INSECURE/, 1_000))[1] as string;

  const cli = async (...args: string[]) => {
    const r = await runCli(args, { env });
    t.log(`troupe ${args.join(" ")} -> ${r.code}`);
    return r;
  };
  const set = await cli(
    "throttle",
    "set",
    "tally",
    "--types",
    "Tally",
    "--rate",
    "0.01",
    "--burst",
    "1",
    "--address",
    address,
  );
  t.is(set.code, 0, set.output);
  t.regex(set.stdout, /^policy "tally" set \(revision \d+\)$/m);

  // The policy reached the dev host: the control plane sees the host and has given it a share.
  const deadline = Date.now() + 120_000;
  let status: Status | undefined;
  for (;;) {
    const r = await cli("throttle", "status", "tally", "-o", "json", "--address", address);
    t.is(r.code, 0, r.output);
    status = JSON.parse(r.stdout) as Status;
    const hosts = status.hosts.filter((h) => h.actorTypes.includes("Tally")).map((h) => h.hostId);
    const shared = status.policies[0]?.keys.flatMap((k) => k.shares.map((s) => s.hostId)) ?? [];
    if (hosts.length > 0 && hosts.every((h) => shared.includes(h))) break;
    if (Date.now() > deadline) {
      t.fail(`no share for the dev host:\n${r.stdout}\n${dev.output()}`);
      return;
    }
  }

  // One token per 100 s with a burst of 1: once the host enforces its share, the call after the
  // one that took the token is refused. Calls before the share arrived are all admitted.
  let refused: Awaited<ReturnType<typeof cli>> | undefined;
  let admitted = 0;
  for (let attempt = 0; attempt < 20 && !refused; attempt++) {
    const r = await cli("call", "Tally", "t", "add");
    if (r.code === 0) {
      admitted++;
      t.is(JSON.parse(r.stdout), admitted, "each admitted call ran once");
    } else refused = r;
  }
  if (!refused) {
    t.fail(`20 calls and none refused:\n${dev.output()}`);
    return;
  }
  t.is(refused.code, 1, refused.output);
  t.regex(refused.stderr, /^troupe: TROUPE_THROTTLED: .*tally/m);
  t.notRegex(refused.stderr, /^\s+at /m, "no stack trace");
  t.true(admitted >= 1);
  // Another type on the same host is not limited by this policy.
  const other = await cli("call", "EnvEcho", "e", "natsUrl");
  t.is(other.code, 0, other.output);

  dev.signal("SIGINT");
  const exit = await dev.exited(120_000);
  t.deepEqual(exit, { code: 0, signal: null }, dev.output());
  t.regex(dev.output(), /troupe: stopped\./);
  t.notRegex(dev.output(), /Uncaught|triggerUncaughtException/);
});
