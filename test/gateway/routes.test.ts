import { Validator } from "@seriousme/openapi-schema-validator";
import test from "ava";
import { decode, encode } from "../../runtime/messaging/codec.js";
import { AUTH, http, startGatewayFixture } from "./helpers.js";

test("gateway - a POST calls the actor method with the body as its argument list", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const one = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", { body: ["ada"], headers: AUTH });
  t.is(one.status, 200, one.text);
  t.is(one.json, "hello, ada");
  t.truthy(one.headers.get("x-request-id"));
  const single = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/echo", {
    body: { nested: { ok: true } },
    headers: AUTH,
  });
  t.deepEqual(single.json, { nested: { ok: true } });
  const sum = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/sum", { body: [1, 2, 3], headers: AUTH });
  t.is(sum.json, 6);
  const none = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/nothing", { headers: AUTH });
  t.is(none.status, 200);
  t.is(none.text, "null");
});

test("gateway - msgpack in and out on Content-Type and Accept application/msgpack", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const res = await fetch(`${gatewayUrl}/v1/actors/Greeter/g1/echo`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/msgpack", accept: "application/msgpack" },
    body: encode([{ n: 7, list: [1, 2] }]),
  });
  t.is(res.status, 200);
  t.is(res.headers.get("content-type"), "application/msgpack");
  t.deepEqual(decode(new Uint8Array(await res.arrayBuffer())), { n: 7, list: [1, 2] });
});

test("gateway - a request with a short Request-Timeout gets a 504 problem", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const res = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/sleep", {
    body: [5000],
    headers: { ...AUTH, "request-timeout": "200ms" },
  });
  t.is(res.status, 504, res.text);
  t.regex(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
  t.is(res.json.code, "TROUPE_DEADLINE_EXCEEDED");
  const q = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/sleep?timeoutMs=200", {
    body: [5000],
    headers: AUTH,
  });
  t.is(q.status, 504);
  const bad = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/sleep", {
    body: [1],
    headers: { ...AUTH, "request-timeout": "soon" },
  });
  t.is(bad.status, 400);
  t.is(bad.json.code, "GATEWAY_BAD_REQUEST");
});

test("gateway - unknown type and method are 404 problems; handler errors 500 without their message, TerminalError 422", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const type = await http(gatewayUrl, "POST", "/v1/actors/Nobody/x/hello", { headers: AUTH });
  t.is(type.status, 404);
  t.is(type.json.code, "TROUPE_UNKNOWN_ACTOR_TYPE");
  const method = await http(gatewayUrl, "POST", "/v1/actors/Greeter/x/nope", { headers: AUTH });
  t.is(method.status, 404);
  t.is(method.json.code, "TROUPE_UNKNOWN_METHOD");
  const crash = await http(gatewayUrl, "POST", "/v1/actors/Greeter/x/crash", { headers: AUTH });
  t.is(crash.status, 500);
  t.is(crash.json.code, "TROUPE_ACTOR_METHOD_FAILED");
  t.false(crash.text.includes("hunter2"), "the handler's message stays on the host");
  t.false(crash.text.includes("    at "), "no stack trace");
  const refused = await http(gatewayUrl, "POST", "/v1/actors/Greeter/x/refuse", {
    body: ["no stock"],
    headers: AUTH,
  });
  t.is(refused.status, 422);
  t.is(refused.json.code, "TROUPE_TERMINAL");
  t.is(refused.json.detail, "refused: no stock");
  for (const p of [type, method, crash, refused]) {
    t.is(p.json.status, p.status);
    t.truthy(p.json.title);
    t.truthy(p.json.requestId);
    t.is(p.json.requestId, p.headers.get("x-request-id"));
  }
});

test("gateway - a job is enqueued with 202 + Location, and its result long-polled", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const posted = await http(gatewayUrl, "POST", "/v1/jobs/Counter/c1/add", { body: [5], headers: AUTH });
  t.is(posted.status, 202, posted.text);
  const location = posted.headers.get("location");
  t.is(location, `/v1/jobs/${posted.json.jobId}`);
  const done = await http(gatewayUrl, "GET", `${location}?waitMs=20000`, { headers: AUTH });
  t.is(done.status, 200);
  t.deepEqual(done.json, { jobId: posted.json.jobId, status: "succeeded", result: 5 });

  const keyed = { ...AUTH, "idempotency-key": "order-17" };
  const first = await http(gatewayUrl, "POST", "/v1/jobs/Counter/c2/add", { body: [1], headers: keyed });
  const again = await http(gatewayUrl, "POST", "/v1/jobs/Counter/c2/add", { body: [1], headers: keyed });
  t.is(first.json.jobId, again.json.jobId);
  t.true(again.json.duplicate);

  const failing = await http(gatewayUrl, "POST", "/v1/jobs/Counter/c3/add", { body: ["x"], headers: AUTH });
  const failed = await http(gatewayUrl, "GET", `/v1/jobs/${failing.json.jobId}?waitMs=20000`, {
    headers: AUTH,
  });
  t.is(failed.json.status, "failed");
  t.is(failed.json.error.code, "TROUPE_TERMINAL");

  const pending = await http(gatewayUrl, "GET", "/v1/jobs/jUnknownJobId?waitMs=0", { headers: AUTH });
  t.deepEqual(pending.json, { jobId: "jUnknownJobId", status: "pending" });
  const unknownType = await http(gatewayUrl, "POST", "/v1/jobs/Nobody/c1/add", { headers: AUTH });
  t.is(unknownType.status, 404);
  const unknownMethod = await http(gatewayUrl, "POST", "/v1/jobs/Counter/c1/nope", { headers: AUTH });
  t.is(unknownMethod.status, 404);
});

test("gateway - health, readiness and a valid OpenAPI 3.1 document need no credentials", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  t.is((await http(gatewayUrl, "GET", "/healthz")).status, 200);
  t.is((await http(gatewayUrl, "GET", "/readyz")).status, 200);
  const doc = await http(gatewayUrl, "GET", "/openapi.json");
  t.is(doc.status, 200);
  t.is(doc.json.openapi, "3.1.0");
  for (const path of [
    "/v1/actors/{type}/{id}/{method}",
    "/v1/jobs/{type}/{id}/{method}",
    "/v1/jobs/{jobId}",
    "/v1/events/{topic}",
    "/v1/events/{pattern}",
    "/healthz",
    "/readyz",
  ]) {
    t.truthy(doc.json.paths[path], `${path} is documented`);
  }
  // Structural checks of the document: every operation answers something, and every {param} of a
  // path template is declared as a required path parameter.
  interface Operation {
    responses?: unknown;
    parameters?: { in: string; name: string; required?: boolean }[];
  }
  for (const [path, item] of Object.entries(doc.json.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, op] of Object.entries(item)) {
      t.truthy(op.responses, `${method} ${path} has responses`);
      const declared = new Set(
        (op.parameters ?? []).filter((p) => p.in === "path" && p.required).map((p) => p.name),
      );
      for (const m of path.matchAll(/\{(\w+)\}/g))
        t.true(declared.has(m[1] ?? ""), `${method} ${path}: ${m[1]}`);
    }
  }
  t.truthy(doc.json.components.securitySchemes.bearer);
  // And a real OpenAPI 3.1 validator (its JSON Schema of the specification) accepts it.
  const validator = new Validator();
  const result = await validator.validate(doc.json);
  t.deepEqual(result.errors ?? [], [], "openapi.json validates against the OpenAPI 3.1 schema");
  t.true(result.valid);
  t.is(validator.version, "3.1");
});

test("gateway - an Accept that admits nothing a route produces is a 406 problem; */*, wildcards and q-values are honoured", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const call = (accept: string) =>
    http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", { body: ["ada"], headers: { ...AUTH, accept } });
  const refused = await call("text/html");
  t.is(refused.status, 406, refused.text);
  t.regex(refused.headers.get("content-type") ?? "", /^application\/problem\+json/);
  t.is(refused.json.code, "GATEWAY_NOT_ACCEPTABLE");
  t.regex(refused.json.detail, /application\/json or application\/msgpack/);
  t.is((await call("application/json;q=0, text/plain")).status, 406, "q=0 excludes");
  for (const accept of ["*/*", "application/*", "text/html, application/json;q=0.5", "application/msgpack"]) {
    t.is((await call(accept)).status, 200, accept);
  }
  const stream = await http(gatewayUrl, "GET", "/v1/events/orders.*", {
    headers: { ...AUTH, accept: "application/json" },
  });
  t.is(stream.status, 406, "the event stream answers only text/event-stream");
});
