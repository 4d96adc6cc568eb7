import { createServer } from "node:http";
import test from "ava";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { Actor, consoleLogger, subscribe } from "troupe";
import { ConfigurationError } from "../../runtime/errors.js";
import {
  ApiKeys,
  authenticate,
  buildGateway,
  credentials,
  JwtVerifier,
  requestId,
  startGateway,
  tenantRouter,
} from "../../services/gateway/index.js";
import { eventually, startMesh } from "../helpers/mesh.js";
import { Greeter } from "./fixtures/actors.js";
import { AUTH, http, KEY, OTHER_KEY, startGatewayFixture } from "./helpers.js";

const SECRET = new TextEncoder().encode("a-shared-secret-of-at-least-32-bytes!!");

test("auth - missing, unknown and malformed credentials are 401 problems with WWW-Authenticate", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const path = "/v1/actors/Greeter/g1/hello";
  const refused: Record<string, string>[] = [
    {},
    { authorization: "ApiKey wrong-key-0123456789abcdef" },
    { "x-api-key": "nope" },
    { authorization: "Basic dXNlcjpwYXNz" },
    { authorization: "Bearer not.a.jwt" },
  ];
  for (const headers of refused) {
    const res = await http(gatewayUrl, "POST", path, { body: ["x"], headers });
    t.is(res.status, 401, JSON.stringify(headers));
    t.is(res.json.code, "GATEWAY_UNAUTHENTICATED");
    t.truthy(res.headers.get("www-authenticate"));
  }
  t.is(
    (await http(gatewayUrl, "POST", path, { body: ["x"], headers: { "x-api-key": OTHER_KEY } })).status,
    200,
  );
  t.is((await http(gatewayUrl, "POST", path, { body: ["x"], headers: AUTH })).status, 200);
});

test("auth - JWT bearer tokens with a shared secret: subject becomes the principal; expired and foreign tokens are refused", async (t) => {
  const { mesh, connectAnother } = await startMesh(t);
  const host = await mesh.host([Greeter]);
  t.teardown(() => host.drain());
  const seen: string[] = [];
  const auth = credentials({ jwt: new JwtVerifier({ secret: SECRET, issuer: "https://issuer.test" }) });
  const gateway = await startGateway({
    mesh: await connectAnother(),
    auth,
    port: 0,
    logger: consoleLogger("silent"),
    middleware: [
      authenticate(auth),
      {
        name: "spy",
        register(app) {
          app.addHook("preHandler", async (req) => {
            seen.push(req.principal?.id ?? "-");
          });
        },
      },
    ],
  });
  t.teardown(() => gateway.close());
  const sign = (claims: { sub?: string; iss?: string; exp?: number | string }, key = SECRET) => {
    let jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" });
    if (claims.sub) jwt = jwt.setSubject(claims.sub);
    if (claims.iss) jwt = jwt.setIssuer(claims.iss);
    jwt = jwt.setExpirationTime(claims.exp ?? "5m");
    return jwt.sign(key);
  };
  const call = async (token: string) =>
    http(gateway.url, "POST", "/v1/actors/Greeter/g1/hello", {
      body: ["x"],
      headers: { authorization: `Bearer ${token}` },
    });
  t.is((await call(await sign({ sub: "carol", iss: "https://issuer.test" }))).status, 200);
  t.deepEqual(seen, ["carol"]);
  const expired = await call(
    await sign({ sub: "carol", iss: "https://issuer.test", exp: Math.floor(Date.now() / 1000) - 600 }),
  );
  t.is(expired.status, 401);
  t.is((await call(await sign({ sub: "carol", iss: "https://other.test" }))).status, 401);
  t.is((await call(await sign({ iss: "https://issuer.test" }))).status, 401, "no subject");
  const foreign = new TextEncoder().encode("another-secret-that-is-also-32-bytes-long");
  t.is((await call(await sign({ sub: "carol", iss: "https://issuer.test" }, foreign))).status, 401);
});

test("auth - JWT bearer tokens verified against a JWKS URL", async (t) => {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
  const jwks = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
  t.teardown(() => new Promise<void>((r) => jwks.close(() => r())));
  const address = jwks.address();
  const port = address && typeof address === "object" ? address.port : 0;
  const { gatewayUrl } = await startGatewayFixture(t, {
    middleware: () => [
      requestId(),
      authenticate(credentials({ jwt: new JwtVerifier({ jwksUrl: `http://127.0.0.1:${port}/jwks.json` }) })),
    ],
  });
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setSubject("dave")
    .setExpirationTime("5m")
    .sign(privateKey);
  const ok = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", {
    body: ["x"],
    headers: { authorization: `Bearer ${token}` },
  });
  t.is(ok.status, 200, ok.text);
  const hmac = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("dave")
    .setExpirationTime("5m")
    .sign(SECRET);
  t.is(
    (
      await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", {
        body: ["x"],
        headers: { authorization: `Bearer ${hmac}` },
      })
    ).status,
    401,
    "an HMAC token is not accepted where keys are asymmetric",
  );
});

test("auth - a gateway without an authentication step refuses to start", async (t) => {
  const { mesh } = await startMesh(t);
  await t.throwsAsync(
    buildGateway({
      mesh,
      auth: credentials({ apiKeys: ApiKeys.parse(`a ${KEY}`) }),
      middleware: [requestId()],
      logger: consoleLogger("silent"),
    }),
    { instanceOf: ConfigurationError },
  );
  t.throws(() => ApiKeys.parse("alice short"), { instanceOf: ConfigurationError });
  t.throws(() => new JwtVerifier({ secret: new TextEncoder().encode("short") }), {
    instanceOf: ConfigurationError,
  });
});

test("middleware - runs in the order given; a tenant router forbids tenants a principal may not act for", async (t) => {
  const order: string[] = [];
  const mark = (name: string) => ({
    name,
    register(app: import("fastify").FastifyInstance) {
      app.addHook("onRequest", async () => {
        order.push(name);
      });
    },
  });
  const { gatewayUrl, mesh } = await startGatewayFixture(t, {
    middleware: ({ auth }) => [
      mark("third"),
      mark("first"),
      authenticate(auth),
      mark("second"),
      tenantRouter({ allowed: { alice: ["acme"] } }),
    ],
  });
  const ok = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", {
    body: ["x"],
    headers: { ...AUTH, "x-tenant": "acme" },
  });
  t.is(ok.status, 200, ok.text);
  t.deepEqual(order, ["third", "first", "second"]);
  const other = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", {
    body: ["x"],
    headers: { ...AUTH, "x-tenant": "globex" },
  });
  t.is(other.status, 403);
  t.is(other.json.code, "GATEWAY_FORBIDDEN");
  const bob = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", {
    body: ["x"],
    headers: { "x-api-key": OTHER_KEY, "x-tenant": "acme" },
  });
  t.is(bob.status, 403);
  const none = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", { body: ["x"], headers: AUTH });
  t.is(none.status, 400);
  t.truthy(mesh);
});

test("auth - the principal is the caller of the request's mesh calls", async (t) => {
  const { gatewayUrl, gatewayMesh } = await startGatewayFixture(t);
  const callers: (string | undefined)[] = [];
  const callByName = gatewayMesh.callByName.bind(gatewayMesh);
  gatewayMesh.callByName = (type, id, method, args, options = {}) => {
    callers.push(options.caller);
    return callByName(type, id, method, args, options);
  };
  await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", { body: ["x"], headers: AUTH });
  await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", {
    body: ["x"],
    headers: { "x-api-key": OTHER_KEY },
  });
  t.deepEqual(callers, ["alice", "bob"]);
});

class Inbox extends Actor {
  static options = { shards: 2 };
  async note(_text: string): Promise<string> {
    return "noted";
  }
  @subscribe("gw-caller.*")
  async onEvent(_event: unknown): Promise<void> {}
}

test("auth - the principal reaches job handlers and event subscribers as their caller, not only calls", async (t) => {
  const fixture = await startGatewayFixture(t, { host: false });
  const seen: { kind: string; method: string; caller: string | undefined }[] = [];
  const host = await fixture.mesh.host([Inbox], {
    interceptors: [
      (ctx, next) => {
        seen.push({ kind: ctx.kind, method: ctx.method, caller: ctx.caller });
        return next();
      },
    ],
  });
  t.teardown(() => host.drain());
  const job = await http(fixture.gatewayUrl, "POST", "/v1/jobs/Inbox/i1/note", {
    body: ["hi"],
    headers: AUTH,
  });
  t.is(job.status, 202, job.text);
  const published = await http(fixture.gatewayUrl, "POST", "/v1/events/gw-caller.created", {
    body: { n: 1 },
    headers: { "x-api-key": OTHER_KEY },
  });
  t.is(published.status, 202, published.text);
  await eventually(
    () => seen.some((s) => s.kind === "job") && seen.some((s) => s.kind === "event"),
    30_000,
    "the job's and the event's turns",
  );
  t.deepEqual(
    seen.filter((s) => s.kind === "job").map((s) => s.caller),
    ["alice"],
    "the job handler sees the API key's principal",
  );
  t.deepEqual(
    seen.filter((s) => s.kind === "event").map((s) => s.caller),
    ["bob"],
    "the event subscriber sees the publisher's principal",
  );
});
