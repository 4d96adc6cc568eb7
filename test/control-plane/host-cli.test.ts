/** `troupe host --control-plane <addr> --control-token-file <f>`: the host registers and enforces. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { hostCommand } from "../../runtime/cli/host.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { startPlane, TOKEN, unary } from "./helpers.js";

interface Status {
  hosts: { hostId: string; actorTypes: string[] }[];
}

test("host cli - troupe host --control-plane registers the host with the control plane under its token file", async (t) => {
  const { plane, natsUrl } = await startPlane(t);
  const dir = mkdtempSync(path.join(tmpdir(), "troupe-host-cli-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = path.join(dir, "control.token");
  writeFileSync(tokenFile, `# the control plane's token\n${TOKEN}\n`);
  process.env.NATS_URL = natsUrl;
  let stop: () => void = () => {};
  const until = new Promise<void>((r) => {
    stop = r;
  });
  const running = hostCommand({
    entry: path.resolve("test/placement/fixtures/actors.ts"),
    prefix: `hostcli${process.pid}`,
    controlPlane: plane.address,
    controlTokenFile: tokenFile,
    until,
  });
  const api = connectControlPlane({ address: plane.address, token: TOKEN });
  t.teardown(() => api.close());
  const c = api.throttle;
  let status: Status = { hosts: [] };
  const deadline = performance.now() + 30_000;
  let failed: unknown;
  running.catch((err: unknown) => {
    failed = err;
  });
  while (status.hosts.length === 0 && failed === undefined) {
    if (performance.now() > deadline) throw new Error("the host never registered");
    await new Promise((r) => setTimeout(r, 100));
    status = await unary<{ policy: string }, Status>(c.GetStatus.bind(c), { policy: "" }, api.metadata());
  }
  t.is(failed, undefined);
  t.is(status.hosts.length, 1);
  t.true(status.hosts[0]?.actorTypes.includes("Echo"), JSON.stringify(status));
  stop();
  await running;
});
