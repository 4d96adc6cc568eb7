/**
 * `troupe auth gen`: writes the nats-server `authorization` block that gives each component (host,
 * client, gateway, control plane) exactly the subjects it needs (see nats-permissions.ts), one user
 * per component, each confined to its own reply inboxes (`_INBOX_<user>`, the component's
 * `NATS_INBOX_PREFIX`). Passwords are not in the output: each is a reference to an environment variable
 * of the nats-server process (`$TROUPE_NATS_HOST_PASSWORD`...), which nats-server resolves when it
 * reads its config, so the block can live in a ConfigMap and the passwords in a Secret.
 *
 *   troupe auth gen [--prefix P] [--types A,B] [--json] [--out FILE]
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ConfigurationError } from "../errors.js";
import { DEFAULT_PREFIX, Subjects } from "../internal.js";
import {
  COMPONENTS,
  type Component,
  inboxPrefixOf,
  natsUser,
  type PermissionScope,
  type Permissions,
  permissionsFor,
} from "./nats-permissions.js";

export { inboxPrefixOf, natsUser };

export const AUTH_USAGE = `Usage: troupe auth gen [options]

Prints the nats-server authorization block with one user per component (host, client, gateway,
control-plane), each allowed exactly the subjects Troupe uses for it.

  --prefix P      subject/bucket prefix (default TROUPE_PREFIX or troupe)
  --types A,B     the actor types the mesh hosts: their streams and buckets are listed by name
                  (without it, a per-type stream is a "*" token: any stream for that operation)
  --json          print {component: {user, publish, subscribe}} as JSON instead
  --out FILE      write to FILE instead of standard output

Passwords are references to the nats-server's environment: $TROUPE_NATS_<COMPONENT>_PASSWORD
(e.g. TROUPE_NATS_CONTROL_PLANE_PASSWORD). Components connect with NATS_USER, NATS_PASSWORD and
NATS_INBOX_PREFIX=_INBOX_<user> (e.g. _INBOX_troupe-host): each user may subscribe only to its own
replies, so no user reads another's.`;

/** The nats-server environment variable holding a component's password. */
export function passwordVariable(component: Component): string {
  return `TROUPE_NATS_${component.toUpperCase().replace(/-/g, "_")}_PASSWORD`;
}

export interface RenderOptions {
  /** The password expression of each user; default: a `$VARIABLE` reference (see {@link passwordVariable}). */
  password?: (component: Component) => string;
}

/** The `authorization { users = [...] }` block for a nats-server config file. */
export function renderAuthorization(scope: PermissionScope, options: RenderOptions = {}): string {
  const q = (s: string) => JSON.stringify(s);
  const password = options.password ?? ((c: Component) => `$${passwordVariable(c)}`);
  const list = (items: string[]) => `[\n${items.map((s) => `          ${q(s)}`).join("\n")}\n        ]`;
  const users = COMPONENTS.map((component) => {
    const p = permissionsFor(component, scope);
    return [
      `    # connects with NATS_INBOX_PREFIX=${inboxPrefixOf(component)}`,
      "    {",
      `      user: ${q(natsUser(component))}`,
      `      password: ${password(component)}`,
      "      permissions: {",
      `        publish: { allow: ${list(p.publish)} }`,
      `        subscribe: { allow: ${list(p.subscribe)} }`,
      "      }",
      "    }",
    ].join("\n");
  });
  return [
    `# Written by \`troupe auth gen\` for prefix "${scope.prefix}"${scope.types?.length ? ` and types ${scope.types.join(", ")}` : ""}.`,
    "authorization {",
    "  users = [",
    ...users,
    "  ]",
    "}",
    "",
  ].join("\n");
}

export function permissionsJson(
  scope: PermissionScope,
): Record<Component, { user: string; inboxPrefix: string } & Permissions> {
  const out = {} as Record<Component, { user: string; inboxPrefix: string } & Permissions>;
  for (const c of COMPONENTS)
    out[c] = { user: natsUser(c), inboxPrefix: inboxPrefixOf(c), ...permissionsFor(c, scope) };
  return out;
}

export async function authCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "help" || sub === "--help" || sub === "-h") {
    process.stdout.write(`${AUTH_USAGE}\n`);
    return 0;
  }
  let values: { prefix?: string; types?: string; json?: boolean; out?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        prefix: { type: "string" },
        types: { type: "string" },
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
  try {
    new Subjects(prefix); // checks the prefix
    for (const t of types ?? []) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(t)) {
        throw new ConfigurationError(
          `actor type "${t}" must be letters, digits, "_" or "-" (one subject token)`,
        );
      }
    }
  } catch (err) {
    process.stderr.write(`troupe auth: ${(err as Error).message}\n`);
    return 2;
  }
  const scope = { prefix, types };
  const text = values.json
    ? `${JSON.stringify(permissionsJson(scope), null, 2)}\n`
    : renderAuthorization(scope);
  if (values.out) await writeFile(values.out, text, { mode: 0o644 });
  else process.stdout.write(text);
  return 0;
}
