import test from "ava";
import { consoleLogger } from "troupe";
import { buildGateway, credentials } from "../../services/gateway/index.js";
import { startMesh } from "../helpers/mesh.js";
import { KEYS } from "./helpers.js";

test("cors - a configured origin gets CORS headers on preflight and responses; others get none", async (t) => {
  const { mesh } = await startMesh(t);
  const { app } = await buildGateway({
    mesh,
    auth: credentials({ apiKeys: KEYS }),
    cors: { origins: ["https://shop.example"] },
    logger: consoleLogger("silent"),
  });
  t.teardown(() => app.close());
  const preflight = await app.inject({
    method: "OPTIONS",
    url: "/v1/actors/Greeter/g1/hello",
    headers: {
      origin: "https://shop.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type",
    },
  });
  t.true(preflight.statusCode < 300, preflight.body);
  t.is(preflight.headers["access-control-allow-origin"], "https://shop.example");
  t.regex(String(preflight.headers["access-control-allow-headers"]), /authorization/);
  const health = await app.inject({
    method: "GET",
    url: "/healthz",
    headers: { origin: "https://shop.example" },
  });
  t.is(health.headers["access-control-allow-origin"], "https://shop.example");
  t.regex(String(health.headers["access-control-expose-headers"]), /x-request-id/);
  const other = await app.inject({
    method: "GET",
    url: "/healthz",
    headers: { origin: "https://evil.example" },
  });
  t.is(other.headers["access-control-allow-origin"], undefined);
});

test("readiness - a closing gateway answers /readyz with 503 while in-flight requests finish", async (t) => {
  const { mesh } = await startMesh(t);
  const { app, stop } = await buildGateway({
    mesh,
    auth: credentials({ apiKeys: KEYS }),
    logger: consoleLogger("silent"),
  });
  t.teardown(() => app.close());
  t.is((await app.inject({ method: "GET", url: "/readyz" })).statusCode, 200);
  stop();
  const res = await app.inject({ method: "GET", url: "/readyz" });
  t.is(res.statusCode, 503);
  t.is(res.json().code, "GATEWAY_UNAVAILABLE");
  t.is((await app.inject({ method: "GET", url: "/healthz" })).statusCode, 200);
  const call = await app.inject({ method: "POST", url: "/v1/actors/Greeter/g1/hello" });
  t.is(call.statusCode, 503, "new requests are turned away with a problem, before authentication");
  t.is(call.json().code, "GATEWAY_UNAVAILABLE");
  t.truthy(call.headers["retry-after"]);
});
