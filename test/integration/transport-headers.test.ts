/**
 * Outbound NATS headers (trace context, message ids, KV expectations) are written by the transport
 * without nats.js's `headers().set()`: they must reach a real subscriber exactly as nats.js would
 * have sent them, and a value or name that would break the line-based header block is refused.
 */
import { connect as natsConnect } from "@nats-io/transport-node";
import test from "ava";
import { ConfigurationError, consoleLogger } from "troupe";
import { NatsTransport } from "../../runtime/transport/nats-transport.js";
import { startServer } from "../helpers/nats.js";

test("transport headers - reach a plain nats.js subscriber as sent, on publish and request", async (t) => {
  const server = await startServer(t);
  const transport = await NatsTransport.connect({ servers: server.url }, consoleLogger("silent"));
  const observer = await natsConnect({ servers: server.url });
  t.teardown(async () => {
    await observer.close();
    await transport.close();
  });
  const seen: Record<string, string>[] = [];
  observer.subscribe("hdr.>", {
    callback: (_err, msg) => {
      const h = msg.headers;
      seen.push(Object.fromEntries((h?.keys() ?? []).map((k) => [k, h?.get(k) ?? ""])));
      if (msg.reply) msg.respond(new Uint8Array([1]));
    },
  });
  await observer.flush();
  const headers = {
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    tracestate: "vendor=a,other=b",
    "Nats-Msg-Id": "job-42",
    note: "  trimmed like nats.js does  ",
  };
  transport.publish("hdr.pub", new Uint8Array([0]), headers);
  const outcome = await transport.request("hdr.req", new Uint8Array([0]), 2_000, headers);
  t.is(outcome.kind, "reply");
  const expected = { ...headers, note: "trimmed like nats.js does" };
  t.deepEqual(seen, [expected, expected]);
});

test("transport headers - CR, LF or a colon where they would break the header block are refused", async (t) => {
  const server = await startServer(t);
  const transport = await NatsTransport.connect({ servers: server.url }, consoleLogger("silent"));
  t.teardown(() => transport.close());
  const data = new Uint8Array([0]);
  const bads: Record<string, string>[] = [
    { a: "x\r\ninjected: 1" },
    { a: "line\n" },
    { "a:b": "x" },
    { "a\r": "x" },
    { "": "x" },
  ];
  for (const bad of bads) {
    t.throws(
      () => transport.publish("hdr.bad", data, bad),
      { instanceOf: ConfigurationError },
      JSON.stringify(bad),
    );
  }
});
