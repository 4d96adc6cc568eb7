/**
 * The three device lists of an edge site cannot drift silently: the hub copies the edge's whole
 * devices stream, so `edgeLink({ devices })` checks its list against what that stream stores
 * (through `$JS.<domain>.API`) and refuses a difference with a ConfigurationError naming it,
 * before changing anything; `edgeLinkStatus` reports one that appears later (an edge host
 * subscribing to another topic). With the link down the check cannot run: the link is made and a
 * warning says so. Given the edge server's monitoring URL, `edgeSite` checks the leaf remote's deny
 * lists the same way (`/varz`). Hub + edge nats-servers on loopback; no MQTT client is needed (the devices
 * stream is plain JetStream).
 */
import test from "ava";
import { ConfigurationError, connect, edgeLink, edgeLinkStatus, edgeSite } from "troupe";
import { startEdgeSite } from "troupe/testing";
import { edgeCommand } from "../../runtime/cli/edge.js";
import { deviceTopicsDifference } from "../../runtime/edge/device-check.js";
import { notDenied } from "../../runtime/edge/leaf-check.js";
import { ensureDeviceStream } from "../../runtime/pubsub/index.js";
import { describeStream } from "../../runtime/transport/index.js";
import { recordingLogger } from "../helpers/logger.js";
import { TEST_CALL_TIMEOUT_MS } from "../helpers/mesh.js";

const TELEMETRY = "plant/+/telemetry";
const ALARMS = "plant/+/alarms";

test("edge sites - device lists: the difference is named in subjects, both ways", (t) => {
  t.is(deviceTopicsDifference(["plant.*.telemetry"], [TELEMETRY]), undefined);
  const d = deviceTopicsDifference(["plant.*.telemetry", "plant.*.alarms"], [TELEMETRY, "meters/#"]);
  t.deepEqual(d?.onlyAtEdge, ["plant.*.alarms"]);
  t.deepEqual(d?.onlyAtLink, ["meters.>"]);
  t.regex(d?.message ?? "", /stores plant\.\*\.alarms, which the hub copies/);
  t.regex(d?.message ?? "", /the link lists meters\.>, which the edge does not store/);
});

test("edge sites - edgeLink refuses device topics that differ from what the edge's devices stream stores, and says which", async (t) => {
  t.timeout(120_000);
  const site = await startEdgeSite({ domain: "site-l", devices: [TELEMETRY] });
  t.teardown(() => site.cleanup());
  const log = recordingLogger();
  const hub = await connect({
    servers: site.hub.url,
    logger: log.logger,
    defaultTimeoutMs: TEST_CALL_TIMEOUT_MS,
  });
  t.teardown(() => hub.close());
  const edge = await connect({
    servers: site.edge.url,
    logger: log.logger,
    defaultTimeoutMs: TEST_CALL_TIMEOUT_MS,
  });
  t.teardown(() => edge.close());

  // edgeSite has not run at the edge with devices: nothing to source.
  await t.throwsAsync(edgeLink(hub, { domain: site.domain, devices: [TELEMETRY] }), {
    instanceOf: ConfigurationError,
    message: /has no devices stream troupe_devices: run edgeSite\(\{ devices \}\)/,
  });

  // The edge forwards alarms too; the link (and the deny list) list telemetry only.
  await edgeSite(edge, { devices: [TELEMETRY, ALARMS] });
  const err = await t.throwsAsync(edgeLink(hub, { domain: site.domain, devices: [TELEMETRY] }), {
    instanceOf: ConfigurationError,
  });
  t.regex(err?.message ?? "", /edge site site-l differ: the edge's devices stream stores plant\.\*\.alarms/);
  t.is(err?.details.onlyAtEdge, "plant.*.alarms");
  t.is(await describeStream(hub.transport, "troupe_devices"), null, "refused before changing anything");
  await t.throwsAsync(edgeLink(hub, { domain: site.domain, devices: [TELEMETRY, ALARMS, "plant/+/extra"] }), {
    instanceOf: ConfigurationError,
    message: /the link lists plant\.\*\.extra, which the edge does not store/,
  });

  // The same lists: linked.
  const linked = await edgeLink(hub, { domain: site.domain, events: false, devices: [TELEMETRY, ALARMS] });
  t.deepEqual(
    linked.map((r) => [r.stream, r.added]),
    [["troupe_devices", true]],
  );
  // An edge host that subscribes to another topic later adds it to the edge's stream: the status says so.
  await ensureDeviceStream(edge, ["plant/+/state"]);
  const [row] = await edgeLinkStatus(hub, {
    domain: site.domain,
    events: false,
    devices: [TELEMETRY, ALARMS],
  });
  t.regex(row?.error ?? "", /stores plant\.\*\.state, which the hub copies/);

  // With the link down the edge cannot be asked: linked anyway (sourcing waits), with a warning.
  site.link.cut();
  await site.waitForLink(false);
  await edgeLink(hub, { domain: site.domain, events: false, devices: [TELEMETRY] });
  t.true(log.at("warn").some((e) => /device topics were not checked/.test(e.msg)));
});

test("edge sites - with the server's monitoring URL, edgeSite refuses a leaf remote whose deny list misses a device topic the edge forwards", async (t) => {
  t.timeout(120_000);
  const site = await startEdgeSite({ domain: "site-v", devices: [TELEMETRY] });
  t.teardown(() => site.cleanup());
  const edge = await connect({ servers: site.edge.url, logger: recordingLogger().logger });
  t.teardown(() => edge.close());
  const monitorUrl = site.edge.monitorUrl;
  await edgeSite(edge, { devices: [TELEMETRY], monitorUrl }); // the kit's deny list lists it
  // Alarms are forwarded too (the edge's devices stream stores them) but the deny list lacks them.
  const err = await t.throwsAsync(edgeSite(edge, { devices: [TELEMETRY, ALARMS], monitorUrl }), {
    instanceOf: ConfigurationError,
  });
  t.regex(err?.message ?? "", /does not deny plant\.\*\.alarms in both deny_imports and deny_exports/);
  t.is(err?.details.missing, "plant.*.alarms");
  // The same from the command line (`troupe edge site --monitor-url`).
  const io = { out: () => undefined, err: () => undefined };
  await t.throwsAsync(
    edgeCommand(["site", "--devices", `${TELEMETRY},${ALARMS}`, "--monitor-url", monitorUrl], edge, io),
    { instanceOf: ConfigurationError, message: /does not deny plant\.\*\.alarms/ },
  );
  // The hub is no leaf: nothing to check there.
  const hub = await connect({ servers: site.hub.url, logger: recordingLogger().logger });
  t.teardown(() => hub.close());
  await t.throwsAsync(edgeSite(hub, { monitorUrl: site.hub.monitorUrl }), {
    instanceOf: ConfigurationError,
    message: /has no leaf remote/,
  });
});

test("edge sites - deny-list coverage follows NATS wildcards", (t) => {
  t.deepEqual(notDenied(["troupe.>", "$MQTT.rmsgs", "plant.*.telemetry"], ["troupe.>", "plant.>"]), [
    "$MQTT.rmsgs",
  ]);
  t.deepEqual(notDenied(["plant.>"], ["plant.*"]), ["plant.>"]);
  t.deepEqual(notDenied(["a.b"], undefined), ["a.b"]);
});
