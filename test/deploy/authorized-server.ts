/**
 * A nats-server running exactly the authorization `troupe auth gen` writes for a scope, logging to
 * a file, for the least-privilege tests: each user's password is {@link passwordOf} it, and
 * `violations()` lists the permission violations the server logged so far.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ExecutionContext } from "ava";
import { type ConnectOptions, connect, type Mesh } from "troupe";
import type { NatsServer, NatsServerOptions } from "troupe/testing";
import { inboxPrefixOf, natsUser, renderAuthorization } from "../../runtime/cli/auth.js";
import type { Component, PermissionScope } from "../../runtime/cli/nats-permissions.js";
import { startServer } from "../helpers/nats.js";

/** The password a generated user connects with in these tests. */
export const passwordOf = (component: string): string => `pw-${component}-${process.pid}`;

export interface AuthorizedServer {
  readonly server: NatsServer;
  /** The server log's permission-violation lines so far. */
  violations(): string[];
}

export async function startAuthorizedServer(
  t: ExecutionContext,
  scope: PermissionScope,
  options: NatsServerOptions = {},
): Promise<AuthorizedServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "troupe-auth-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = path.join(dir, "nats.log");
  const server = await startServer(t, {
    ...options,
    extraConfig: `log_file: ${JSON.stringify(logFile)}\n${renderAuthorization(scope, {
      password: (c) => JSON.stringify(passwordOf(c)),
    })}`,
  });
  const violations = () =>
    readFileSync(logFile, "utf8")
      .split("\n")
      .filter((l) => /violation/i.test(l));
  return { server, violations };
}

/** A mesh connection as `component`'s generated user (its user, password and inbox prefix), closed in teardown. */
export async function connectAs(
  t: ExecutionContext,
  server: NatsServer,
  prefix: string,
  component: Component,
  options: ConnectOptions = {},
): Promise<Mesh> {
  const mesh = await connect({
    servers: server.url,
    prefix,
    user: natsUser(component),
    pass: passwordOf(component),
    inboxPrefix: inboxPrefixOf(component),
    ...options,
  });
  t.teardown(() => mesh.close());
  return mesh;
}
