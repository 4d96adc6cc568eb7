/**
 * KEDA's own listener: `--scaler-port` serves externalscaler.ExternalScaler and health under mutual
 * TLS (KEDA cannot send a bearer token), and nothing else; the main port keeps its token.
 */
import {
  type ClientReadableStream,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import test, { type ExecutionContext } from "ava";
import { service as healthService } from "grpc-health-check";
import { ConfigurationError } from "../../runtime/errors.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { startControlPlane } from "../../services/control-plane/index.js";
import { groupPolicy } from "../../services/control-plane/scaling/index.js";
import { makePki, startPlane, TOKEN, unary, waitFor } from "../control-plane/helpers.js";
import { recordingLogger } from "../helpers/logger.js";
import { startServer } from "../helpers/nats.js";
import { kedaCall, kedaClient, pollUntil } from "./keda-client.js";

const ref = (group: string) => ({ name: group, namespace: "troupe", scalerMetadata: { group } });

async function mtlsPlane(t: ExecutionContext) {
  const pki = makePki(t);
  const { plane } = await startPlane(t, {
    scaling: { groups: [groupPolicy({ group: "orders", minHosts: 1, maxHosts: 4 })] },
    scaler: { port: 0, tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca } },
  });
  t.truthy(plane.scalerPort);
  t.not(plane.scalerPort, plane.port);
  // The server certificate names localhost and 127.0.0.1.
  return { pki, plane, scalerAddress: `localhost:${plane.scalerPort}` };
}

test("keda mtls - with KEDA's client certificate and no token, all four methods answer on the scaler port", async (t) => {
  const { pki, scalerAddress } = await mtlsPlane(t);
  const client = kedaClient(scalerAddress, credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert));
  t.teardown(() => client.close());

  const spec = await kedaCall<{ metricSpecs: { metricName: string; targetSizeFloat: number }[] }>(
    client,
    "GetMetricSpec",
    ref("orders"),
  );
  t.deepEqual(
    spec.metricSpecs.map((m) => [m.metricName, m.targetSizeFloat]),
    [["troupe-hosts-orders", 1]],
  );
  // An idle group with min 1: active, one host (after the monitor's first round).
  const active = await pollUntil(
    () => kedaCall<{ result: boolean }>(client, "IsActive", ref("orders")),
    (r) => r.result,
  );
  t.true(active.result);
  const metrics = await kedaCall<{ metricValues: { metricName: string; metricValueFloat: number }[] }>(
    client,
    "GetMetrics",
    { scaledObjectRef: ref("orders"), metricName: "s0-troupe-hosts-orders" },
  );
  t.deepEqual(
    metrics.metricValues.map((m) => [m.metricName, m.metricValueFloat]),
    [["s0-troupe-hosts-orders", 1]],
  );
  const seen: boolean[] = [];
  const stream = (
    client.StreamIsActive as (r: unknown, m: Metadata) => ClientReadableStream<{ result: boolean }>
  ).call(client, ref("orders"), new Metadata());
  t.teardown(() => stream.cancel());
  stream.on("data", (m: { result: boolean }) => seen.push(m.result));
  stream.on("error", () => {});
  await waitFor(() => seen.length >= 1, 30_000, "the stream's first message");
  t.true(seen[0]);
  // Bad metadata is still the scaler's own answer, not an authentication refusal.
  const bad = (await t.throwsAsync(kedaCall(client, "IsActive", ref("nobody")))) as unknown as ServiceError;
  t.is(bad.code, status.NOT_FOUND);
});

test("keda mtls - without a client certificate, or with one from another CA, the handshake is refused", async (t) => {
  const { pki, scalerAddress } = await mtlsPlane(t);
  for (const [what, creds] of [
    ["no client certificate", credentials.createSsl(pki.ca)],
    ["another CA's certificate", credentials.createSsl(pki.ca, pki.rogueKey, pki.rogueCert)],
  ] as const) {
    const client = kedaClient(scalerAddress, creds);
    // A bearer token does not stand in for the certificate there.
    const md = new Metadata();
    md.set("authorization", `Bearer ${TOKEN}`);
    const err = (await t.throwsAsync(
      kedaCall(client, "GetMetricSpec", ref("orders"), md),
    )) as unknown as ServiceError;
    client.close();
    t.is(err.code, status.UNAVAILABLE, `${what}: ${err.details}`);
  }
  const plaintext = kedaClient(scalerAddress);
  const err = (await t.throwsAsync(
    kedaCall(plaintext, "GetMetricSpec", ref("orders")),
  )) as unknown as ServiceError;
  plaintext.close();
  t.is(err.code, status.UNAVAILABLE, `plaintext: ${err.details}`);
});

test("keda mtls - the scaler port serves neither the throttle API nor the host channel, and health says so; the main port still wants a token", async (t) => {
  const { pki, plane } = await mtlsPlane(t);
  const connection = connectControlPlane({
    address: `localhost:${plane.scalerPort}`,
    tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
    token: TOKEN,
  });
  t.teardown(() => connection.close());
  const throttle = (await t.throwsAsync(
    unary(connection.throttle.ListPolicies.bind(connection.throttle), {}, connection.metadata()),
  )) as unknown as ServiceError;
  t.is(throttle.code, status.UNIMPLEMENTED, throttle.details);
  const channel = connection.hostChannel.Connect(connection.metadata());
  const channelErr = await new Promise<ServiceError>((resolve) => channel.on("error", resolve));
  t.is(channelErr.code, status.UNIMPLEMENTED, channelErr.details);
  const scaling = (await t.throwsAsync(
    unary(connection.scaling.ListDecisions.bind(connection.scaling), {}, connection.metadata()),
  )) as unknown as ServiceError;
  t.is(scaling.code, status.UNIMPLEMENTED, scaling.details);

  const Health = makeGenericClientConstructor(healthService, "Health");
  const health = new Health(
    `localhost:${plane.scalerPort}`,
    credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert),
  ) as unknown as {
    Check(req: { service: string }, cb: (err: ServiceError | null, res?: { status: unknown }) => void): void;
    close(): void;
  };
  t.teardown(() => health.close());
  const check = (service: string) =>
    new Promise<{ status: unknown }>((resolve, reject) =>
      health.Check({ service }, (err, res) => (err ? reject(err) : resolve(res ?? { status: undefined }))),
    );
  for (const service of ["", "externalscaler.ExternalScaler"]) {
    const answer = await check(service);
    t.true(answer.status === "SERVING" || answer.status === 1, `health of "${service}"`);
  }
  const unknown = (await t.throwsAsync(check("troupe.v1.ThrottleService"))) as unknown as ServiceError;
  t.is(unknown.code, status.NOT_FOUND);

  // The main port is unchanged: KEDA's calls there still need the token.
  const main = kedaClient(plane.address);
  t.teardown(() => main.close());
  const anon = (await t.throwsAsync(kedaCall(main, "IsActive", ref("orders")))) as unknown as ServiceError;
  t.is(anon.code, status.UNAUTHENTICATED);
});

test("keda mtls - stop() closes the scaler listener with the main one", async (t) => {
  const { pki, plane, scalerAddress } = await mtlsPlane(t);
  const creds = () => credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert);
  const before = kedaClient(scalerAddress, creds());
  await kedaCall(before, "GetMetricSpec", ref("orders"));
  before.close();
  await plane.stop();
  for (const client of [kedaClient(scalerAddress, creds()), kedaClient(plane.address)]) {
    const err = (await t.throwsAsync(
      kedaCall(client, "GetMetricSpec", ref("orders")),
    )) as unknown as ServiceError;
    client.close();
    t.is(err.code, status.UNAVAILABLE);
  }
});

test("keda mtls - the scaler port refuses to start without its client CA, certificate or key (unless insecure)", async (t) => {
  const pki = makePki(t);
  const server = await startServer(t, { jetstream: true });
  const { logger, at } = recordingLogger();
  const base = { port: 0, bind: "127.0.0.1", nats: { servers: server.url }, tokens: [TOKEN], logger };
  for (const tls of [
    { cert: pki.serverCert, key: pki.serverKey },
    { ca: pki.ca },
    { cert: pki.serverCert, ca: pki.ca },
  ]) {
    await t.throwsAsync(startControlPlane({ ...base, scaler: { port: 0, tls } }), {
      instanceOf: ConfigurationError,
      message: /scaler port serves KEDA over mutual TLS only/,
    });
  }
  const insecure = await startControlPlane({
    ...base,
    tokens: [],
    insecure: true,
    scaler: { port: 0 },
    scaling: { groups: [groupPolicy({ group: "orders" })] },
  });
  t.teardown(() => insecure.stop());
  t.true(
    at("error").some((e) => /INSECURE MODE on the scaler port/.test(e.msg)),
    "an insecure scaler port is logged as an error",
  );
  const client = kedaClient(`127.0.0.1:${insecure.scalerPort}`);
  t.teardown(() => client.close());
  const spec = await kedaCall<{ metricSpecs: unknown[] }>(client, "GetMetricSpec", ref("orders"));
  t.is(spec.metricSpecs.length, 1);
});
