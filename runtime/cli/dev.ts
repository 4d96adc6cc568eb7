/**
 * `troupe dev [entry]`: a local mesh in one command. Without `NATS_URL` it starts its own
 * nats-server with JetStream (data under `.troupe/nats`), hosts every actor class the entry module
 * exports, starts an insecure local control plane (throttle policies), prints how to call them, and
 * on Ctrl-C drains and stops cleanly.
 *
 * The entry is imported only for its exported actor classes, after `NATS_URL` and `TROUPE_PREFIX`
 * are set to the dev mesh's (so a `connect()` inside it reaches this mesh, not port 4222); scripts
 * that call actors belong in their own file.
 *
 *   troupe dev --add <entry>   hosts the entry's actors beside a dev mesh already running here
 *   troupe dev --reset         deletes the dev data (.troupe/) first: a fresh JetStream store
 *   troupe dev --autoscale     also runs the local autoscaler against this mesh (dev-autoscale.ts)
 */
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ActorClass } from "../actor/index.js";
import { actorTypeOf } from "../actor/index.js";
import { edgeLinkDenyList, edgeSite } from "../edge/index.js";
import { ConfigurationError } from "../errors.js";
import { consoleLogger } from "../log.js";
import type { Mesh } from "../mesh.js";
import { DEFAULT_PREFIX } from "../messaging/index.js";
import { type NatsServer, reservePorts, startNatsServer } from "../testing/index.js";
import { intFlag, parseCommandArgs, UsageError } from "./args.js";
import type { CliIo } from "./command.js";
import {
  type DevAutoscaler,
  devAutoscalePolicy,
  devGroupPolicy,
  startDevAutoscaler,
} from "./dev-autoscale.js";
import { startDevControlPlane } from "./dev-control-plane.js";
import { clearDevState, devDir, readDevState, writeDevState } from "./dev-state.js";
import { startDevGateway } from "./gateway.js";
import { groupFromEntry } from "./group-name.js";
import { whileWaiting } from "./progress.js";
import { type ServeOptions, serveEntry, untilSignal } from "./serve.js";

export const DEFAULT_DEV_ENTRY = "services/examples/index.ts";

export const DEV_USAGE = `Usage: troupe dev [entry] [options]

  Starts a local mesh hosting the actor classes exported by entry (default
  services/examples/index.ts): its own nats-server with JetStream (unless NATS_URL is set), an
  HTTP gateway without authentication and a local control plane. Ctrl-C drains and stops it.
  The entry is imported only for its exported actor classes, with NATS_URL set to this mesh.

  --add              host the entry's actors beside the dev mesh already running in this folder
  --reset            delete this folder's dev data (.troupe/: JetStream streams, state) first
  --prefix <p>       subject and bucket prefix (default TROUPE_PREFIX or troupe)
  --gateway-port <n> port of the HTTP gateway (default 8080; any free port when taken)
  --mqtt-port <n>    port of the server's MQTT listener (default TROUPE_MQTT_PORT, else a free port)
  --leaf <url>       make the local server a leaf node of this hub (nats-leaf://hub:7422): an
                     edge site (docs/patterns/edge-sites.md)
  --domain <d>       JetStream domain of the local server with --leaf (default dev)
  --hub-domain <d>   the hub's JetStream domain with --leaf (default TROUPE_HUB_DOMAIN): results
                     of jobs enqueued here and events published at the hub come back to this site
  --devices <f,f>    MQTT topic filters with --leaf (e.g. devices/+/telemetry): what devices publish
                     here is kept and forwarded to the hub by sourcing, not live over the link
  --autoscale        run the local autoscaler against this mesh: start extra \`troupe host entry\`
                     processes while the entry's job queues have a backlog, drain them when it is
                     gone (docs/patterns/competing-consumers.md)
  --autoscale-policy <spec>
                     the group's policy with --autoscale, e.g. max=4,drain=10s,down=30s (keys as in
                     \`troupe control-plane --scale-group\`; default min=1,max=4,drain=10s,down=30s)`;

/**
 * The flags of `troupe dev`, as `util.parseArgs` options. Add a flag here and map it in
 * {@link devOptionsFrom}; {@link DevOptions} takes the parsed value.
 */
export const DEV_FLAGS = {
  add: { type: "boolean" },
  reset: { type: "boolean" },
  prefix: { type: "string" },
  "gateway-port": { type: "string" },
  "mqtt-port": { type: "string" },
  leaf: { type: "string" },
  domain: { type: "string" },
  "hub-domain": { type: "string" },
  devices: { type: "string" },
  autoscale: { type: "boolean" },
  "autoscale-policy": { type: "string" },
} as const;

export interface DevOptions {
  entry?: string;
  prefix?: string;
  /** Host the entry beside the dev mesh already running in this folder (`--add`). */
  add?: boolean;
  /** Delete the dev data folder first (`--reset`). */
  reset?: boolean;
  /** Port of the HTTP gateway (default TROUPE_GATEWAY_PORT or 8080; taken: any free port). */
  gatewayPort?: number;
  /**
   * Make the local nats-server a leaf node of this hub (its leaf-node URL, e.g.
   * `nats-leaf://hub:7422`) with its own JetStream domain: an edge site (docs/patterns/edge-sites.md).
   */
  leaf?: string;
  /** JetStream domain of the local server with `leaf` (default `dev`). */
  domain?: string;
  /**
   * The hub's JetStream domain with `leaf` (default TROUPE_HUB_DOMAIN): the dev mesh runs
   * `edgeSite({ hubDomain, hubEvents: true })` on its server before hosting, so results of jobs
   * enqueued here and events published at the hub come back.
   */
  hubDomain?: string;
  /**
   * MQTT topic filters with `leaf`: kept off the live link (its deny list) and stored in the local
   * devices stream (`edgeSite({ devices })`), for the hub's `troupe edge link --devices` to source.
   */
  devices?: string[];
  /** Port of the local server's MQTT listener (default TROUPE_MQTT_PORT, else a free port: never 1883 by default). */
  mqttPort?: number;
  /**
   * Run the local autoscaler against this mesh (`--autoscale`): extra host processes of the entry's
   * group while its job queues have a backlog.
   */
  autoscale?: boolean;
  /** The group's policy with `autoscale` (`--autoscale-policy`, e.g. `max=4,down=30s`). */
  autoscalePolicy?: string;
  /** Resolves when the mesh should stop (default: SIGINT or SIGTERM). */
  until?: Promise<unknown>;
  out?: (line: string) => void;
  /** Where progress lines go (a drain that takes over a second); default none. */
  io?: CliIo;
}

/** `troupe dev ...` from the command line; resolves with the exit code once the mesh stopped. */
export async function devCommand(argv: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommandArgs(argv, DEV_FLAGS, { max: 1, names: "[entry]" });
  await dev({ ...devOptionsFrom(values, positionals), out: (line) => io.out(line), io });
  return 0;
}

/** Parsed flags to {@link DevOptions}. */
export function devOptionsFrom(
  values: ReturnType<typeof parseCommandArgs<typeof DEV_FLAGS>>["values"],
  positionals: string[],
): DevOptions {
  const gatewayPort = intFlag(values["gateway-port"], "--gateway-port", { max: 65535 });
  const mqttPort = intFlag(values["mqtt-port"], "--mqtt-port", { min: 1, max: 65535 });
  if (values.domain && !values.leaf) throw new UsageError("--domain needs --leaf");
  if (values["hub-domain"] && !values.leaf) throw new UsageError("--hub-domain needs --leaf");
  if (values.devices && !values.leaf) throw new UsageError("--devices needs --leaf");
  const devices = values.devices ? values.devices.split(",").filter(Boolean) : [];
  if (values["autoscale-policy"] !== undefined && !values.autoscale) {
    throw new UsageError("--autoscale-policy needs --autoscale");
  }
  if (values.autoscale && values.add) throw new UsageError("--autoscale cannot be combined with --add");
  // Checked here so that a mistake is a usage error (exit 2), not a failure after the mesh started.
  if (values.autoscale) devAutoscalePolicy(values["autoscale-policy"]);
  return {
    ...(values.autoscale
      ? {
          autoscale: true,
          ...(values["autoscale-policy"] ? { autoscalePolicy: values["autoscale-policy"] } : {}),
        }
      : {}),
    ...(mqttPort !== undefined ? { mqttPort } : {}),
    ...(values.leaf
      ? {
          leaf: values.leaf,
          ...(values.domain ? { domain: values.domain } : {}),
          ...(values["hub-domain"] ? { hubDomain: values["hub-domain"] } : {}),
          ...(devices.length ? { devices } : {}),
        }
      : {}),
    ...(positionals[0] ? { entry: positionals[0] } : {}),
    ...(values.prefix ? { prefix: values.prefix } : {}),
    ...(gatewayPort !== undefined ? { gatewayPort } : {}),
    ...(values.add ? { add: true } : {}),
    ...(values.reset ? { reset: true } : {}),
  };
}

export async function dev(options: DevOptions = {}): Promise<void> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const entry = resolve(options.entry ?? DEFAULT_DEV_ENTRY);
  const dir = devDir();

  const running = await readDevState(dir);
  if (options.add) {
    if (!running) {
      throw new ConfigurationError(
        `no dev mesh is running in ${dir}: start one with \`troupe dev\` (or \`npm run dev\`), then add to it`,
      );
    }
    if (options.reset) throw new ConfigurationError("--reset cannot be combined with --add");
    return addToDevMesh(entry, running, options, out);
  }
  if (running) {
    throw new ConfigurationError(
      `a dev mesh is already running from this folder (pid ${running.pid}, ${running.url}): stop it first, or host your actors beside it with \`troupe dev --add ${options.entry ?? "<entry>"}\``,
    );
  }
  if (options.reset) {
    await rm(dir, { recursive: true, force: true });
    out(`troupe: deleted the dev data in ${dir}`);
  }
  const prefix = options.prefix ?? process.env.TROUPE_PREFIX ?? DEFAULT_PREFIX;

  let server: NatsServer | undefined;
  let url = process.env.NATS_URL;
  if (options.leaf && url) {
    throw new ConfigurationError("--leaf makes troupe dev's own nats-server a leaf node: unset NATS_URL");
  }
  if (!url) {
    out("troupe: starting a local nats-server with JetStream (NATS_URL is not set)...");
    const local = await localServerOptions(options, prefix);
    server = await startNatsServer({ dir: join(dir, "nats"), serverName: "troupe-dev", ...local });
    url = server.url;
    out(
      `troupe: MQTT listener on mqtt://127.0.0.1:${local.mqttPort} (topic a/b/c = subject a.b.c; docs/patterns/mqtt-devices.md)`,
    );
    if (options.leaf) {
      out(
        `troupe: leaf node of ${options.leaf}, JetStream domain "${local.jetstreamDomain}" (docs/patterns/edge-sites.md); on the hub run: NATS_URL=<hub> npx troupe edge link ${local.jetstreamDomain}${
          options.devices?.length ? ` --devices ${options.devices.join(",")}` : ""
        }`,
      );
    }
  }
  const servers = url;
  const hubDomain = options.leaf
    ? (options.hubDomain ?? (process.env.TROUPE_HUB_DOMAIN || undefined))
    : undefined;
  if (hubDomain !== undefined) {
    out(
      `troupe: results of jobs enqueued here and events published at the hub come back from its domain "${hubDomain}"`,
    );
  }
  // The entry sees the mesh it is hosted on: a connect() inside it reaches this server.
  const restoreEnv = setMeshEnv(servers, prefix);
  // With --autoscale the dev host and the extra hosts form the entry's group, under its policy.
  const group = options.autoscale ? groupFromEntry(entry) : undefined;
  const controlPlane = await startDevControlPlane(
    servers,
    prefix,
    out,
    undefined,
    group ? { groups: [devGroupPolicy(group, devAutoscalePolicy(options.autoscalePolicy))] } : undefined,
  );
  let served = false;
  try {
    await serveEntry({
      entry,
      connect: { servers, prefix },
      // The dev host enforces the local control plane's policies (`troupe throttle set`).
      ...(controlPlane
        ? { host: { throttling: { controlPlane: controlPlane.address }, ...(group ? { group } : {}) } }
        : {}),
      logger: consoleLogger(),
      serviceName: "troupe-dev",
      ...(hubDomain !== undefined || options.devices?.length
        ? {
            beforeHost: (mesh: Mesh) =>
              edgeSite(mesh, {
                ...(hubDomain !== undefined ? { hubDomain, hubEvents: true } : {}),
                ...(options.devices?.length ? { devices: options.devices } : {}),
              }),
          }
        : {}),
      ...drainProgress(options.io),
      whileServing: async (mesh, _host, classes) => {
        served = true;
        await writeDevState({ url: servers, pid: process.pid, prefix }, dir);
        printWelcome(out, servers, server ? join(dir, "nats") : undefined, entry, classes);
        const port = options.gatewayPort ?? Number(process.env.TROUPE_GATEWAY_PORT ?? 8080);
        const gateway = await startDevGateway(mesh, port, consoleLogger("warn"), out);
        const sample = classes[0] ? actorTypeOf(classes[0]) : undefined;
        if (sample) {
          out(
            `  curl -X POST ${gateway.url}/v1/actors/${sample.name}/my-id/${[...sample.handlers][0]} -d '[]' -H 'content-type: application/json'`,
          );
        }
        let autoscaler: DevAutoscaler | undefined;
        try {
          if (group && controlPlane) {
            out(
              `troupe: autoscaling group ${group}: extra \`troupe host\` processes while its job queues have a backlog (docs/patterns/competing-consumers.md)`,
            );
            autoscaler = startDevAutoscaler({
              entry,
              group,
              controlPlane: controlPlane.address,
              natsUrl: servers,
              prefix,
              intervalMs: 1000,
              out,
              logger: consoleLogger(),
            });
          } else if (group) {
            out("troupe: --autoscale needs the control plane, which did not start: not autoscaling");
          }
          await (options.until ?? untilSignal());
        } finally {
          // The extra hosts drain first, while the dev host still serves what they hand back.
          await autoscaler?.stop();
          await gateway.close();
        }
        out("troupe: draining...");
      },
    });
  } finally {
    await clearDevState(dir);
    await controlPlane?.stop();
    if (server) await server.stop();
    restoreEnv();
    // Only after a start: an entry that failed to load is reported once, by the caller.
    if (served) out("troupe: stopped.");
  }
}

/** MQTT on a free port unless one is asked for; with `leaf`, a domain and the link's deny list. */
async function localServerOptions(options: DevOptions, prefix: string) {
  const asked =
    options.mqttPort ?? (process.env.TROUPE_MQTT_PORT ? Number(process.env.TROUPE_MQTT_PORT) : undefined);
  if (asked !== undefined && !(Number.isInteger(asked) && asked > 0 && asked < 65536)) {
    throw new ConfigurationError(`MQTT port must be 1-65535, got ${String(asked)}`);
  }
  // Never 1883 by default: another broker (or a shared nats-server) often listens there.
  const mqttPort = asked ?? ((await reservePorts(1))[0] as number);
  if (!options.leaf) return { mqttPort };
  const jetstreamDomain = options.domain ?? "dev";
  const deny = edgeLinkDenyList(prefix, { devices: options.devices ?? [] });
  return {
    mqttPort,
    jetstreamDomain,
    leafnodes: { remotes: [{ url: options.leaf, denyImports: deny, denyExports: deny }] },
  };
}

/** `--add`: host the entry beside the running dev mesh until Ctrl-C, then drain. */
async function addToDevMesh(
  entry: string,
  running: { url: string; prefix: string },
  options: DevOptions,
  out: (line: string) => void,
): Promise<void> {
  const prefix = options.prefix ?? running.prefix;
  const restoreEnv = setMeshEnv(running.url, prefix);
  try {
    await serveEntry({
      entry,
      connect: { servers: running.url, prefix },
      logger: consoleLogger(),
      serviceName: "troupe-dev-add",
      ...drainProgress(options.io),
      whileServing: async (_mesh, _host, classes) => {
        out(
          `troupe: hosting ${classes.length} actor type(s) from ${entry} on the dev mesh at ${running.url}:`,
        );
        for (const cls of classes) {
          const t = actorTypeOf(cls);
          out(`  ${t.name}: ${[...t.handlers].join(", ")}${t.initialState ? "  (stateful)" : ""}`);
        }
        out("Press Ctrl-C to drain and stop (the dev mesh keeps running).");
        await (options.until ?? untilSignal());
        out("troupe: draining...");
      },
    });
  } finally {
    restoreEnv();
  }
  out("troupe: stopped.");
}

/** A progress line while the host drains, when there is somewhere to write it. */
function drainProgress(io: CliIo | undefined): Pick<ServeOptions, "whileDraining"> {
  return io
    ? { whileDraining: (drain) => whileWaiting(io, "draining (finishing queued turns, saving state)", drain) }
    : {};
}

/** Sets NATS_URL and TROUPE_PREFIX for the entry; returns what puts the previous values back. */
function setMeshEnv(url: string, prefix: string): () => void {
  const before = { NATS_URL: process.env.NATS_URL, TROUPE_PREFIX: process.env.TROUPE_PREFIX };
  process.env.NATS_URL = url;
  process.env.TROUPE_PREFIX = prefix;
  return () => {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

function printWelcome(
  out: (line: string) => void,
  url: string,
  dataDir: string | undefined,
  entry: string,
  classes: ActorClass[],
): void {
  out("");
  out(`troupe: dev mesh ready on ${url}${dataDir ? ` (JetStream data in ${dataDir})` : ""}`);
  out(`troupe: hosting ${classes.length} actor type(s) from ${entry}:`);
  for (const cls of classes) {
    const t = actorTypeOf(cls);
    out(`  ${t.name}: ${[...t.handlers].join(", ")}${t.initialState ? "  (stateful)" : ""}`);
  }
  const sample = classes[0] ? actorTypeOf(classes[0]) : undefined;
  if (sample) {
    const method = [...sample.handlers][0] ?? "method";
    out("");
    out("Call an actor from another shell:");
    out(`  npm run troupe -- call ${sample.name} my-id ${method} '[]'`);
    out(`  NATS_URL=${url} npx troupe call ${sample.name} my-id ${method} '[]'`);
  }
  out("Press Ctrl-C to drain and stop.");
}
