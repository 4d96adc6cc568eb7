/** Cluster membership of one node; see `startNatsCluster`. */
export interface ClusterConfig {
  /** Cluster name, the same on every node. */
  name: string;
  /** Route listen port of this node (never -1 for JetStream clusters: peers need it up front). */
  port: number;
  /** Route URLs of the other nodes, e.g. `nats-route://127.0.0.1:21873`. */
  routes: string[];
}

/** A leaf-node connection to a hub (`leafnodes.remotes`); see docs/patterns/edge-sites.md. */
export interface LeafRemote {
  /** The hub's leaf-node URL, e.g. `nats-leaf://127.0.0.1:7422`. */
  url: string;
  /** Subjects the hub may not send over this link (`deny_imports`). */
  denyImports?: string[];
  /** Subjects this server may not send over this link (`deny_exports`). */
  denyExports?: string[];
}

/** The `leafnodes` block: a listener for leaves (a hub) and/or remotes (a leaf). */
export interface LeafNodesConfig {
  /** Listen for leaf connections on this port (fixed across restarts; reserve it first). */
  port?: number;
  /**
   * The address the hub tells its leaves to reconnect to (`advertise`). A hub behind a proxy sets
   * the proxy's: otherwise a leaf learns the listener's own address from the hub's INFO and may
   * reconnect around the proxy.
   */
  advertise?: string;
  remotes?: LeafRemote[];
}

/** Everything a config file depends on, with ports already decided (-1 = let the server pick). */
export interface ConfigInput {
  host: string;
  port: number;
  httpPort: number;
  portsFileDir: string;
  storeDir: string | undefined;
  serverName: string | undefined;
  maxPayload: number | undefined;
  cluster: ClusterConfig | undefined;
  /** JetStream domain (leaf-node sites: `$JS.<domain>.API`). */
  jetstreamDomain?: string | undefined;
  leafnodes?: LeafNodesConfig | undefined;
  /** Port of the MQTT listener (needs JetStream and `server_name`). */
  mqttPort?: number | undefined;
  extraConfig: string | undefined;
}

/** Renders a nats-server config file. Strings are JSON-quoted, which the NATS config parser reads. */
export function renderConfig(input: ConfigInput): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    "# Written by troupe's nats-server launcher; rewritten on every (re)start.",
    `host: ${q(input.host)}`,
    `port: ${input.port}`,
    `http: ${q(`${input.host}:${input.httpPort}`)}`,
    `ports_file_dir: ${q(input.portsFileDir)}`,
  ];
  if (input.serverName !== undefined) lines.push(`server_name: ${q(input.serverName)}`);
  if (input.maxPayload !== undefined) lines.push(`max_payload: ${Math.trunc(input.maxPayload)}`);
  if (input.storeDir !== undefined) {
    lines.push("jetstream {", `  store_dir: ${q(input.storeDir)}`);
    if (input.jetstreamDomain !== undefined) lines.push(`  domain: ${q(input.jetstreamDomain)}`);
    lines.push("}");
  }
  if (input.leafnodes) lines.push(...leafNodesBlock(input.host, input.leafnodes, q));
  if (input.mqttPort !== undefined)
    lines.push("mqtt {", `  listen: ${q(`${input.host}:${input.mqttPort}`)}`, "}");
  if (input.cluster) {
    lines.push(
      "cluster {",
      `  name: ${q(input.cluster.name)}`,
      `  listen: ${q(`${input.host}:${input.cluster.port}`)}`,
      "  routes: [",
      ...input.cluster.routes.map((r) => `    ${q(r)}`),
      "  ]",
      "}",
    );
  }
  if (input.extraConfig) lines.push("", "# extraConfig", input.extraConfig);
  return `${lines.join("\n")}\n`;
}

function leafNodesBlock(host: string, config: LeafNodesConfig, q: (s: string) => string): string[] {
  const list = (name: string, subjects: string[] | undefined) =>
    subjects?.length ? [`      ${name}: [${subjects.map(q).join(", ")}]`] : [];
  const lines = ["leafnodes {"];
  if (config.port !== undefined) lines.push(`  listen: ${q(`${host}:${config.port}`)}`);
  if (config.advertise !== undefined) lines.push(`  advertise: ${q(config.advertise)}`);
  if (config.remotes?.length) {
    lines.push("  remotes: [");
    for (const r of config.remotes) {
      lines.push(
        "    {",
        `      url: ${q(r.url)}`,
        ...list("deny_imports", r.denyImports),
        ...list("deny_exports", r.denyExports),
        "    }",
      );
    }
    lines.push("  ]");
  }
  lines.push("}");
  return lines;
}
