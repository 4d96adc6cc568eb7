/** The outbox's gauges on the Prometheus endpoint (its own file: one OpenTelemetry SDK per process). */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { connect, consoleLogger } from "troupe";
import { reservePorts } from "troupe/testing";
import { startTelemetry } from "../../runtime/telemetry/sdk.js";

test("outbox metrics - pending, bytes, oldest age and dead letters are gauges", async (t) => {
  for (const key of Object.keys(process.env)) if (key.startsWith("OTEL_")) delete process.env[key];
  const [metricsPort, natsPort] = await reservePorts(2);
  const telemetry = await startTelemetry({
    metricsPort: metricsPort as number,
    serviceName: "outbox-metrics",
  });
  t.teardown(() => telemetry.shutdown());
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-outbox-metrics-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const mesh = await connect({
    servers: `nats://127.0.0.1:${natsPort}`, // nothing listens: everything stays in the outbox
    logger: consoleLogger("silent"),
    outbox: { path: dir },
  });
  t.teardown(() => mesh.close());
  for (let i = 0; i < 3; i++) await mesh.publish("metrics.x", { i });
  const body = await (await fetch(telemetry.metricsUrl as string)).text();
  t.regex(body, /troupe_outbox_pending(\{[^}]*\})? 3/);
  const bytes = Number(/troupe_outbox_bytes(?:\{[^}]*\})? (\d+)/.exec(body)?.[1]);
  t.true(bytes > 0, `bytes ${bytes}`);
  t.regex(body, /troupe_outbox_oldest_age(\{[^}]*\})? [\d.e+-]+/);
  t.regex(body, /troupe_outbox_dead_letters(\{[^}]*\})? 0/);
});
