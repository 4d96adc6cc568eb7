/**
 * Which NATS servers a connection tries, and why, so that a client never silently talks to a
 * server it did not mean:
 *
 * 1. the `servers` option;
 * 2. `NATS_URL` (comma-separated for a cluster);
 * 3. the dev mesh running from the current folder (`troupe dev` writes its URL to
 *    `.troupe/dev.json`, or `$TROUPE_DEV_DIR/dev.json`, while it runs);
 * 4. `nats://127.0.0.1:4222`, NATS's default, logged as a warning that says so.
 *
 * And which subject prefix a connection without one uses ({@link withMeshDefaults}), so that a
 * script finds the actors of a dev mesh started with `--prefix`: `TROUPE_PREFIX`, else the dev
 * mesh's own prefix when the dev mesh is the server chosen, else `troupe`.
 *
 * ```ts
 * chooseServers(undefined) // { servers: ["nats://127.0.0.1:38211"], source: "the dev mesh in /app/.troupe" }
 * withMeshDefaults({})     // { servers: "nats://127.0.0.1:38211", prefix: "shop" }  (troupe dev --prefix shop)
 * ```
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** The file a running `troupe dev` keeps in its folder: `{ url, pid, prefix }`. */
export const DEV_STATE_FILE = "dev.json";

export interface ChosenServers {
  readonly servers: string[];
  /** Where they came from, in words: `the servers option`, `NATS_URL`, `the dev mesh in <dir>`, `the default`. */
  readonly source: string;
  /** True when nothing named a server and the default is tried. */
  readonly isDefault: boolean;
}

/** The folder of the current directory's dev mesh state. */
export function devStateDir(cwd = process.cwd()): string {
  return process.env.TROUPE_DEV_DIR ?? join(cwd, ".troupe");
}

/** The running dev mesh of `dir`, if its file exists and its process is alive. */
export function runningDevMesh(
  dir = devStateDir(),
): { url: string; pid: number; prefix: string } | undefined {
  let state: { url?: unknown; pid?: unknown; prefix?: unknown };
  try {
    state = JSON.parse(readFileSync(join(dir, DEV_STATE_FILE), "utf8")) as typeof state;
  } catch {
    return undefined; // no dev mesh was started here, or its file is unreadable
  }
  if (typeof state.url !== "string" || typeof state.pid !== "number") return undefined;
  try {
    process.kill(state.pid, 0);
  } catch {
    return undefined; // left over from a dev mesh that is gone
  }
  return {
    url: state.url,
    pid: state.pid,
    prefix: typeof state.prefix === "string" ? state.prefix : "troupe",
  };
}

function split(raw: string | string[]): string[] {
  return (Array.isArray(raw) ? raw : raw.split(",")).map((s) => s.trim()).filter((s) => s.length > 0);
}

export function chooseServers(servers: string | string[] | undefined): ChosenServers {
  if (servers !== undefined)
    return { servers: split(servers), source: "the servers option", isDefault: false };
  if (process.env.NATS_URL)
    return { servers: split(process.env.NATS_URL), source: "NATS_URL", isDefault: false };
  const dir = devStateDir();
  const dev = runningDevMesh(dir);
  if (dev) return { servers: split(dev.url), source: `the dev mesh in ${dir}`, isDefault: false };
  return {
    servers: [DEFAULT_NATS_URL],
    source: `the default (NATS_URL is not set and no dev mesh runs in ${dir})`,
    isDefault: true,
  };
}

/**
 * `options` with the prefix a connection that names none uses: `TROUPE_PREFIX` if set; else, when
 * neither `servers` nor `NATS_URL` names a server and a dev mesh runs from this folder, that dev
 * mesh's server and prefix (both from the one read of its file); else unchanged (the prefix
 * defaults to `troupe`). An explicit `prefix` is never replaced.
 */
export function withMeshDefaults<T extends { servers?: string | string[]; prefix?: string }>(options: T): T {
  if (options.prefix !== undefined) return options;
  const fromEnv = process.env.TROUPE_PREFIX;
  if (fromEnv) return { ...options, prefix: fromEnv };
  if (options.servers !== undefined || process.env.NATS_URL) return options;
  const dev = runningDevMesh();
  return dev ? { ...options, servers: dev.url, prefix: dev.prefix } : options;
}
