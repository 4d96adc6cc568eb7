/**
 * Real processes: two `troupe gateway` processes in front of three host processes, a client
 * spreading calls over both gateways. One host is killed, then one gateway: calls keep succeeding
 * through the survivors (failures only of the retryable kind, while shards move or a gateway is
 * gone), and every acknowledged increment is in the actors' state at the end.
 */
import test from "ava";
import { reservePorts } from "troupe/testing";
import { startServer } from "../helpers/nats.js";
import { FAST, spawnHost, uniquePrefix, waitFor } from "../placement/helpers.js";
import { keysFile, spawnGateway } from "./processes.js";

const KEY = "proc-key-0123456789abcdef0123";
const RETRYABLE = new Set([502, 503, 504]);

test.serial("gateway processes - a killed host and a killed gateway lose no acknowledged call", async (t) => {
  const server = await startServer(t);
  const prefix = uniquePrefix();
  const hosts = ["h1", "h2", "h3"].map((name) =>
    spawnHost(t, { servers: server.url, prefix, name, placement: FAST, jobs: false }),
  );
  await Promise.all(hosts.map((h) => h.ready));
  const keys = keysFile(t, `loadtest ${KEY}\n`);
  const args = [
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--nats",
    server.url,
    "--prefix",
    prefix,
    "--api-keys-file",
    keys,
  ];
  const gateways = [spawnGateway(t, args), spawnGateway(t, args)];
  const urls = await Promise.all(gateways.map((g) => g.url));
  const alive = new Set(urls);

  const acked = new Map<string, Set<string>>();
  const failures = new Map<string, number>();
  let next = 0;
  let ackCount = 0;
  let stop = false;
  const unexpected: string[] = [];
  const ACTORS = 12;

  /** One operation, sent until a gateway acknowledges it (retryable failures only). */
  async function send(op: string, actor: string, worker: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const live = [...alive];
      const url = live[(worker + attempt) % live.length] as string;
      let status: number;
      let body = "";
      try {
        const res = await fetch(`${url}/v1/actors/Tally/${actor}/add`, {
          method: "POST",
          headers: { "x-api-key": KEY, "content-type": "application/json", "request-timeout": "8s" },
          body: JSON.stringify([op]),
        });
        status = res.status;
        body = await res.text();
      } catch {
        status = 0; // connection refused or reset: a gateway is gone
      }
      if (status === 200) {
        const set = acked.get(actor) ?? new Set<string>();
        acked.set(actor, set);
        set.add(op);
        ackCount++;
        return;
      }
      const kind = status === 0 ? "connection" : String(status);
      failures.set(kind, (failures.get(kind) ?? 0) + 1);
      if (status !== 0 && !RETRYABLE.has(status)) {
        unexpected.push(`${status} ${body.slice(0, 300)}`);
        return;
      }
      if (attempt > 200) {
        unexpected.push(`${op} never acknowledged`);
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(500, 20 * 2 ** Math.min(attempt, 5))));
    }
  }

  const workers = Array.from({ length: 8 }, async (_, w) => {
    while (!stop) {
      const i = next++;
      await send(`op-${i}`, `t-${i % ACTORS}`, w);
    }
  });
  const acksAfter = async (more: number, what: string) => {
    const target = ackCount + more;
    await waitFor(what, () => ackCount >= target || unexpected.length > 0, 90_000);
  };

  try {
    await acksAfter(100, "calls through both gateways");
    hosts[0]?.signal("SIGKILL");
    await hosts[0]?.exited;
    await acksAfter(150, "calls after a host was killed");
    alive.delete(urls[0] as string);
    await gateways[0]?.kill("SIGKILL");
    await acksAfter(150, "calls through the surviving gateway");
  } finally {
    stop = true;
    await Promise.all(workers);
  }
  t.deepEqual(unexpected, [], `failures by kind: ${JSON.stringify([...failures])}`);
  t.log(`acknowledged ${ackCount} calls; retryable failures by kind: ${JSON.stringify([...failures])}`);

  const survivor = urls[1] as string;
  for (const [actor, ops] of acked) {
    const res = await fetch(`${survivor}/v1/actors/Tally/${actor}/get`, {
      method: "POST",
      headers: { "x-api-key": KEY, "request-timeout": "20s" },
    });
    t.is(res.status, 200);
    const state = (await res.json()) as { value: number; ops: string[] };
    const stored = new Set(state.ops);
    const lost = [...ops].filter((op) => !stored.has(op));
    t.deepEqual(lost, [], `${actor}: acknowledged increments missing from its state`);
    t.is(state.value, state.ops.length);
  }
});

test("gateway processes - troupe gateway refuses to start without authentication", async (t) => {
  const server = await startServer(t);
  const gw = spawnGateway(t, ["--port", "0", "--nats", server.url]);
  const code = await gw.exited;
  t.is(code, 1);
  t.regex(gw.output.join("\n"), /needs authentication/);
});

test("gateway processes - --insecure-dev starts, says so loudly, and serves as anonymous", async (t) => {
  const server = await startServer(t);
  const prefix = uniquePrefix();
  const host = spawnHost(t, { servers: server.url, prefix, name: "h1", placement: FAST, jobs: false });
  await host.ready;
  const gw = spawnGateway(t, [
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--nats",
    server.url,
    "--prefix",
    prefix,
    "--insecure-dev",
  ]);
  const url = await gw.url;
  t.regex(gw.output.join("\n"), /INSECURE/);
  const res = await fetch(`${url}/v1/actors/Echo/any/whoami`, { method: "POST" });
  t.is(res.status, 200);
  t.is(await res.json(), "h1");
  t.is(await gw.kill("SIGTERM"), 0, "SIGTERM stops it cleanly");
});

test("gateway processes - Prometheus /metrics on its own port counts requests by route and status", async (t) => {
  const server = await startServer(t);
  const prefix = uniquePrefix();
  const host = spawnHost(t, { servers: server.url, prefix, name: "h1", placement: FAST, jobs: false });
  await host.ready;
  const [metricsPort] = await reservePorts(1);
  const keys = keysFile(t, `metrics ${KEY}\n`);
  const gw = spawnGateway(t, [
    ...["--port", "0", "--host", "127.0.0.1", "--nats", server.url, "--prefix", prefix],
    ...["--api-keys-file", keys, "--metrics-port", String(metricsPort)],
  ]);
  const url = await gw.url;
  const call = await fetch(`${url}/v1/actors/Echo/any/whoami`, {
    method: "POST",
    headers: { "x-api-key": KEY },
  });
  t.is(call.status, 200);
  t.is((await fetch(`${url}/v1/actors/Echo/any/whoami`, { method: "POST" })).status, 401);
  t.is(
    (await fetch(`${url}/metrics`, { headers: { "x-api-key": KEY } })).status,
    404,
    "metrics are not on the API port",
  );
  let text = "";
  await waitFor("request metrics", async () => {
    text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return text.includes('http_response_status_code="401"');
  });
  t.regex(
    text,
    /troupe_gateway_requests_total\{[^}]*http_route="\/v1\/actors\/:type\/:id\/:method"[^}]*http_response_status_code="200"[^}]*\} 1/,
  );
  t.regex(text, /troupe_calls_total\{[^}]*troupe_actor_type="Echo"/);
});
