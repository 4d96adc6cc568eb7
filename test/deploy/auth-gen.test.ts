/** `troupe auth gen` and the permissions it derives (no server: the end-to-end test is nats-permissions.test.ts). */
import test from "ava";
import {
  authCommand,
  inboxPrefixOf,
  natsUser,
  passwordVariable,
  permissionsJson,
  renderAuthorization,
} from "../../runtime/cli/auth.js";
import { DEVICE_USER } from "../../runtime/cli/device-permissions.js";
import { COMPONENTS, permissionsFor } from "../../runtime/cli/nats-permissions.js";
import { Subjects } from "../../runtime/messaging/subjects.js";
import { subjectCovers } from "../../runtime/transport/index.js";

test("auth gen - NATS wildcard coverage follows token rules", (t) => {
  t.true(subjectCovers("a.>", "a.b.c"));
  t.true(subjectCovers("a.*.c", "a.b.c"));
  t.true(subjectCovers("a.>", "a.*"));
  t.false(subjectCovers("a.>", "a"));
  t.false(subjectCovers("a.*", "a.b.c"));
  t.false(subjectCovers("a.*", "a.>"));
  t.false(subjectCovers("a.b", "a.c"));
});

test("auth gen - permissions follow the prefix and the runtime's own subject builders", (t) => {
  const host = permissionsFor("host", { prefix: "shop", types: ["Cart"] });
  const subjects = new Subjects("shop");
  t.true(host.subscribe.some((s) => subjectCovers(s, subjects.rpc("Cart", 7))));
  t.true(host.subscribe.some((s) => subjectCovers(s, subjects.hostActors("h1"))));
  t.true(host.publish.includes(`$KV.${subjects.stateBucket("Cart")}.>`));
  t.true(host.publish.includes(`$JS.API.STREAM.CREATE.KV_${subjects.shardsBucket()}`));
  t.false(
    host.publish.some((s) => !s.startsWith("_INBOX_") && s.includes("troupe")),
    "nothing of the default prefix leaks in",
  );
  // Only the listed types' state buckets.
  t.false(host.publish.some((s) => subjectCovers(s, `$KV.${subjects.stateBucket("Other")}.k`)));
  // Without types, a per-type stream is a whole-token wildcard.
  const open = permissionsFor("host", { prefix: "shop" });
  t.true(
    open.publish.some((s) => subjectCovers(s, `$JS.API.STREAM.INFO.KV_${subjects.stateBucket("Other")}`)),
  );
});

test("auth gen - a client can call, enqueue and publish but neither serve calls nor touch placement or state", (t) => {
  const p = permissionsFor("client", { prefix: "shop", types: ["Cart"] });
  const subjects = new Subjects("shop");
  t.true(p.publish.some((s) => subjectCovers(s, subjects.rpc("Cart", 0))));
  t.true(p.publish.some((s) => subjectCovers(s, "shop.jobs.Cart.j1")));
  t.true(p.publish.some((s) => subjectCovers(s, "shop.evt.orders.placed")));
  t.false(p.subscribe.some((s) => subjectCovers(s, subjects.rpc("Cart", 0))));
  t.false(p.publish.some((s) => subjectCovers(s, `$KV.${subjects.shardsBucket()}.Cart.0`)));
  t.false(p.publish.some((s) => subjectCovers(s, `$KV.${subjects.stateBucket("Cart")}.alice`)));
  t.false(
    p.publish.some((s) => subjectCovers(s, "_INBOX_troupe-host.x.1") || subjectCovers(s, "_INBOX.x.1")),
    "clients never reply",
  );
});

test("auth gen - each user subscribes only to its own inbox prefix; hosts reply to the callers' inboxes", (t) => {
  const scope = { prefix: "shop", types: ["Cart"] };
  for (const c of COMPONENTS) {
    const own = inboxPrefixOf(c);
    t.is(own, `_INBOX_${natsUser(c)}`);
    const p = permissionsFor(c, scope);
    t.true(
      p.subscribe.some((s) => subjectCovers(s, `${own}.abc.1`)),
      `${c} receives its replies`,
    );
    for (const other of COMPONENTS.filter((x) => x !== c)) {
      t.false(
        p.subscribe.some((s) => subjectCovers(s, `${inboxPrefixOf(other)}.abc.1`)),
        `${c} cannot read ${other}'s replies`,
      );
    }
    t.false(
      p.subscribe.some((s) => subjectCovers(s, "_INBOX.abc.1") || subjectCovers(s, "_INBOX.>")),
      "nobody reads nats.js's default inboxes",
    );
  }
  const host = permissionsFor("host", scope);
  for (const caller of ["client", "gateway", "host"] as const)
    t.true(
      host.publish.some((s) => subjectCovers(s, `${inboxPrefixOf(caller)}.abc.1`)),
      `hosts reply to ${caller}`,
    );
  t.false(
    host.publish.some((s) => subjectCovers(s, `${inboxPrefixOf("control-plane")}.abc.1`)),
    "the control plane calls no actor",
  );
  t.regex(
    renderAuthorization(scope),
    /# connects with NATS_INBOX_PREFIX=_INBOX_troupe-gateway\n\s*\{\n\s*user: "troupe-gateway"/,
  );
  t.is(permissionsJson(scope).client?.inboxPrefix, "_INBOX_troupe-client");
});

test("auth gen - --clients gives each client application its own user and inbox prefix, which hosts reply to", (t) => {
  const scope = { prefix: "shop", types: ["Cart"], clients: ["web", "batch-1"] };
  const json = permissionsJson(scope);
  const web = json["client-web"];
  t.is(web?.user, "troupe-client-web");
  t.is(web?.inboxPrefix, "_INBOX_troupe-client-web");
  t.deepEqual(web?.publish, json.client?.publish, "a client's publish permissions");
  t.true(web?.subscribe.some((s) => subjectCovers(s, "_INBOX_troupe-client-web.x.1")));
  for (const other of ["_INBOX_troupe-client.x.1", "_INBOX_troupe-client-batch-1.x.1", "_INBOX.x.1"])
    t.false(
      web?.subscribe.some((s) => subjectCovers(s, other)),
      other,
    );
  t.false(json.client?.subscribe.some((s) => subjectCovers(s, "_INBOX_troupe-client-web.x.1")));
  const host = permissionsFor("host", scope);
  t.true(host.publish.some((s) => subjectCovers(s, "_INBOX_troupe-client-batch-1.x.1")));
  const text = renderAuthorization(scope);
  t.true(text.includes('user: "troupe-client-web"'));
  t.true(text.includes("password: $TROUPE_NATS_CLIENT_WEB_PASSWORD"));
  t.true(text.includes("password: $TROUPE_NATS_CLIENT_BATCH_1_PASSWORD"));
  t.is(
    renderAuthorization({ prefix: "shop", types: ["Cart"] }),
    renderAuthorization({ ...scope, clients: [] }),
  );
});

test("auth gen - the control plane only reaches its own buckets", (t) => {
  const p = permissionsFor("control-plane", { prefix: "shop" });
  const subjects = new Subjects("shop");
  t.true(p.publish.includes(`$KV.${subjects.throttlePoliciesBucket()}.>`));
  t.false(
    p.publish.some((s) => s.startsWith("shop.")),
    JSON.stringify(p.publish),
  );
});

test("auth gen - the config block names one user per component with a password variable, never a password", (t) => {
  const text = renderAuthorization({ prefix: "shop" });
  for (const c of ["host", "client", "gateway", "control-plane"] as const) {
    t.true(text.includes(`user: "${natsUser(c)}"`));
    t.true(text.includes(`password: $${passwordVariable(c)}`));
  }
  t.is(passwordVariable("control-plane"), "TROUPE_NATS_CONTROL_PLANE_PASSWORD");
  t.deepEqual(Object.keys(permissionsJson({ prefix: "shop" })), [
    "host",
    "client",
    "gateway",
    "control-plane",
  ]);
});

test("auth gen - a wrong invocation exits 2 with a one-line reason and the usage", async (t) => {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    t.is(await authCommand(["nope"]), 2);
    t.is(await authCommand(["gen", "--types", "Bad.Type"]), 2);
    t.is(await authCommand(["gen", "--prefix", "bad prefix"]), 2);
    t.is(await authCommand(["gen", "--unknown"]), 2);
    t.is(await authCommand(["gen", "--clients", "Web"]), 2);
    t.is(await authCommand(["gen", "--clients", "web,web"]), 2);
    t.is(await authCommand(["gen", "--devices", "#"]), 2);
  } finally {
    process.stderr.write = write;
  }
  t.regex(written[0] ?? "", /^troupe auth: unknown subcommand "nope"\n\nUsage: troupe auth gen/);
  t.regex(written[1] ?? "", /^troupe auth: actor type "Bad.Type"/);
  t.regex(written[2] ?? "", /^troupe auth: subject prefix "bad prefix"/);
  t.regex(written[3] ?? "", /^troupe auth: Unknown option '--unknown'/);
  t.regex(written[4] ?? "", /^troupe auth: client name "Web"/);
  t.regex(written[5] ?? "", /^troupe auth: --clients names a client twice/);
  t.regex(written[6] ?? "", /^troupe auth: MQTT topic filter "#"/);
  t.false(written.join("").includes("    at "), "no stack trace");
});

test("auth gen - --devices adds the MQTT device user, confined to its topics; hosts may consume the devices stream and publish to devices", (t) => {
  const scope = { prefix: "shop", devices: ["meters/#", "pumps/+/state"] };
  const json = permissionsJson(scope);
  t.deepEqual(Object.keys(json), ["host", "client", "gateway", "control-plane", "device"]);
  const device = json.device as { user: string; publish: string[]; subscribe: string[] };
  t.is(device.user, DEVICE_USER);
  t.deepEqual(device.publish, ["meters.>", "pumps.*.state"]);
  t.deepEqual(device.subscribe, ["$MQTT.sub.>", "meters.>", "pumps.*.state"]);
  t.true(renderAuthorization(scope).includes(`password: $${passwordVariable("device")}`));
  const host = permissionsFor("host", scope);
  for (const s of [
    "meters.m-1.commands",
    "$MQTT.msgs.meters.m-1.commands",
    "$JS.API.CONSUMER.CREATE.shop_devices.x.y",
  ])
    t.true(
      host.publish.some((p) => subjectCovers(p, s)),
      s,
    );
  t.true(host.subscribe.some((p) => subjectCovers(p, "pumps.p-1.state")));
  // Without --devices: the devices stream (durable MQTT subscribers), no device topics, no device user.
  const plain = permissionsFor("host", { prefix: "shop" });
  t.true(plain.publish.some((p) => subjectCovers(p, "$JS.API.CONSUMER.MSG.NEXT.shop_devices.c")));
  t.false(plain.publish.some((p) => p.startsWith("$MQTT.")));
  t.false("device" in permissionsJson({ prefix: "shop" }));
  // Nobody else gets device topics.
  for (const c of ["client", "gateway", "control-plane"] as const)
    t.false(
      permissionsFor(c, scope).publish.some((p) => subjectCovers(p, "meters.m-1.commands")),
      c,
    );
});
