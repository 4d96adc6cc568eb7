import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { reservePorts } from "troupe/testing";
import { startDevControlPlane } from "../../runtime/cli/dev-control-plane.js";
import { throttle } from "../../runtime/cli/throttle.js";
import { startServer } from "../helpers/nats.js";
import { makePki, startPlane, TOKEN, waitFor } from "./helpers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function tokenFile(t: ExecutionContext, content = `# control-plane tokens\n${TOKEN}\n`): string {
  const dir = mkdtempSync(path.join(tmpdir(), "troupe-token-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "token");
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await throttle(argv, { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`) });
  return { code, out, err };
}

test("cli - troupe throttle set, ls, status and rm against a control plane", async (t) => {
  const { plane } = await startPlane(t);
  const auth = ["--address", plane.address, "--token-file", tokenFile(t)];

  const set = await run([
    "set",
    "free-tier",
    "--rate",
    "10",
    "--callers",
    "free-*",
    "--key-by",
    "caller",
    ...auth,
  ]);
  t.is(set.code, 0, set.err);
  t.regex(set.out, /policy "free-tier" set/);
  const fromFile = path.join(mkdtempSync(path.join(tmpdir(), "troupe-policy-")), "p.json");
  writeFileSync(
    fromFile,
    JSON.stringify({ name: "carts", match: { actorTypes: ["Cart"] }, limit: { maxConcurrency: 8 } }),
  );
  t.is((await run(["set", "-f", fromFile, ...auth])).code, 0);
  const perApp = await run([
    "set",
    "per-app",
    "--rate",
    "5",
    "--users",
    "troupe-client-*",
    "--key-by",
    "user",
    ...auth,
  ]);
  t.is(perApp.code, 0, perApp.err);

  const ls = await run(["ls", ...auth]);
  t.is(ls.code, 0);
  t.regex(ls.out, /free-tier\s+10\/s burst 10\s+caller\s+callers=free-\*/);
  t.regex(ls.out, /per-app\s+5\/s burst 5\s+user\s+users=troupe-client-\*/);
  t.regex(ls.out, /carts\s+8 at once/);
  const lsJson = JSON.parse((await run(["ls", "-o", "json", ...auth])).out) as { name: string }[];
  t.deepEqual(
    lsJson.map((p) => p.name),
    ["carts", "free-tier", "per-app"],
  );

  const status = await run(["status", "-o", "json", ...auth]);
  t.is(status.code, 0);
  const parsed = JSON.parse(status.out) as { hosts: unknown[]; policies: { policy: string }[] };
  t.deepEqual(
    parsed.policies.map((p) => p.policy),
    ["carts", "free-tier", "per-app"],
  );
  t.regex((await run(["status", ...auth])).out, /no hosts connected/);

  const invalid = await run(["set", "neg", "--rate=-1", ...auth]);
  t.is(invalid.code, 1);
  t.regex(invalid.err, /INVALID_ARGUMENT: .*limit\.rate_per_second/);

  t.is((await run(["rm", "carts", ...auth])).code, 0);
  const gone = await run(["rm", "carts", ...auth]);
  t.is(gone.code, 1);
  t.regex(gone.err, /NOT_FOUND/);

  const noToken = await run(["ls", "--address", plane.address]);
  t.is(noToken.code, 1);
  t.regex(noToken.err, /UNAUTHENTICATED/);
});

function startCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(
    process.execPath,
    ["--conditions=troupe-source", "--import", "tsx", path.join(root, "bin/troupe.js"), ...args],
    {
      cwd: root,
      env: { ...process.env, TROUPE_CONTROL_TOKEN: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

test("cli - troupe control-plane refuses to start without authentication", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const cli = startCli(["control-plane", "--port", "0", "--bind", "127.0.0.1", "--nats", server.url]);
  t.teardown(() => cli.child.kill("SIGKILL"));
  t.is(await cli.exited, 1);
  t.regex(cli.err(), /refuses to start without authentication/);
});

test("cli - troupe control-plane serves with a token file and stops on SIGTERM", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const file = tokenFile(t);
  const cli = startCli([
    "control-plane",
    "--port",
    "0",
    "--bind",
    "127.0.0.1",
    "--nats",
    server.url,
    "--token-file",
    file,
  ]);
  t.teardown(() => cli.child.kill("SIGKILL"));
  const address = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (\S+)/.exec(cli.out());
      if (m?.[1]) resolve(m[1]);
    };
    cli.child.stdout.on("data", check);
    void cli.exited.then((code) => reject(new Error(`control plane exited with ${code}: ${cli.err()}`)));
  });
  const ls = await run(["ls", "--address", address, "--token-file", file]);
  t.is(ls.code, 0, ls.err);
  t.regex(ls.out, /no throttle policies/);
  cli.child.kill("SIGTERM");
  t.is(await cli.exited, 0, cli.err());
});

test("cli - the dev mesh's control plane is insecure, local, and reachable without a token", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const lines: string[] = [];
  const plane = await startDevControlPlane(server.url, "devtest", (l) => lines.push(l), 0);
  t.truthy(plane);
  t.teardown(() => plane?.stop());
  t.is(plane?.securityMode, "insecure");
  t.regex(lines.join("\n"), /INSECURE/);
  const ls = await run(["ls", "--address", plane?.address ?? ""]);
  t.is(ls.code, 0, ls.err);
  t.regex(ls.out, /no throttle policies/);
});

test("cli - a dev mesh whose control-plane port is taken takes another, without grpc-js's failed-bind line", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen({ host: "127.0.0.1", port: 0 }, resolve));
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as AddressInfo).port;
  // grpc-js logs a failed bind with console.error ("E No address added out of total 1 resolved").
  const logged: string[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => {
    logged.push(args.map(String).join(" "));
  };
  let plane: Awaited<ReturnType<typeof startDevControlPlane>>;
  try {
    plane = await startDevControlPlane(server.url, "devtaken", () => {}, port);
  } finally {
    console.error = consoleError;
  }
  t.teardown(() => plane?.stop());
  t.truthy(plane, "it started");
  t.not(plane?.port, port, "on another port");
  t.deepEqual(logged, []);
});

test("cli - troupe control-plane --metrics-port serves the scaling gauges on /metrics", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const [metricsPort] = await reservePorts(1);
  const cli = startCli(
    [
      "control-plane",
      ...["--port", "0", "--bind", "127.0.0.1", "--nats", server.url, "--insecure"],
      ...["--report-interval-ms", "200", "--metrics-port", String(metricsPort)],
      ...["--scale-group", "reports:min=2,max=5"],
    ],
    { TROUPE_LOG_LEVEL: "warn" },
  );
  t.teardown(() => cli.child.kill("SIGKILL"));
  await waitFor(
    () => /listening on/.test(cli.out()) || cli.child.exitCode !== null,
    60_000,
    "the control plane",
  );
  // A configured group has a decision once the warm-up after start has passed, with no host yet: its min.
  const desired = /troupe_scaling_desired_hosts\{[^}]*troupe_group="reports"[^}]*\} 2\b/;
  let text = "";
  const end = performance.now() + 30_000;
  while (!desired.test(text) && performance.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
      .then((r) => r.text())
      .catch(() => "");
  }
  t.regex(text, desired, cli.err());
  t.regex(text, /troupe_scaling_current_hosts\{[^}]*troupe_group="reports"[^}]*\} 0\b/);
  t.regex(text, /troupe_scaling_backlog\{[^}]*troupe_group="reports"[^}]*\} 0\b/);
  cli.child.kill("SIGTERM");
  t.is(await cli.exited, 0, cli.err());
});

test("cli - troupe control-plane --scaler-port needs the scaler's mutual TLS files (exit 2), and with them serves KEDA beside the main port", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const file = tokenFile(t);
  const common = ["control-plane", "--port", "0", "--bind", "127.0.0.1", "--nats", server.url];
  const pki = makePki(t);
  const cert = path.join(pki.dir, "server.crt");
  const key = path.join(pki.dir, "server.key");
  const noCa = startCli([
    ...common,
    "--token-file",
    file,
    "--scaler-port",
    "0",
    "--scaler-tls-cert",
    cert,
    "--scaler-tls-key",
    key,
  ]);
  t.teardown(() => noCa.child.kill("SIGKILL"));
  t.is(await noCa.exited, 2, noCa.err());
  t.regex(noCa.err(), /--scaler-port serves KEDA over mutual TLS only: it needs --scaler-tls-ca/);
  t.regex(noCa.err(), /Usage: troupe control-plane/);
  const orphan = startCli([...common, "--token-file", file, "--scaler-tls-ca", cert]);
  t.teardown(() => orphan.child.kill("SIGKILL"));
  t.is(await orphan.exited, 2, orphan.err());
  t.regex(orphan.err(), /--scaler-tls-ca needs --scaler-port/);

  const cli = startCli([
    ...common,
    ...["--token-file", file, "--scaler-port", "0", "--scaler-tls-cert", cert, "--scaler-tls-key", key],
    ...["--scaler-tls-ca", path.join(pki.dir, "test-ca.crt")],
  ]);
  t.teardown(() => cli.child.kill("SIGKILL"));
  await waitFor(
    () => /KEDA external scaler listening on/.test(cli.out()) || cli.child.exitCode !== null,
    60_000,
    "the control plane",
  );
  t.regex(cli.out(), /control plane listening on 127\.0\.0\.1:\d+ \(plaintext\)/, cli.err());
  t.regex(cli.out(), /KEDA external scaler listening on 127\.0\.0\.1:\d+ \(mtls\)/);
  cli.child.kill("SIGTERM");
  t.is(await cli.exited, 0, cli.err());
});
