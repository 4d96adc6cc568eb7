/**
 * Outbound header blocks (runtime/transport/nats-message.ts `toNatsHeaders`) are rendered by Troupe
 * instead of through nats.js's header object: they must be byte for byte what nats.js writes for
 * the same keys and values, and a real server must hand them to a nats.js subscriber intact.
 */
import { MsgHdrsImpl } from "@nats-io/nats-core/internal";
import { connect } from "@nats-io/transport-node";
import test from "ava";
import fc from "fast-check";
import { ConfigurationError } from "troupe";
import { toNatsHeaders } from "../../runtime/transport/nats-message.js";
import { startServer } from "../helpers/nats.js";

/** The block `toNatsHeaders` renders (nats.js's publish calls only `encode()` on it). */
const rendered = (h: Record<string, string>) =>
  (toNatsHeaders(h) as unknown as { encode(): Uint8Array }).encode();

/** What nats.js itself encodes for `h` (keys as given, values trimmed, as `set()` would). */
function natsEncoded(h: Record<string, string>): Uint8Array {
  const out = new MsgHdrsImpl();
  for (const k in h) out.set(k, (h[k] as string).trim());
  return out.encode();
}

const key = fc
  .string({ minLength: 1, maxLength: 12 })
  .filter((k) => !/[\r\n:]/.test(k) && k.trim() === k && /^[\x21-\x7e]+$/.test(k));
const value = fc.string({ maxLength: 40, unit: "binary" }).filter((v) => !/[\r\n]/.test(v));

test("outbound headers - the rendered block is byte for byte what nats.js encodes", (t) => {
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 5 }), (h) => {
      t.deepEqual(Buffer.from(rendered(h)), Buffer.from(natsEncoded(h)));
    }),
    { numRuns: 2000 },
  );
  t.is(rendered({}).length, 0, "no keys: no block, as nats.js");
});

test("outbound headers - a key or value that would break the block is refused", (t) => {
  const refused: Record<string, string>[] = [
    { "": "x" },
    { "a:b": "x" },
    { "a\nb": "x" },
    { a: "x\r\ny: z" },
    { a: "x\n" },
    { a: "\rx" },
    { a: "é\r" },
    { "é\n": "x" },
    { "é:": "x" },
    { ok: "fine", "b c:": "x" },
  ];
  for (const h of refused) {
    t.throws(() => toNatsHeaders(h), { instanceOf: ConfigurationError }, JSON.stringify(h));
  }
});

test("outbound headers - a real server hands them to a nats.js subscriber intact", async (t) => {
  const server = await startServer(t);
  const nc = await connect({ servers: server.url });
  t.teardown(() => nc.close());
  const sent: Record<string, string>[] = [
    { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
      tracestate: "k=v",
      "troupe-caller": " édith ",
    },
  ];
  const got: Record<string, string>[] = [];
  const done = new Promise<void>((resolve) => {
    nc.subscribe("hdr.test", {
      callback: (_err, msg) => {
        const h = msg.headers;
        got.push(Object.fromEntries((h?.keys() ?? []).map((k) => [k, h?.get(k) ?? ""])));
        if (got.length === sent.length) resolve();
      },
    });
  });
  await nc.flush();
  for (const h of sent) nc.publish("hdr.test", new Uint8Array([1]), { headers: toNatsHeaders(h) });
  await done;
  t.deepEqual(
    got,
    sent.map((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.trim()]))),
  );
});
