/**
 * The command line of `troupe dev` (dev.ts): its usage text, its flags, the options `dev()` takes,
 * and the checks that turn the parsed flags into them (a mistake is a usage error, exit 2, before
 * anything starts).
 */
import { intFlag, type parseCommandArgs, UsageError } from "./args.js";
import type { CliIo } from "./command.js";
import { devAutoscalePolicy } from "./dev-autoscale.js";

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
