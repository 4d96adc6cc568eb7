/**
 * Gateway test setup: a real nats-server and mesh hosting the fixture actors, a gateway on a free
 * loopback port in front of it, and `http()` for real HTTP requests to it.
 */
import type { ExecutionContext } from "ava";
import { consoleLogger, type Mesh } from "troupe";
import {
  ApiKeys,
  credentials,
  type Gateway,
  type GatewayLimits,
  type GatewayOptions,
  type Middleware,
  startGateway,
} from "../../services/gateway/index.js";
import { type MeshFixture, startMesh } from "../helpers/mesh.js";
import { Counter, Greeter, Latched } from "./fixtures/actors.js";

export const KEY = "test-key-0123456789abcdef";
export const OTHER_KEY = "other-key-0123456789abcdef";
export const KEYS = ApiKeys.parse(`alice ${KEY}\nbob ${OTHER_KEY}\n`);
export const AUTH = { authorization: `ApiKey ${KEY}` };

export interface GatewayFixture extends MeshFixture {
  url: string;
  mesh: Mesh;
  gatewayUrl: string;
  /** The gateway's own mesh connection. */
  gatewayMesh: Mesh;
  gateway: Gateway;
}

export interface FixtureOptions {
  middleware?: (defaults: { auth: ReturnType<typeof credentials> }) => Middleware[];
  limits?: Partial<GatewayLimits>;
  /** Host the fixture actors (default true). */
  host?: boolean;
  /** Edge throttling (the gateway's own enforcer and control-plane channel). */
  throttling?: GatewayOptions["throttling"];
  logger?: GatewayOptions["logger"];
}

export async function startGatewayFixture(
  t: ExecutionContext,
  options: FixtureOptions = {},
): Promise<GatewayFixture> {
  const fixture = await startMesh(t);
  if (options.host !== false) {
    const host = await fixture.mesh.host([Greeter, Counter, Latched]);
    t.teardown(() => host.drain());
  }
  // The gateway has its own connection, as in production: its calls cross NATS.
  const gatewayMesh = await fixture.connectAnother();
  const auth = credentials({ apiKeys: KEYS });
  const gateway = await startGateway({
    mesh: gatewayMesh,
    auth,
    port: 0,
    logger: options.logger ?? consoleLogger("silent"),
    ...(options.middleware ? { middleware: options.middleware({ auth }) } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.throttling ? { throttling: options.throttling } : {}),
  });
  t.teardown(() => gateway.close());
  return { ...fixture, gatewayUrl: gateway.url, gatewayMesh, gateway };
}

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
  /** The body as JSON (undefined when it is not JSON). */
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary response fields
  json: any;
}

/** A real HTTP request. `body` is sent as JSON unless it is a string or bytes. */
export async function http(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpReply> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array | undefined;
  if (options.body !== undefined) {
    if (typeof options.body === "string" || options.body instanceof Uint8Array) {
      body = options.body;
    } else {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const buf = new Uint8Array(await res.arrayBuffer());
  const text = Buffer.from(buf).toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
