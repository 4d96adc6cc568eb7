/**
 * `troupe dev` and its entry: the entry sees the dev mesh's NATS_URL, `--add` hosts another entry
 * beside the running mesh, `--reset` starts from empty JetStream data; `connect()` with no servers
 * finds the dev mesh of its folder and its prefix, or says that it tries the default. Every test
 * here sets process.env, so all run serially.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { type ConnectOptions, connect } from "troupe";
import { type DevOptions, dev } from "../../runtime/cli/dev.js";
import { chooseServers, DEFAULT_NATS_URL, withMeshDefaults } from "../../runtime/transport/servers.js";
import { eventually } from "../helpers/mesh.js";

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** Runs dev() until the returned stop() is called; resolves `ready` with its URL. */
function runDev(options: DevOptions) {
  const lines: string[] = [];
  let stop: () => void = () => undefined;
  const until = new Promise<void>((r) => {
    stop = r;
  });
  const done = dev({ gatewayPort: 0, ...options, until, out: (l) => lines.push(l) });
  done.catch(() => undefined);
  return { lines, stop, done };
}

test.serial(
  "dev - the entry gets the dev mesh's NATS_URL, --add hosts a second entry beside it, --reset wipes the data",
  async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-dev-"));
    const before = {
      TROUPE_DEV_DIR: process.env.TROUPE_DEV_DIR,
      NATS_URL: process.env.NATS_URL,
      TROUPE_PREFIX: process.env.TROUPE_PREFIX,
    };
    process.env.TROUPE_DEV_DIR = dir;
    delete process.env.NATS_URL;
    delete process.env.TROUPE_PREFIX;
    t.teardown(async () => {
      restore(before);
      await rm(dir, { recursive: true, force: true });
    });
    const prefix = `dev${process.pid}`;

    const mesh1 = runDev({ entry: path.join(fixtures, "entry-env.ts"), prefix });
    t.teardown(() => mesh1.stop());
    await eventually(() => mesh1.lines.some((l) => l.includes("dev mesh ready")), 120_000, "the dev mesh");
    const url = /dev mesh ready on (\S+)/.exec(mesh1.lines.join("\n"))?.[1] as string;

    // connect() with no servers and no prefix, from this folder, finds the running dev mesh and
    // uses its --prefix.
    delete process.env.NATS_URL;
    t.deepEqual(chooseServers(undefined).servers, [url]);
    const client = await connect({ logger: silent });
    t.teardown(() => client.close());
    t.is(client.subjects.prefix, prefix);
    t.is(await client.callByName("EnvEcho", "e", "natsUrl", []), url);
    t.is(await client.callByName("Tally", "t", "add", []), 1);

    // A second `troupe dev` refuses and says how to add an entry instead.
    await t.throwsAsync(dev({ entry: path.join(fixtures, "entry-added.ts"), out: () => undefined }), {
      message: /already running .*troupe dev --add/,
    });
    const added = runDev({ entry: path.join(fixtures, "entry-added.ts"), add: true });
    t.teardown(() => added.stop());
    await eventually(
      () => added.lines.some((l) => l.includes("on the dev mesh at")),
      60_000,
      "the added host",
    );
    t.is(await client.callByName("Added", "a", "hello", ["you"]), "hello you");
    added.stop();
    await added.done;
    await client.close();
    mesh1.stop();
    await mesh1.done;
    t.true(mesh1.lines.includes("troupe: stopped."));
    t.is(chooseServers(undefined).isDefault, true, "the dev mesh's file is gone once it stopped");

    // --reset: a fresh JetStream store, so the Tally starts from 0 again.
    const mesh2 = runDev({ entry: path.join(fixtures, "entry-env.ts"), prefix, reset: true });
    t.teardown(() => mesh2.stop());
    await eventually(
      () => mesh2.lines.some((l) => l.includes("dev mesh ready")),
      120_000,
      "the reset dev mesh",
    );
    t.true(mesh2.lines.includes(`troupe: deleted the dev data in ${dir}`));
    const again = await connect({ prefix, logger: silent });
    t.teardown(() => again.close());
    t.is(await again.callByName("Tally", "t", "add", []), 1);
    await again.close();
    mesh2.stop();
    await mesh2.done;
  },
);

test.serial("dev - --add with no dev mesh running says how to start one", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-dev-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const previous = process.env.TROUPE_DEV_DIR;
  process.env.TROUPE_DEV_DIR = dir;
  try {
    await t.throwsAsync(dev({ entry: path.join(fixtures, "entry-added.ts"), add: true }), {
      message: /no dev mesh is running in .*start one with `troupe dev`/,
    });
  } finally {
    if (previous === undefined) delete process.env.TROUPE_DEV_DIR;
    else process.env.TROUPE_DEV_DIR = previous;
  }
});

test.serial(
  "connect - with no servers, no NATS_URL and no dev mesh it names the default server and why",
  (t) => {
    const env = { NATS_URL: process.env.NATS_URL, TROUPE_DEV_DIR: process.env.TROUPE_DEV_DIR };
    t.teardown(() => restore(env));
    delete process.env.NATS_URL;
    process.env.TROUPE_DEV_DIR = path.join(os.tmpdir(), `troupe-no-dev-${process.pid}`);
    const chosen = chooseServers(undefined);
    t.deepEqual(chosen.servers, [DEFAULT_NATS_URL]);
    t.true(chosen.isDefault);
    t.is(
      chosen.source,
      `the default (NATS_URL is not set and no dev mesh runs in ${process.env.TROUPE_DEV_DIR})`,
    );
    process.env.NATS_URL = "nats://a:1, nats://b:2";
    t.deepEqual(chooseServers(undefined), {
      servers: ["nats://a:1", "nats://b:2"],
      source: "NATS_URL",
      isDefault: false,
    });
  },
);

test.serial("connect - a dev mesh file left by a process that is gone is ignored", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-dev-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const env = { NATS_URL: process.env.NATS_URL, TROUPE_DEV_DIR: process.env.TROUPE_DEV_DIR };
  t.teardown(() => restore(env));
  delete process.env.NATS_URL;
  process.env.TROUPE_DEV_DIR = dir;
  await writeFile(
    path.join(dir, "dev.json"),
    JSON.stringify({ url: "nats://127.0.0.1:1", pid: 2 ** 22 + 7, prefix: "troupe" }),
  );
  t.true(chooseServers(undefined).isDefault);
  await writeFile(
    path.join(dir, "dev.json"),
    JSON.stringify({ url: "nats://127.0.0.1:1", pid: process.pid, prefix: "troupe" }),
  );
  t.deepEqual(chooseServers(undefined).servers, ["nats://127.0.0.1:1"]);
});

test.serial(
  "connect - with no prefix: TROUPE_PREFIX, else the dev mesh's prefix when it uses the dev mesh's server",
  async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-dev-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const env = {
      NATS_URL: process.env.NATS_URL,
      TROUPE_DEV_DIR: process.env.TROUPE_DEV_DIR,
      TROUPE_PREFIX: process.env.TROUPE_PREFIX,
    };
    t.teardown(() => restore(env));
    delete process.env.NATS_URL;
    delete process.env.TROUPE_PREFIX;
    process.env.TROUPE_DEV_DIR = dir;
    t.deepEqual(withMeshDefaults({}), {}, "no dev mesh: the default prefix");
    await writeFile(
      path.join(dir, "dev.json"),
      JSON.stringify({ url: "nats://127.0.0.1:1", pid: process.pid, prefix: "shop" }),
    );
    const options: ConnectOptions = { name: "c" };
    t.deepEqual(withMeshDefaults(options), { name: "c", servers: "nats://127.0.0.1:1", prefix: "shop" });
    t.deepEqual(withMeshDefaults({ prefix: "mine" }), { prefix: "mine" }, "an explicit prefix stays");
    t.deepEqual(withMeshDefaults({ servers: "nats://elsewhere:4222" }), { servers: "nats://elsewhere:4222" });
    process.env.NATS_URL = "nats://elsewhere:4222";
    t.deepEqual(withMeshDefaults({}), {}, "NATS_URL names another server: not the dev mesh's prefix");
    process.env.TROUPE_PREFIX = "env";
    t.deepEqual(withMeshDefaults({}), { prefix: "env" });
    delete process.env.NATS_URL;
    t.deepEqual(withMeshDefaults({}), { prefix: "env" }, "TROUPE_PREFIX before the dev mesh's");
  },
);

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Puts environment variables back as they were (deleting those that were unset). */
function restore(env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}
