/**
 * `troupe dev --leaf <hub>`: the dev mesh's own nats-server becomes an edge site of a hub, with MQTT
 * on; with the hub's domain (TROUPE_HUB_DOMAIN here) the hub's events come back to it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import test from "ava";
import mqtt from "mqtt";
import { connect, consoleLogger } from "troupe";
import { reservePorts, startNatsServer } from "troupe/testing";
import { parseCommandArgs, UsageError } from "../../runtime/cli/args.js";
import { DEV_FLAGS, dev, devOptionsFrom } from "../../runtime/cli/dev.js";
import { edgeCommand } from "../../runtime/cli/edge.js";
import { jetStreamQueues } from "../../runtime/transport/index.js";
import { eventually } from "../helpers/mesh.js";

test("troupe dev --leaf - a local edge site of the hub, with its MQTT port printed; its events reach the hub, the hub's reach it", async (t) => {
  const [leafPort] = await reservePorts(1);
  const hub = await startNatsServer({
    serverName: "hub",
    jetstreamDomain: "hub",
    leafnodes: { port: leafPort },
  });
  t.teardown(() => hub.cleanup());
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-dev-leaf-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  delete process.env.NATS_URL;
  process.env.TROUPE_DEV_DIR = dir;
  process.env.TROUPE_HUB_DOMAIN = "hub";
  t.teardown(() => {
    delete process.env.TROUPE_HUB_DOMAIN;
  });

  const lines: string[] = [];
  let stop!: () => void;
  const until = new Promise<void>((r) => {
    stop = r;
  });
  const running = dev({
    entry: "test/edge/fixtures/dev-entry.ts",
    leaf: `nats-leaf://127.0.0.1:${leafPort}`,
    domain: "devsite",
    devices: ["kiosk/+/telemetry"],
    gatewayPort: 0,
    until,
    out: (l) => lines.push(l),
  });
  t.teardown(async () => {
    stop();
    await running.catch(() => undefined);
  });
  await eventually(() => lines.some((l) => l.includes("dev mesh ready on")), 120_000, "the dev mesh");
  delete process.env.TROUPE_HUB_DOMAIN;
  t.true(
    lines.some((l) => l.includes('come back from its domain "hub"')),
    lines.join("\n"),
  );
  const mqttLine = lines.find((l) => l.includes("MQTT listener on")) as string;
  const mqttPort = Number(/mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(mqttLine)?.[1]);
  t.not(mqttPort, 1883);
  t.true(
    lines.some(
      (l) =>
        l.includes('JetStream domain "devsite"') &&
        l.includes("troupe edge link devsite --devices kiosk/+/telemetry"),
    ),
    lines.join("\n"),
  );
  const devUrl = /dev mesh ready on (\S+)/.exec(
    lines.find((l) => l.includes("dev mesh ready on")) as string,
  )?.[1];

  const logger = consoleLogger("silent");
  const hubMesh = await connect({ servers: hub.url, logger });
  t.teardown(() => hubMesh.close());
  const cli: string[] = [];
  const io = { out: (l: string) => cli.push(l), err: (l: string) => cli.push(l) };
  t.is(await edgeCommand(["link", "devsite", "--devices", "kiosk/+/telemetry"], hubMesh, io), 0);
  t.regex(cli.join("\n"), /troupe_events\s+\d+\s+linked now/);
  t.regex(cli.join("\n"), /troupe_devices\s+\d+\s+linked now/);
  const edgeMesh = await connect({ servers: devUrl, logger });
  t.teardown(() => edgeMesh.close());
  await edgeMesh.publish("kiosk.opened", { at: 1 }, { msgId: "k1" });

  // A device on the printed MQTT port can connect to the dev server.
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: "kiosk-1",
    reconnectPeriod: 0,
  });
  t.teardown(() => device.endAsync(true));
  t.true(device.connected);
  // What it publishes on a forwarded topic reaches the hub's devices stream by sourcing.
  await device.publishAsync("kiosk/kiosk-1/telemetry", JSON.stringify({ open: true }), { qos: 1 });
  await eventually(
    async () =>
      (await jetStreamQueues(hubMesh.transport).lastBySubject(
        "troupe_devices",
        "kiosk.kiosk-1.telemetry",
        false,
      )) !== null,
    60_000,
    "the kiosk's reading at the hub",
  );

  await eventually(
    async () =>
      ((await jetStreamQueues(hubMesh.transport).streamCounts("troupe_events"))?.messages ?? 0) === 1,
    60_000,
    "the edge's event at the hub",
  );
  cli.length = 0;
  await eventually(
    async () =>
      (await edgeCommand(["status", "devsite"], hubMesh, io)) === 0 &&
      /troupe_events\s+0\s+linked$/m.test(cli.splice(0).join("\n")),
    60_000,
    "troupe edge status to show the link with no lag",
  );
  t.is(await edgeCommand(["nonsense"], hubMesh, io), 2);

  // The dev mesh ran edgeSite with the hub's domain: an event published at the hub is copied here.
  await hubMesh.publish("menu.changed", { at: 2 });
  await eventually(
    async () =>
      (await jetStreamQueues(edgeMesh.transport).lastBySubject(
        "troupe_hub_events",
        "troupe.evt.menu.changed",
        false,
      )) !== null,
    60_000,
    "the hub's event at the edge",
  );
  // `troupe edge site` at the edge: idempotent, and --hub-events needs the hub's domain.
  cli.length = 0;
  t.is(await edgeCommand(["site", "--hub-domain", "hub", "--hub-events", "all"], edgeMesh, io), 0);
  t.regex(cli.join("\n"), /edge site ready: .*results and hub events come back from domain "hub"/);
  cli.length = 0;
  t.is(await edgeCommand(["site", "--devices", "kiosk/+/telemetry"], edgeMesh, io), 0);
  t.regex(cli.join("\n"), /devices on kiosk\/\+\/telemetry kept for the hub/);
  t.is(await edgeCommand(["site", "--hub-events", "all"], edgeMesh, io), 2);
});

test("troupe dev --hub-domain - taken with --leaf, refused without it", (t) => {
  const parse = (argv: string[]) => {
    const { values, positionals } = parseCommandArgs(argv, DEV_FLAGS, { max: 1 });
    return devOptionsFrom(values, positionals);
  };
  t.like(parse(["--leaf", "nats-leaf://hub:7422", "--domain", "s1", "--hub-domain", "hub"]), {
    leaf: "nats-leaf://hub:7422",
    domain: "s1",
    hubDomain: "hub",
  });
  t.like(parse(["--leaf", "nats-leaf://hub:7422", "--devices", "a/+/b,c/#"]), {
    devices: ["a/+/b", "c/#"],
  });
  t.throws(() => parse(["--devices", "a/b"]), { instanceOf: UsageError, message: /--devices needs --leaf/ });
  t.throws(() => parse(["--hub-domain", "hub"]), {
    instanceOf: UsageError,
    message: /--hub-domain needs --leaf/,
  });
});
