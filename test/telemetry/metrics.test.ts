import test from "ava";
import { Actor } from "troupe";
import { reservePorts, TestMesh } from "troupe/testing";
import { metricsEnabled, recordCall } from "../../runtime/telemetry/index.js";
import { startTelemetry } from "../../runtime/telemetry/sdk.js";

class NeverHosted extends Actor {
  ping(): void {}
}

class Counter extends Actor<{ n: number }> {
  static initialState = () => ({ n: 0 });
  async add(by: number): Promise<number> {
    if (by < 0) throw new RangeError("only up");
    this.state.n += by;
    return this.state.n;
  }
}

test("metrics - calls, errors, activations and mailbox depth show up on the Prometheus endpoint", async (t) => {
  for (const key of Object.keys(process.env)) if (key.startsWith("OTEL_")) delete process.env[key];
  t.false(metricsEnabled());
  recordCall("Cart", "add", 3); // no provider yet: nothing recorded, nothing thrown
  const [port] = await reservePorts(1);
  const telemetry = await startTelemetry({ metricsPort: port as number, serviceName: "metrics-test" });
  t.teardown(() => telemetry.shutdown());
  t.false(telemetry.tracing, "no OTLP endpoint: tracing stays off");
  t.true(metricsEnabled());

  const tm = await TestMesh.start({ types: [Counter] });
  t.teardown(() => tm.close());
  await tm.ref(Counter, "a").add(1);
  await tm.ref(Counter, "b").add(2);
  await t.throwsAsync(tm.ref(Counter, "a").add(-1));

  tm.ref(NeverHosted, "x").tell.ping(); // no host ever served the type: dropped, and counted
  // Waits are bounded by time, not by a count of polls (a poll takes longer on a busy machine).
  const scrapeUntil = async (wanted: RegExp, withinMs: number): Promise<string> => {
    const end = performance.now() + withinMs;
    let text = "";
    while (!wanted.test(text) && performance.now() < end) {
      await new Promise((r) => setTimeout(r, 25));
      text = await (await fetch(telemetry.metricsUrl as string)).text();
    }
    return text;
  };
  const body = await scrapeUntil(/troupe_tells_dropped_total/, 30_000);
  const dropped = /troupe_tells_dropped_total\{([^}]*)\} 1/.exec(body)?.[1] ?? "";
  t.regex(dropped, /error_type="TROUPE_UNKNOWN_ACTOR_TYPE"/);
  t.regex(dropped, /troupe_actor_type="NeverHosted"/);
  t.regex(body, /troupe_calls_total\{[^}]*troupe_actor_type="Counter"[^}]*troupe_method="add"[^}]*\} 2/);
  t.regex(body, /troupe_calls_total\{[^}]*error_type="TROUPE_ACTOR_METHOD_FAILED"[^}]*\} 1/);
  t.regex(body, /troupe_call_duration_count\{/);
  t.regex(body, /troupe_activations\{[^}]*troupe_actor_type="Counter"[^}]*\} 2/);
  t.regex(body, /troupe_mailbox_depth\{[^}]*troupe_actor_type="Counter"[^}]*\} 0/);
  // Queue depths are read from JetStream in the background, at start and then every 10 s: wait
  // for a reading over three of those intervals.
  const scraped = await scrapeUntil(/troupe_dlq_size\{/, 30_000);
  t.regex(scraped, /troupe_jobs_pending\{[^}]*troupe_queue="[^"]*Counter[^"]*"[^}]*\} 0/);
  t.regex(scraped, /troupe_dlq_size\{[^}]*\} 0/);
  t.regex(body, /troupe_jobs_in_flight\{[^}]*troupe_queue="[^"]*Counter[^"]*"[^}]*\} 0/);
});
