import { createRequire } from "node:module";
import { credentials, loadPackageDefinition, Metadata, makeGenericClientConstructor } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import test from "ava";
import { service as healthService } from "grpc-health-check";
import { ConfigurationError } from "../../runtime/errors.js";
import type { ThrottlePolicy, ThrottlePolicy__Output } from "../../runtime/protos/index.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { startControlPlane } from "../../services/control-plane/index.js";
import { recordingLogger } from "../helpers/logger.js";
import { startServer } from "../helpers/nats.js";
import { grpcCode, makePki, startPlane, statusName, TOKEN, unary } from "./helpers.js";

const freeTier: ThrottlePolicy = {
  name: "free-tier",
  match: { callers: ["free-*"], actorTypes: ["Cart"], methods: ["get*", "add"] },
  limit: { ratePerSecond: 10, burst: 20 },
  keyBy: "KEY_BY_CALLER",
  description: "each free client: 10/s",
};

/** A client of the ThrottleService; `token: null` sends none. */
function client(address: string, token: string | null = TOKEN) {
  const connection = connectControlPlane({ address, ...(token ? { token } : {}) });
  const md = connection.metadata();
  const c = connection.throttle;
  return {
    connection,
    set: (policy: ThrottlePolicy) =>
      unary<{ policy: ThrottlePolicy }, ThrottlePolicy__Output>(c.SetPolicy.bind(c), { policy }, md),
    get: (name: string) => unary<{ name: string }, ThrottlePolicy__Output>(c.GetPolicy.bind(c), { name }, md),
    list: () =>
      unary<object, { policies: ThrottlePolicy__Output[] }>(c.ListPolicies.bind(c), {}, md).then(
        (r) => r.policies,
      ),
    remove: (name: string) => unary<{ name: string }, object>(c.DeletePolicy.bind(c), { name }, md),
  };
}

test("control plane - policies round trip: set, get, list, delete", async (t) => {
  const { plane } = await startPlane(t);
  const api = client(plane.address);
  t.teardown(() => api.connection.close());

  const saved = await api.set(freeTier);
  t.is(saved.name, "free-tier");
  t.true(saved.revision > 0);
  t.is(saved.limit?.burst, 20);
  const got = await api.get("free-tier");
  t.deepEqual(got.match?.callers, ["free-*"]);
  t.is(got.keyBy, "KEY_BY_CALLER");
  t.is(got.revision, saved.revision);

  await api.set({ name: "cart-writes", match: { methods: ["add"] }, limit: { maxConcurrency: 4 } });
  t.deepEqual(
    (await api.list()).map((p) => p.name),
    ["cart-writes", "free-tier"],
  );
  const burstFilled = await api.get("cart-writes");
  t.is(burstFilled.limit?.burst, 0, "no rate, no burst");

  await api.remove("free-tier");
  const missing = await grpcCode(t, api.get("free-tier"));
  t.is(statusName(missing.code), "NOT_FOUND");
  t.regex(missing.details, /free-tier/);
  const missingDelete = await grpcCode(t, api.remove("free-tier"));
  t.is(statusName(missingDelete.code), "NOT_FOUND");
});

test("control plane - a restarted control plane has every policy", async (t) => {
  const started = await startPlane(t);
  const api = client(started.plane.address);
  t.teardown(() => api.connection.close());
  await api.set(freeTier);
  await api.set({ name: "burst-only", limit: { ratePerSecond: 2.5 } });
  await started.plane.stop();

  const again = await started.start();
  const api2 = client(again.address);
  t.teardown(() => api2.connection.close());
  const policies = await api2.list();
  t.deepEqual(
    policies.map((p) => p.name),
    ["burst-only", "free-tier"],
  );
  t.is(policies[0]?.limit?.burst, 3, "a burst of 0 became the rate rounded up");
});

test("control plane - an invalid policy gets INVALID_ARGUMENT naming the field", async (t) => {
  const { plane } = await startPlane(t);
  const api = client(plane.address);
  t.teardown(() => api.connection.close());
  const cases: [ThrottlePolicy, string][] = [
    [{ name: "Bad Name!", limit: { ratePerSecond: 1 } }, "name"],
    [{ name: "no-limit" }, "limit"],
    [{ name: "zero", limit: {} }, "limit"],
    [{ name: "neg", limit: { ratePerSecond: -5 } }, "limit.rate_per_second"],
    [{ name: "nan", limit: { ratePerSecond: Number.NaN } }, "limit.rate_per_second"],
    [{ name: "burst-alone", limit: { burst: 5 } }, "limit.burst"],
    [{ name: "hops", match: { hops: ["call", "teleport"] }, limit: { ratePerSecond: 1 } }, "match.hops"],
    [{ name: "empty-glob", match: { methods: [""] }, limit: { ratePerSecond: 1 } }, "match.methods[0]"],
    [{ name: "desc", description: "x".repeat(2000), limit: { ratePerSecond: 1 } }, "description"],
  ];
  for (const [policy, field] of cases) {
    const err = await grpcCode(t, api.set(policy));
    t.is(statusName(err.code), "INVALID_ARGUMENT", `${policy.name}: ${err.details}`);
    t.true(err.details.includes(`${field}:`), `${policy.name}: "${err.details}" should name ${field}`);
  }
  const noPolicy = await grpcCode(
    t,
    unary(api.connection.throttle.SetPolicy.bind(api.connection.throttle), {}, api.connection.metadata()),
  );
  t.is(statusName(noPolicy.code), "INVALID_ARGUMENT");
  t.deepEqual(await api.list(), [], "nothing invalid was stored");
});

test("control plane - calls without a valid token get UNAUTHENTICATED; the server stays up", async (t) => {
  const { plane } = await startPlane(t);
  for (const token of [null, "wrong-token-0123456789abcdef", `${TOKEN}x`]) {
    const api = client(plane.address, token);
    const err = await grpcCode(t, api.list());
    t.is(statusName(err.code), "UNAUTHENTICATED", `token ${token}`);
    api.connection.close();
  }
  const raw = connectControlPlane({ address: plane.address });
  const md = new Metadata();
  md.set("authorization", `Basic ${Buffer.from("a:b").toString("base64")}`);
  const basic = await grpcCode(t, unary(raw.throttle.ListPolicies.bind(raw.throttle), {}, md));
  t.is(statusName(basic.code), "UNAUTHENTICATED");
  raw.close();

  const api = client(plane.address);
  t.teardown(() => api.connection.close());
  t.deepEqual(await api.list(), []);
});

test("control plane - refuses to start without authentication unless --insecure", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const { logger, at } = recordingLogger();
  await t.throwsAsync(
    startControlPlane({ port: 0, bind: "127.0.0.1", nats: { servers: server.url }, logger }),
    {
      instanceOf: ConfigurationError,
      message: /without authentication/,
    },
  );
  const insecure = await startControlPlane({
    port: 0,
    bind: "127.0.0.1",
    nats: { servers: server.url },
    logger,
    insecure: true,
  });
  t.teardown(() => insecure.stop());
  t.is(insecure.securityMode, "insecure");
  t.true(
    at("error").some((e) => /INSECURE/.test(e.msg)),
    "insecure mode is logged as an error",
  );
  const api = client(insecure.address, null);
  t.teardown(() => api.connection.close());
  t.deepEqual(await api.list(), []);
});

test("control plane - mutual TLS: a certificate from another CA, or none, is refused", async (t) => {
  const pki = makePki(t);
  const { plane } = await startPlane(t, {
    tokens: [],
    tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey },
  });
  t.is(plane.securityMode, "mtls");
  const attempt = async (tls: { ca: Buffer; cert?: Buffer; key?: Buffer }) => {
    const connection = connectControlPlane({ address: `localhost:${plane.port}`, tls });
    try {
      return await unary(
        connection.throttle.ListPolicies.bind(connection.throttle),
        {},
        connection.metadata(),
      );
    } finally {
      connection.close();
    }
  };
  const rogue = await grpcCode(t, attempt({ ca: pki.ca, cert: pki.rogueCert, key: pki.rogueKey }));
  t.is(statusName(rogue.code), "UNAVAILABLE", rogue.details);
  const none = await grpcCode(t, attempt({ ca: pki.ca }));
  t.is(statusName(none.code), "UNAVAILABLE", none.details);
  const ok = (await attempt({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey })) as {
    policies: unknown[];
  };
  t.deepEqual(ok.policies, []);
});

test("control plane - health answers without a token; reflection lists the services", async (t) => {
  const { plane } = await startPlane(t);
  const Health = makeGenericClientConstructor(healthService, "Health");
  const health = new Health(plane.address, credentials.createInsecure()) as unknown as {
    Check(req: { service: string }, cb: (err: Error | null, res?: { status: string | number }) => void): void;
    close(): void;
  };
  t.teardown(() => health.close());
  for (const service of ["", "troupe.v1.ThrottleService", "troupe.v1.HostChannel"]) {
    const answer = await new Promise<{ status: string | number } | undefined>((resolve, reject) =>
      health.Check({ service }, (err, res) => (err ? reject(err) : resolve(res))),
    );
    t.true(answer?.status === "SERVING" || answer?.status === 1, `health of "${service}"`);
  }

  const reflectionProto = createRequire(import.meta.url).resolve(
    "@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto",
  );
  const loaded = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (a: string, c: unknown) => ReflectionClient } } };
  };
  interface ReflectionClient {
    ServerReflectionInfo(md: Metadata): NodeJS.ReadWriteStream & { write(m: unknown): boolean };
    close(): void;
  }
  const reflection = new loaded.grpc.reflection.v1.ServerReflection(
    plane.address,
    credentials.createInsecure(),
  );
  t.teardown(() => reflection.close());
  const md = new Metadata();
  md.set("authorization", `Bearer ${TOKEN}`);
  const call = reflection.ServerReflectionInfo(md);
  const answer = new Promise<{ list_services_response?: { service: { name: string }[] } }>(
    (resolve, reject) => {
      call.on("data", resolve);
      call.on("error", reject);
    },
  );
  call.write({ list_services: "" });
  const names = (await answer).list_services_response?.service.map((s) => s.name) ?? [];
  call.end();
  t.true(names.includes("troupe.v1.ThrottleService"), names.join(", "));
  t.true(names.includes("troupe.v1.HostChannel"), names.join(", "));
});

test("control plane - its own API refuses a client over its limit with RESOURCE_EXHAUSTED and a pushback", async (t) => {
  const { plane } = await startPlane(t, { apiLimit: { ratePerSecond: 1, burst: 3 } });
  const api = client(plane.address);
  t.teardown(() => api.connection.close());
  const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => api.list()));
  const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
  t.true(
    outcomes.filter((o) => o.status === "fulfilled").length <= 4,
    "at most the burst (plus a refill) got through",
  );
  t.true(refused.length >= 2);
  const err = refused[0]?.reason as { code: number; details: string; metadata: Metadata };
  t.is(statusName(err.code), "RESOURCE_EXHAUSTED");
  t.regex(err.details, /too many control-plane calls/);
  const pushback = Number(err.metadata.get("grpc-retry-pushback-ms")[0]);
  t.true(pushback > 0 && pushback <= 1000, `pushback ${pushback} ms`);
  // Health is never limited.
  const Health = makeGenericClientConstructor(healthService, "Health");
  const health = new Health(plane.address, credentials.createInsecure()) as unknown as {
    Check(req: { service: string }, cb: (err: Error | null) => void): void;
    close(): void;
  };
  t.teardown(() => health.close());
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve, reject) =>
      health.Check({ service: "" }, (e) => (e ? reject(e) : resolve())),
    );
  }
});
