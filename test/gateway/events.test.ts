import test from "ava";
import { AUTH, http, startGatewayFixture } from "./helpers.js";

interface SseEvent {
  event: string;
  data: unknown;
}

/** Opens an event stream and collects its events until `count` arrived (or the stream ends). */
async function openStream(url: string, headers: Record<string, string>) {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers, signal: ctrl.signal });
  const events: SseEvent[] = [];
  let subscribed!: () => void;
  const ready = new Promise<void>((r) => {
    subscribed = r;
  });
  const waiters: { count: number; resolve: () => void }[] = [];
  const pump = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let end = buf.indexOf("\n\n");
        while (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (block.startsWith(": subscribed")) subscribed();
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
          for (const w of waiters) if (events.length >= w.count) w.resolve();
          end = buf.indexOf("\n\n");
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    res,
    events,
    ready,
    until: (count: number) =>
      new Promise<void>((resolve) => {
        if (events.length >= count) resolve();
        else waiters.push({ count, resolve });
      }),
    close: async () => {
      ctrl.abort();
      await pump;
    },
  };
}

test("events - an event stream delivers published events matching its pattern and filter", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const stream = await openStream(
    `${gatewayUrl}/v1/events/orders.*?filter=${encodeURIComponent("total > 10")}`,
    AUTH,
  );
  t.teardown(() => stream.close());
  t.is(stream.res.status, 200);
  t.regex(stream.res.headers.get("content-type") ?? "", /^text\/event-stream/);
  await stream.ready;
  const publish = (topic: string, event: unknown) =>
    http(gatewayUrl, "POST", `/v1/events/${topic}`, { body: event, headers: AUTH });
  t.is((await publish("orders.created", { id: 1, total: 5 })).status, 202);
  t.is((await publish("payments.done", { id: 2, total: 50 })).status, 202);
  t.is((await publish("orders.created", { id: 3, total: 50 })).status, 202);
  t.is((await publish("orders.cancelled", { id: 4, total: 11 })).status, 202);
  await stream.until(2);
  t.deepEqual(stream.events, [
    { event: "orders.created", data: { id: 3, total: 50 } },
    { event: "orders.cancelled", data: { id: 4, total: 11 } },
  ]);
});

test("events - a publish with an Idempotency-Key is stored once", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const headers = { ...AUTH, "idempotency-key": "order-17-created" };
  const first = await http(gatewayUrl, "POST", "/v1/events/orders.created", { body: { id: 17 }, headers });
  const second = await http(gatewayUrl, "POST", "/v1/events/orders.created", { body: { id: 17 }, headers });
  t.is(first.status, 202);
  t.false(first.json.duplicate);
  t.true(second.json.duplicate);
  t.is(second.json.seq, first.json.seq);
  const other = await http(gatewayUrl, "POST", "/v1/events/orders.created", {
    body: { id: 18 },
    headers: AUTH,
  });
  t.false(other.json.duplicate);
  t.true(other.json.seq > first.json.seq);
});

test("events - an event stream needs credentials", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const res = await http(gatewayUrl, "GET", "/v1/events/orders.*");
  t.is(res.status, 401);
});

test("events - past maxEventStreams a new stream is a 503 problem, and closing one frees its place", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t, { limits: { maxEventStreams: 1 } });
  const first = await openStream(`${gatewayUrl}/v1/events/orders.*`, AUTH);
  await first.ready;
  const second = await http(gatewayUrl, "GET", "/v1/events/orders.*", { headers: AUTH });
  t.is(second.status, 503);
  t.is(second.json.code, "GATEWAY_UNAVAILABLE");
  t.truthy(second.headers.get("retry-after"));
  await first.close();
  // The server notices the closed stream asynchronously: try until it has.
  for (let attempt = 0; ; attempt++) {
    const next = await openStream(`${gatewayUrl}/v1/events/orders.*`, AUTH);
    t.teardown(() => next.close());
    if (next.res.status === 200) break;
    t.is(next.res.status, 503);
    if (attempt > 100) t.fail("the closed stream's place was never freed");
    await new Promise((r) => setTimeout(r, 50));
  }
  t.pass();
});
