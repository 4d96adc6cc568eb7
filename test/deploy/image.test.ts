/**
 * The container image's content, built without Docker: scripts/build-image.mjs (what the
 * Dockerfile's build stage runs) into a temp folder, then the built `troupe` runs from there with
 * plain Node (no tsx, no sources): `--version`, and a host serving the example shop that answers a
 * call, reports ready, and drains on SIGTERM. Also checks that the Dockerfile runs that same script,
 * on pinned bases, as a non-root user with `troupe` as its entrypoint.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { connect } from "troupe";
import { reservePorts } from "troupe/testing";
import { Inventory } from "../../services/examples/shop/inventory.js";
import { startServer } from "../helpers/nats.js";
import { eventually, root, spawnTroupe } from "./processes.js";

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, output }));
  });
}

const dockerfile = readFileSync(path.join(root, "Dockerfile"), "utf8");

interface Stage {
  from: string;
  lines: string[];
}

/** The Dockerfile's stages: each FROM with the instructions after it (comments dropped). */
function stagesOf(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const from = /^FROM\s+(\S+)/i.exec(line);
    if (from?.[1]) stages.push({ from: from[1], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

/** What is wrong with a Dockerfile's shape; empty when nothing is. */
function dockerfileProblems(text: string): string[] {
  const problems: string[] = [];
  const stages = stagesOf(text);
  const build = stages[0];
  const run = stages.at(-1);
  if (stages.length < 2 || !build || !run) return ["expected a build stage and a run stage"];
  // Pinned: an exact Node version (node:20.19.5-...) or, for distroless (which publishes no
  // version tags), Node 20 on Debian 12 in the name; never a moving "latest" or no tag at all.
  for (const s of stages) {
    const pinned =
      /^node:20\.\d+\.\d+-/.test(s.from) ||
      /\/nodejs20-debian12(:nonroot)?(@sha256:[0-9a-f]{64})?$/.test(s.from);
    if (!pinned) problems.push(`base image ${s.from} is not pinned to Node 20`);
  }
  if (!build.lines.some((l) => /^RUN node scripts\/build-image\.mjs --out \/app$/.test(l)))
    problems.push("the build stage does not run scripts/build-image.mjs --out /app");
  const user = run.lines.find((l) => l.startsWith("USER "));
  if (!user || !/^USER [1-9][0-9]*(:[1-9][0-9]*)?$/.test(user))
    problems.push("the run stage has no numeric non-root USER");
  if (!run.lines.some((l) => l.startsWith("ENTRYPOINT") && l.includes("/app/bin/troupe.js")))
    problems.push("the entrypoint is not the troupe command");
  if (!run.lines.some((l) => /^COPY --from=build\b.*\/app \/app$/.test(l)))
    problems.push("the run stage does not copy /app");
  if (run.lines.some((l) => l.startsWith("RUN ")))
    problems.push("the run stage runs commands (it has no shell)");
  return problems;
}

test("image - the Dockerfile runs the tested build script on pinned bases, as a non-root user, with troupe as entrypoint", (t) => {
  t.deepEqual(dockerfileProblems(dockerfile), []);
  const ignored = readFileSync(path.join(root, ".dockerignore"), "utf8").split("\n");
  for (const entry of ["node_modules", "dist", ".git", "test"]) t.true(ignored.includes(entry), entry);
});

test("image - the Dockerfile check bites on a root user, an unpinned base, a build that skips the script", (t) => {
  t.true(dockerfileProblems(dockerfile.replace("USER 65532:65532", "USER root")).length > 0);
  t.true(dockerfileProblems(dockerfile.replace(/^FROM node:\S+/m, "FROM node:latest")).length > 0);
  t.true(
    dockerfileProblems(dockerfile.replace("RUN node scripts/build-image.mjs --out /app", "RUN npm run build"))
      .length > 0,
  );
  t.true(dockerfileProblems(dockerfile.replace(/^ENTRYPOINT.*$/m, 'ENTRYPOINT ["node"]')).length > 0);
});

test("image - the built content runs troupe from dist/ with production dependencies only, hosts the shop and drains on SIGTERM", async (t) => {
  t.timeout(600_000);
  const out = path.join(mkdtempSync(path.join(tmpdir(), "troupe-image-")), "app");
  t.teardown(() => rmSync(path.dirname(out), { recursive: true, force: true }));
  // Asynchronously: a blocked event loop would hold back the t.timeout() above from reaching ava.
  const built = await run(process.execPath, [path.join(root, "scripts/build-image.mjs"), "--out", out], root);
  t.is(built.code, 0, built.output);

  // Production dependencies only; compiled code only.
  t.true(existsSync(path.join(out, "node_modules/@nats-io/transport-node")));
  for (const dev of ["typescript", "ava", "@biomejs/biome", "kubernetes-models"])
    t.false(existsSync(path.join(out, "node_modules", dev)), `${dev} is a dev dependency`);
  t.false(existsSync(path.join(out, "runtime")), "no TypeScript sources");
  t.true(existsSync(path.join(out, "dist/runtime/cli/main.js")));

  const version = execFileSync(process.execPath, [path.join(out, "bin/troupe.js"), "--version"], {
    cwd: out,
    encoding: "utf8",
    env: { ...process.env, TROUPE_FROM_SOURCE: "" },
  });
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
  t.is(version.trim(), `troupe ${pkg.version}`);

  const server = await startServer(t, { jetstream: true });
  const [healthPort] = await reservePorts(1);
  const prefix = `img${process.pid}`;
  const host = spawnTroupe(
    t,
    ["host", "dist/services/examples/index.js", "--health-port", String(healthPort), "--prefix", prefix],
    {
      nodeArgs: [],
      bin: path.join(out, "bin/troupe.js"),
      cwd: out,
      env: { NATS_URL: server.url, TROUPE_FROM_SOURCE: "" },
    },
  );
  await host.waitFor(/"host ready"/);
  await eventually("ready", async () =>
    (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status === 200 ? true : undefined,
  );
  const client = await connect({ servers: server.url, prefix });
  t.teardown(() => client.close());
  t.is(await client.ref(Inventory, "tea").restock(3), 3);
  t.is(await host.kill("SIGTERM"), 0, host.output.slice(-10).join("\n"));
  t.true(host.output.some((l) => l.includes('"draining"')));
});
