/**
 * Least-privilege NATS users end to end: a nats-server whose only users are the ones
 * `troupe auth gen` writes, a control plane, a host and a gateway as real `troupe` processes and a
 * client in this process, each connecting as its own user. Every pattern works (call, tell, job,
 * publish/subscribe, the gateway, throttling policies reaching the host) with no permissions
 * violation in the server's log, each reply under its user's own inbox prefix; a subject outside a
 * user's list is refused, and the refusal is logged by Troupe with the operation and the subject,
 * another user's inboxes included: a client cannot read the replies the host, the gateway or another
 * client application (`--clients`) receive.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { connect, ThrottledError } from "troupe";
import { reservePorts } from "troupe/testing";
import { clientUser, inboxPrefixOf, natsUser } from "../../runtime/cli/auth.js";
import type { Component } from "../../runtime/cli/nats-permissions.js";
import type { ThrottlePolicy } from "../../runtime/protos/index.js";
import { ReminderNames } from "../../runtime/reminders/index.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { PERMISSION_VIOLATION } from "../../runtime/transport/permission-log.js";
import { Cart } from "../../services/examples/shop/cart.js";
import { Inventory } from "../../services/examples/shop/inventory.js";
import { Invoices } from "../../services/examples/shop/invoices.js";
import { Notifications } from "../../services/examples/shop/notifications.js";
import { unary } from "../control-plane/helpers.js";
import { recordingLogger } from "../helpers/logger.js";
import { Napper, seen } from "../reminders/fixtures/actors.js";
import { connectAs, passwordOf, startAuthorizedServer } from "./authorized-server.js";
import { eventually, root, spawnTroupe } from "./processes.js";

const TYPES = ["Cart", "Inventory", "Invoices", "Notifications", "Visits"];
const TOKEN = "deploy-test-token-0123456789";

test("nats permissions - host, client, gateway and control plane work with exactly their generated permissions; anything else is refused and logged", async (t) => {
  t.timeout(300_000); // four processes and every pattern, on a loaded machine
  const dir = mkdtempSync(path.join(tmpdir(), "troupe-auth-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = `auth${process.pid}`;
  const { server, violations } = await startAuthorizedServer(
    t,
    { prefix, types: TYPES, clients: ["web"] },
    { jetstream: true },
  );
  const as = (c: Component) => ({
    NATS_USER: natsUser(c),
    NATS_PASSWORD: passwordOf(c),
    NATS_INBOX_PREFIX: inboxPrefixOf(c),
  });
  const tokenFile = path.join(dir, "control.token");
  writeFileSync(tokenFile, `${TOKEN}\n`);

  const [planePort] = await reservePorts(1);
  const plane = spawnTroupe(
    t,
    [
      "control-plane",
      "--port",
      String(planePort),
      "--bind",
      "127.0.0.1",
      "--nats",
      server.url,
      "--prefix",
      prefix,
    ],
    { env: { ...as("control-plane"), TROUPE_CONTROL_TOKEN: TOKEN } },
  );
  const address = (await plane.waitFor(/control plane listening on (\S+)/))[1] as string;
  const api = connectControlPlane({ address, token: TOKEN });
  t.teardown(() => api.close());
  const policy = {
    name: "noisy-inventory",
    match: { callers: ["noisy"], actorTypes: ["Inventory"] },
    limit: { ratePerSecond: 1, burst: 1 },
  } satisfies ThrottlePolicy;
  await unary(api.throttle.SetPolicy.bind(api.throttle), { policy }, api.metadata());

  const host = spawnTroupe(
    t,
    [
      "host",
      path.join(root, "services/examples/index.ts"),
      "--prefix",
      prefix,
      "--health-port",
      "0",
      "--control-plane",
      address,
      "--control-token-file",
      tokenFile,
    ],
    { env: { ...as("host"), NATS_URL: server.url } },
  );
  await host.waitFor(/"host ready"/);
  const gateway = spawnTroupe(
    t,
    [
      "gateway",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--nats",
      server.url,
      "--prefix",
      prefix,
      "--insecure-dev",
    ],
    { env: as("gateway") },
  );
  const gatewayUrl = (await gateway.waitFor(/listening on (http:\/\/\S+)/))[1] as string;

  const { logger, entries } = recordingLogger();
  const client = await connectAs(t, server, prefix, "client", { logger });

  // Request-reply and fire-and-forget.
  t.is(await client.ref(Inventory, "tea").restock(5), 5);
  client.ref(Inventory, "tea").tell.restock(5);
  await eventually("the tell's restock", async () =>
    (await client.ref(Inventory, "tea").available()) === 10 ? true : undefined,
  );
  // A call that calls, enqueues and publishes inside its turn (the host's permissions).
  await client.ref(Cart, "alice").add("tea", 2);
  const order = await client.ref(Cart, "alice").checkout();
  await eventually(
    "the invoice job",
    async () => (await client.ref(Invoices, order.orderId).get()) ?? undefined,
  );
  await eventually("the orders.placed event", async () => {
    const seen = await client.ref(Notifications, "alice").list();
    return seen.length > 0 ? seen : undefined;
  });
  // A durable job from the client, and its result.
  const job = await client.enqueue(Inventory, "tea").restock(1);
  t.is(await job.result({ timeoutMs: 30_000 }), 9);
  // A publish from the client reaches the subscriber.
  await client.publish("orders.placed", { ...order, orderId: "direct-1" });
  await eventually("the client's event", async () => {
    const seen = await client.ref(Notifications, "alice").list();
    return seen.some((s) => s.includes("direct-1")) ? true : undefined;
  });

  // Through the gateway: a call and a publish.
  const res = await fetch(`${gatewayUrl}/v1/actors/Inventory/tea/available`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "[]",
  });
  t.is(res.status, 200, await res.clone().text());
  t.is(await res.json(), 9);
  const published = await fetch(`${gatewayUrl}/v1/events/audit.checked`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ok: true }),
  });
  t.is(published.status, 202, await published.text());

  // The control plane's policy reached the host: a caller over 1/s is throttled.
  const noisy = await connectAs(t, server, prefix, "client", { clientId: "noisy", logger });
  await eventually(
    "a throttled call",
    async () => {
      try {
        await noisy.ref(Inventory, "tea", { retry: { maxAttempts: 1 } }).available();
        return undefined;
      } catch (err) {
        if (err instanceof ThrottledError) return err;
        throw err;
      }
    },
    30_000,
    20,
  );

  t.deepEqual(violations(), [], "no component needed a subject outside its permissions");
  for (const p of [host, gateway, plane]) {
    t.false(
      p.output.some((l) => l.includes(PERMISSION_VIOLATION)),
      p.output.filter((l) => l.includes(PERMISSION_VIOLATION)).join("\n"),
    );
  }

  // A client application with its own user (--clients web) is answered under its own prefix.
  const web = await connect({
    servers: server.url,
    prefix,
    user: clientUser("web"),
    pass: passwordOf("client-web"),
    inboxPrefix: `_INBOX_${clientUser("web")}`,
    logger,
  });
  t.teardown(() => web.close());
  t.is(typeof (await web.ref(Inventory, "tea").available()), "number");

  // Refused: the client user may not subscribe to calls (act as a host) nor publish elsewhere,
  // nor read another user's replies: the host's and the gateway's inboxes, nats.js's default ones.
  const eavesdropped: string[] = [];
  const listen = (subject: string) =>
    client.transport.subscribe(subject, {}, (m) => eavesdropped.push(m.subject));
  client.transport.publish(`${prefix}.host.any.actors`, new Uint8Array());
  client.transport.subscribe(`${prefix}.rpc.Cart.0`, {}, () => undefined);
  const stolen = [
    `${inboxPrefixOf("host")}.>`,
    `${inboxPrefixOf("gateway")}.>`,
    `_INBOX_${clientUser("web")}.>`,
    "_INBOX.>",
    ">",
  ];
  for (const subject of stolen) listen(subject);
  const expected = [
    `publish ${prefix}.host.any.actors`,
    `subscription ${prefix}.rpc.Cart.0`,
    ...stolen.map((s) => `subscription ${s}`),
  ];
  const refusedNow = () =>
    entries
      .filter((r) => r.msg === PERMISSION_VIOLATION)
      .map((r) => `${String(r.fields?.operation)} ${String(r.fields?.subject)}`);
  await eventually("every refusal logged", async () =>
    expected.every((e) => refusedNow().includes(e)) ? true : undefined,
  );
  const refused = refusedNow();
  for (const e of expected) t.true(refused.includes(e), `${e} refused: ${refused.join("; ")}`);
  t.true(violations().length >= expected.length, "the server logged the refusals too");
  // The refused subscriptions receive nothing while the host and the gateway get replies: a call
  // from the host to other actors (checkout) and one through the gateway.
  await client.ref(Cart, "bob").add("tea", 1);
  t.truthy((await client.ref(Cart, "bob").checkout()).orderId, "the client's own replies still arrive");
  const again = await fetch(`${gatewayUrl}/v1/actors/Inventory/tea/available`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "[]",
  });
  t.is(again.status, 200, await again.clone().text());
  t.is(typeof (await web.ref(Inventory, "tea").available()), "number");
  // One more round trip on the client's connection: anything delivered to it before has arrived.
  t.is(typeof (await client.ref(Inventory, "tea").available()), "number");
  t.deepEqual(eavesdropped, [], "no other user's reply reached the client");
});

test("nats permissions - a host's reminders, their sweep restoring a lost occurrence included, need nothing beyond the host's permissions", async (t) => {
  const prefix = `authr${process.pid}`;
  const { server, violations } = await startAuthorizedServer(
    t,
    { prefix, types: ["Napper"] },
    { jetstream: true },
  );
  const { logger, entries } = recordingLogger();
  const mesh = await connectAs(t, server, prefix, "host", { logger });
  await mesh.host([Napper], {
    jobs: false,
    subscriptions: false,
    reminders: { sweepEveryMs: 200, sweepGraceMs: 300 },
  });
  // A reminder set the ordinary way, and one whose setter died before publishing its occurrence.
  await mesh.ref(Napper, "perm-1").arm("wake", Date.now());
  const names = new ReminderNames(prefix);
  const kv = await mesh.transport.keyValue(names.bucket());
  const orphan = {
    type: "Napper",
    id: "perm-2",
    name: "wake",
    generation: "g1",
    firstDueAtMs: Date.now(),
    setAtMs: Date.now(),
  };
  await kv.put(names.key("Napper", "perm-2", "wake"), new TextEncoder().encode(JSON.stringify(orphan)));
  await eventually("both reminders to fire", async () =>
    seen.of("perm-1").length === 1 && seen.of("perm-2").length === 1 ? true : undefined,
  );
  t.deepEqual(violations(), [], "no subject outside the host's permissions");
  t.deepEqual(
    entries.filter((e) => e.msg.includes(PERMISSION_VIOLATION)),
    [],
    "Troupe logged no refusal either",
  );
});
