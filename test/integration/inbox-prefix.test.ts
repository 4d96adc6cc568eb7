/**
 * A connection's inbox prefix (`connect({ inboxPrefix })`, `NATS_INBOX_PREFIX`) is where every reply
 * it receives comes: call replies, JetStream API answers, KV watches, job pulls. NATS permissions
 * confine a user to its own prefix (`troupe auth gen`; the end-to-end test with those permissions
 * is test/deploy/nats-permissions.test.ts); here a plain server shows nothing falls back to
 * nats.js's default `_INBOX`, and a prefix that is not a subject prefix is refused.
 */
import { connect as natsConnect } from "@nats-io/transport-node";
import test from "ava";
import { ConfigurationError, connect, consoleLogger } from "troupe";
import { startServer } from "../helpers/nats.js";
import { Counter } from "./fixtures.js";

const silent = consoleLogger("silent");

test("inbox prefix - calls, jobs, state and KV watches of a mesh get every reply under its own prefix", async (t) => {
  const server = await startServer(t);
  const observer = await natsConnect({ servers: server.url });
  t.teardown(() => observer.close());
  const ours: string[] = [];
  const defaults: string[] = [];
  observer.subscribe("_INBOX_app.>", { callback: (_err, m) => void ours.push(m.subject) });
  observer.subscribe("_INBOX.>", { callback: (_err, m) => void defaults.push(m.subject) });
  await observer.flush();

  // Through NATS (no in-process shortcut), so the call's reply crosses the server too.
  const mesh = await connect({
    servers: server.url,
    prefix: "inbox",
    inboxPrefix: "_INBOX_app",
    localDelivery: false,
    logger: silent,
  });
  t.teardown(() => mesh.close());
  await mesh.host([Counter]); // streams, buckets, placement watches, job pulls
  t.is(await mesh.ref(Counter, "c1").increment(2), 2);
  const job = await mesh.enqueue(Counter, "c1").increment(3);
  t.is(await job.result({ timeoutMs: 30_000 }), 5);
  await observer.flush();

  t.true(ours.length > 0, "replies came under _INBOX_app");
  t.deepEqual(defaults, [], "nothing came to nats.js's default inboxes");
});

test("inbox prefix - NATS_INBOX_PREFIX is the default; a wildcard, a space or an empty token is a ConfigurationError", async (t) => {
  const server = await startServer(t);
  for (const bad of ["_INBOX.*", "_INBOX_a.>", "my inbox", "_INBOX..x", ".x"]) {
    const err = await t.throwsAsync(
      connect({ servers: server.url, inboxPrefix: bad, logger: silent }),
      { instanceOf: ConfigurationError },
      bad,
    );
    t.is(err?.code, "TROUPE_CONFIGURATION");
  }
  const before = process.env.NATS_INBOX_PREFIX;
  process.env.NATS_INBOX_PREFIX = "_INBOX bad";
  try {
    await t.throwsAsync(connect({ servers: server.url, logger: silent }), {
      instanceOf: ConfigurationError,
      message: /_INBOX bad/,
    });
    // The option wins over the environment.
    const mesh = await connect({ servers: server.url, inboxPrefix: "_INBOX_ok", logger: silent });
    await mesh.close();
  } finally {
    if (before === undefined) delete process.env.NATS_INBOX_PREFIX;
    else process.env.NATS_INBOX_PREFIX = before;
  }
  t.pass();
});
