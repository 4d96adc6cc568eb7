import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import test from "ava";
import { connect, consoleLogger } from "troupe";
import { reservePorts } from "troupe/testing";
import { startServer } from "../helpers/nats.js";
import { startOtlpReceiver } from "../helpers/otlp-receiver.js";

const troupeBin = fileURLToPath(new URL("../../bin/troupe.js", import.meta.url));

async function httpStatus(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0; // not listening (yet / any more)
  }
}

test("host command - serves the entry's actors, answers probes, exports traces and metrics, and drains on SIGTERM", async (t) => {
  const server = await startServer(t);
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const [healthPort, metricsPort] = await reservePorts(2);
  const args = [
    "host",
    "--health-port",
    String(healthPort),
    "--metrics-port",
    String(metricsPort),
    "--prefix",
    "hc",
  ];
  const child = spawn(process.execPath, [troupeBin, ...args], {
    env: {
      ...process.env,
      NATS_URL: server.url,
      TROUPE_LOG_LEVEL: "warn",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_SERVICE_NAME: "shop-host",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c) => {
    output += c;
  });
  child.stderr.on("data", (c) => {
    output += c;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  t.teardown(() => child.kill("SIGKILL"));

  const ready = `http://127.0.0.1:${healthPort}/readyz`;
  for (let i = 0; i < 600 && (await httpStatus(ready)) !== 200; i++)
    await new Promise((r) => setTimeout(r, 100));
  t.is(await httpStatus(ready), 200, output);
  t.is(await httpStatus(`http://127.0.0.1:${healthPort}/healthz`), 200);

  const mesh = await connect({ servers: server.url, prefix: "hc", logger: consoleLogger("silent") });
  t.teardown(() => mesh.close());
  t.is(await mesh.callByName("Visits", "home", "hit", []), 1);

  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  t.regex(metrics, /troupe_activations\{[^}]*troupe_actor_type="Visits"[^}]*\} 1/);
  const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === "process Visits.hit"));
  const turn = spans.find((s) => s.name === "process Visits.hit");
  t.is(turn?.serviceName, "shop-host");
  t.is(turn?.kind, "SERVER");

  child.kill("SIGTERM");
  t.is(await exited, 0, output);
  t.notRegex(output, /"level":"error"/);
});

test("host command - without NATS_URL it refuses to start and says why", async (t) => {
  const env = { ...process.env };
  delete env.NATS_URL;
  const child = spawn(process.execPath, [troupeBin, "host"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c) => {
    stderr += c;
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  t.is(code, 1);
  t.regex(stderr, /TROUPE_CONFIGURATION: troupe host needs NATS_URL/);
});
