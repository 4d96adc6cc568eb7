import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Metadata, type ServiceError, status } from "@grpc/grpc-js";
import type { ExecutionContext } from "ava";
import { reservePorts } from "troupe/testing";
import type { Logger } from "../../runtime/log.js";
import { Subjects } from "../../runtime/messaging/subjects.js";
import type { ThrottlePolicy } from "../../runtime/protos/index.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { NatsTransport } from "../../runtime/transport/nats-transport.js";
import {
  type ControlPlane,
  type ControlPlaneOptions,
  startControlPlane,
} from "../../services/control-plane/index.js";
import { recordingLogger } from "../helpers/logger.js";
import { startServer } from "../helpers/nats.js";

export const TOKEN = "test-token-0123456789abcdef";

export interface Plane {
  plane: ControlPlane;
  natsUrl: string;
  logger: Logger;
  start(overrides?: Partial<ControlPlaneOptions>): Promise<ControlPlane>;
}

/** A nats-server and a control plane on a fixed free port (so a restart is reachable again). */
export async function startPlane(
  t: ExecutionContext,
  options: Partial<ControlPlaneOptions> = {},
): Promise<Plane> {
  const server = await startServer(t, { jetstream: true });
  const [port] = await reservePorts(1);
  const { logger } = recordingLogger();
  const start = async (overrides: Partial<ControlPlaneOptions> = {}) => {
    const plane = await startControlPlane({
      port: port ?? 0,
      bind: "127.0.0.1",
      nats: { servers: server.url },
      tokens: [TOKEN],
      reportIntervalMs: 200,
      logger,
      ...options,
      ...overrides,
    });
    t.teardown(() => plane.stop());
    return plane;
  };
  const plane = await start();
  return { plane, natsUrl: server.url, logger, start };
}

/** Calls a unary method of a generated client as a promise. */
export function unary<Req, Res>(
  fn: (req: Req, md: Metadata, cb: (err: ServiceError | null, res?: Res) => void) => unknown,
  req: Req,
  md: Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, md, (err, res) => (err ? reject(err) : resolve(res as Res)));
  });
}

export async function grpcCode(t: ExecutionContext, p: Promise<unknown>): Promise<ServiceError> {
  const err = await t.throwsAsync(p);
  t.truthy(err, "the call should fail");
  return err as unknown as ServiceError;
}

export function statusName(code: number): string {
  return status[code] ?? String(code);
}

/** Waits until `check` is true, polling every `everyMs`, failing after `withinMs`. */
/** Sets `policies` on the control plane at `address` (token auth). */
export async function setPolicies(address: string, policies: ThrottlePolicy[]): Promise<void> {
  const connection = connectControlPlane({ address, token: TOKEN });
  try {
    for (const policy of policies) {
      const c = connection.throttle;
      await unary(c.SetPolicy.bind(c), { policy }, connection.metadata());
    }
  } finally {
    connection.close();
  }
}

export async function waitFor(
  check: () => boolean,
  withinMs: number,
  what: string,
  everyMs = 20,
): Promise<void> {
  const until = performance.now() + withinMs;
  while (!check()) {
    if (performance.now() > until) throw new Error(`timed out after ${withinMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Pki {
  dir: string;
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  /** A client certificate from another CA (must be refused). */
  rogueCert: Buffer;
  rogueKey: Buffer;
}

/** A CA, a server certificate for 127.0.0.1/localhost, and client certificates, made with `openssl`. */
export function makePki(t: ExecutionContext): Pki {
  const dir = mkdtempSync(path.join(tmpdir(), "troupe-pki-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ca = (name: string) => {
    run(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
    );
  };
  const leaf = (name: string, issuer: string, ext: string) => {
    writeFileSync(path.join(dir, `${name}.ext`), ext);
    run(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${name}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
    );
    run(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${issuer}.crt`,
      "-CAkey",
      `${issuer}.key`,
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    );
  };
  ca("test-ca");
  ca("rogue-ca");
  leaf("server", "test-ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  leaf("client", "test-ca", "extendedKeyUsage=clientAuth\n");
  leaf("rogue", "rogue-ca", "extendedKeyUsage=clientAuth\n");
  const read = (f: string) => readFileSync(path.join(dir, f));
  return {
    dir,
    ca: read("test-ca.crt"),
    serverCert: read("server.crt"),
    serverKey: read("server.key"),
    clientCert: read("client.crt"),
    clientKey: read("client.key"),
    rogueCert: read("rogue.crt"),
    rogueKey: read("rogue.key"),
  };
}

/** A raw transport on the plane's NATS, for looking at the buckets. */
export async function openTransport(t: ExecutionContext, natsUrl: string): Promise<NatsTransport> {
  const transport = await NatsTransport.connect({ servers: natsUrl }, recordingLogger().logger);
  t.teardown(() => transport.close());
  return transport;
}

export const subjects = new Subjects();
