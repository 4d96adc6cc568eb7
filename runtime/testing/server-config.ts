/** Cluster membership of one node; see `startNatsCluster`. */
export interface ClusterConfig {
  /** Cluster name, the same on every node. */
  name: string;
  /** Route listen port of this node (never -1 for JetStream clusters: peers need it up front). */
  port: number;
  /** Route URLs of the other nodes, e.g. `nats-route://127.0.0.1:21873`. */
  routes: string[];
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
  if (input.storeDir !== undefined) lines.push("jetstream {", `  store_dir: ${q(input.storeDir)}`, "}");
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
