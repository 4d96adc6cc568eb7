/**
 * `troupe auth gen`: writes the nats-server `authorization` block that gives each component (host,
 * client, gateway, control plane) exactly the subjects it needs (see nats-permissions.ts), one user
 * per component, each confined to its own reply inboxes (`_INBOX_<user>`, the component's
 * `NATS_INBOX_PREFIX`). Passwords are not in the output: each is a reference to an environment variable
 * of the nats-server process (`$TROUPE_NATS_HOST_PASSWORD`...), which nats-server resolves when it
 * reads its config, so the block can live in a ConfigMap and the passwords in a Secret.
 *
 *   troupe auth gen [--prefix P] [--types A,B] [--clients a,b] [--devices f,f] [--json] [--out FILE]
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ConfigurationError } from "../errors.js";
import { DEFAULT_PREFIX, Subjects } from "../internal.js";
import { mqttFilterToSubject } from "../pubsub/index.js";
import { DEVICE_USER, devicePermissions } from "./device-permissions.js";
import {
  CLIENT_NAME,
  COMPONENTS,
  type Component,
  clientAppPermissions,
  clientUser,
  inboxPrefixOf,
  natsUser,
  type PermissionScope,
  type Permissions,
  permissionsFor,
  userInboxPrefix,
} from "./nats-permissions.js";

export { clientUser, DEVICE_USER, inboxPrefixOf, natsUser };

/** A user of the block: a component, a client application (`client-<name>`), or the MQTT devices. */
type UserKey = Component | `client-${string}` | "device";

export const AUTH_USAGE = `Usage: troupe auth gen [options]

Prints the nats-server authorization block with one user per component (host, client, gateway,
control-plane), each allowed exactly the subjects Troupe uses for it.

  --prefix P      subject/bucket prefix (default TROUPE_PREFIX or troupe)
  --types A,B     the actor types the mesh hosts: their streams and buckets are listed by name
                  (without it, a per-type stream is a "*" token: any stream for that operation)
  --clients a,b   one more user per client application, troupe-client-<name>, with a client's
                  permissions and its own inbox prefix (client applications cannot read each
                  other's replies; the processes of one user share its prefix)
  --devices f,f   MQTT topic filters devices use (e.g. meters/#): one more user, troupe-device, the
                  MQTT username devices connect with, allowed those topics both ways and nothing
                  else; hosts may publish to them (QoS 0 and 1) and subscribe to them
  --json          print {component: {user, publish, subscribe}} as JSON instead
  --out FILE      write to FILE instead of standard output

Passwords are references to the nats-server's environment: $TROUPE_NATS_<COMPONENT>_PASSWORD
(e.g. TROUPE_NATS_CONTROL_PLANE_PASSWORD, TROUPE_NATS_CLIENT_WEB_PASSWORD for --clients web,
TROUPE_NATS_DEVICE_PASSWORD for --devices). Components connect with NATS_USER, NATS_PASSWORD and
NATS_INBOX_PREFIX=_INBOX_<user> (e.g. _INBOX_troupe-host): each user may subscribe only to its own
replies, so no user reads another's.`;

/**
 * The nats-server environment variable holding a user's password: per component, or
 * `client-<name>` for a client application of `--clients`.
 */
export function passwordVariable(component: UserKey): string {
  return `TROUPE_NATS_${component.toUpperCase().replace(/-/g, "_")}_PASSWORD`;
}

export interface RenderOptions {
  /** The password expression of each user; default: a `$VARIABLE` reference (see {@link passwordVariable}). */
  password?: (component: UserKey) => string;
}

/** Every user the block holds: one per component, then one per client application. */
function usersOf(
  scope: PermissionScope,
): { user: string; key: UserKey; inboxPrefix: string; permissions: Permissions }[] {
  return [
    ...COMPONENTS.map((c) => ({
      user: natsUser(c),
      key: c,
      inboxPrefix: inboxPrefixOf(c),
      permissions: permissionsFor(c, scope),
    })),
    ...(scope.clients ?? []).map((name) => ({
      user: clientUser(name),
      key: `client-${name}` as const,
      inboxPrefix: userInboxPrefix(clientUser(name)),
      permissions: clientAppPermissions(name, scope),
    })),
    // MQTT devices have no inbox: the listener answers them itself.
    ...(scope.devices?.length
      ? [
          {
            user: DEVICE_USER,
            key: "device" as const,
            inboxPrefix: "",
            permissions: devicePermissions(scope.devices),
          },
        ]
      : []),
  ];
}

/** The `authorization { users = [...] }` block for a nats-server config file. */
export function renderAuthorization(scope: PermissionScope, options: RenderOptions = {}): string {
  const q = (s: string) => JSON.stringify(s);
  const password = options.password ?? ((c: UserKey) => `$${passwordVariable(c)}`);
  const list = (items: string[]) => `[\n${items.map((s) => `          ${q(s)}`).join("\n")}\n        ]`;
  const users = usersOf(scope).map(({ user, key, inboxPrefix, permissions: p }) => {
    return [
      inboxPrefix
        ? `    # connects with NATS_INBOX_PREFIX=${inboxPrefix}`
        : "    # MQTT devices: the MQTT username and password",
      "    {",
      `      user: ${q(user)}`,
      `      password: ${password(key)}`,
      "      permissions: {",
      `        publish: { allow: ${list(p.publish)} }`,
      `        subscribe: { allow: ${list(p.subscribe)} }`,
      "      }",
      "    }",
    ].join("\n");
  });
  return [
    `# Written by \`troupe auth gen\` for prefix "${scope.prefix}"${scope.types?.length ? ` and types ${scope.types.join(", ")}` : ""}${scope.clients?.length ? `, client applications ${scope.clients.join(", ")}` : ""}${scope.devices?.length ? `, devices on ${scope.devices.join(", ")}` : ""}.`,
    "authorization {",
    "  users = [",
    ...users,
    "  ]",
    "}",
    "",
  ].join("\n");
}

/** `--json`: keyed by component, and `client-<name>` for each client application. */
export function permissionsJson(
  scope: PermissionScope,
): Record<string, { user: string; inboxPrefix: string } & Permissions> {
  const out: Record<string, { user: string; inboxPrefix: string } & Permissions> = {};
  for (const { key, user, inboxPrefix, permissions } of usersOf(scope))
    out[key] = { user, inboxPrefix, ...permissions };
  return out;
}

export async function authCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "help" || sub === "--help" || sub === "-h") {
    process.stdout.write(`${AUTH_USAGE}\n`);
    return 0;
  }
  let values: {
    prefix?: string;
    types?: string;
    clients?: string;
    devices?: string;
    json?: boolean;
    out?: string;
  };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        prefix: { type: "string" },
        types: { type: "string" },
        clients: { type: "string" },
        devices: { type: "string" },
        json: { type: "boolean" },
        out: { type: "string" },
      },
    }));
  } catch (err) {
    process.stderr.write(`troupe auth: ${(err as Error).message}\n\n${AUTH_USAGE}\n`);
    return 2;
  }
  if (sub !== "gen") {
    process.stderr.write(`troupe auth: unknown subcommand "${sub ?? ""}"\n\n${AUTH_USAGE}\n`);
    return 2;
  }
  const prefix = values.prefix ?? process.env.TROUPE_PREFIX ?? DEFAULT_PREFIX;
  const types = values.types
    ?.split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  const devices = values.devices
    ?.split(",")
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
  const clients = values.clients
    ?.split(",")
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
  try {
    new Subjects(prefix); // checks the prefix
    for (const t of types ?? []) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(t)) {
        throw new ConfigurationError(
          `actor type "${t}" must be letters, digits, "_" or "-" (one subject token)`,
        );
      }
    }
    for (const c of clients ?? []) {
      if (!CLIENT_NAME.test(c)) {
        throw new ConfigurationError(
          `client name "${c}" must be 1-40 lower-case letters, digits or "-" (it names a user and an inbox)`,
        );
      }
    }
    for (const f of devices ?? []) mqttFilterToSubject(f); // checks the topic filter
    if (clients && new Set(clients).size !== clients.length)
      throw new ConfigurationError(`--clients names a client twice: ${clients.join(",")}`);
  } catch (err) {
    process.stderr.write(`troupe auth: ${(err as Error).message}\n`);
    return 2;
  }
  const scope = { prefix, types, clients, devices };
  const text = values.json
    ? `${JSON.stringify(permissionsJson(scope), null, 2)}\n`
    : renderAuthorization(scope);
  if (values.out) await writeFile(values.out, text, { mode: 0o644 });
  else process.stdout.write(text);
  return 0;
}
