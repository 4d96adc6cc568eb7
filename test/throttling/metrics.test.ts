/**
 * The enforcer's counters reach the host's metrics endpoint: `troupe.throttle.decisions` by policy
 * and outcome, through the OTel MeterProvider (the Prometheus exporter here; any OTel exporter reads
 * the same instrument).
 */
import test from "ava";
import { Actor, ThrottledError } from "troupe";
import { reservePorts } from "troupe/testing";
import { startTelemetry } from "../../runtime/telemetry/sdk.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { startPlane, TOKEN, unary, waitFor } from "../control-plane/helpers.js";
import { eventually, startMesh } from "../helpers/mesh.js";

class Echo extends Actor {
  static options = { stateless: true };
  async echo(x: unknown) {
    return x;
  }
}

test("throttle metrics - allowed and refused turns per policy show on the host's Prometheus endpoint", async (t) => {
  for (const key of Object.keys(process.env)) if (key.startsWith("OTEL_")) delete process.env[key];
  const [port] = await reservePorts(1);
  const telemetry = await startTelemetry({ metricsPort: port as number, serviceName: "throttle-metrics" });
  t.teardown(() => telemetry.shutdown());
  const { plane } = await startPlane(t);
  const connection = connectControlPlane({ address: plane.address, token: TOKEN });
  const policy = {
    name: "slow-echo",
    match: { actorTypes: ["Echo"] },
    limit: { ratePerSecond: 5, burst: 2 },
  };
  await unary(connection.throttle.SetPolicy.bind(connection.throttle), { policy }, connection.metadata());
  connection.close();
  const { mesh, connectAnother } = await startMesh(t);
  const host = await mesh.host([Echo], { throttling: { controlPlane: plane.address, token: TOKEN } });
  await waitFor(() => (host.enforcer?.policies().length ?? 0) === 1, 20_000, "the host's first shares");
  const client = await connectAnother({ clientId: "metrics", adaptiveRate: false });
  let refused = 0;
  for (let i = 0; refused < 3; i++) {
    try {
      await client.ref(Echo, `e${i}`).echo(i);
    } catch (err) {
      if (!(err instanceof ThrottledError)) throw err;
      refused += 1;
    }
  }
  const counts = host.enforcer?.counters().get("slow-echo");
  t.truthy(counts);
  const scrape = async () => (await fetch(telemetry.metricsUrl as string)).text();
  const series = (body: string, outcome: string) =>
    Number(
      new RegExp(
        `troupe_throttle_decisions_total\\{[^}]*troupe_throttle_policy="slow-echo",troupe_throttle_outcome="${outcome}"[^}]*\\} (\\d+)`,
      ).exec(body)?.[1] ?? -1,
    );
  let body = "";
  await eventually(
    async () => {
      body = await scrape();
      return series(body, "refused") >= 3;
    },
    20_000,
    "the refused series on /metrics",
  );
  t.is(series(body, "refused"), counts?.refused ?? 0, "refusals as the enforcer counted them");
  t.is(series(body, "allowed"), counts?.allowed ?? 0, "admissions as the enforcer counted them");
  t.true((counts?.allowed ?? 0) >= 1);
});
