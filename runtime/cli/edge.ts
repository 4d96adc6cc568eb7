/**
 * `troupe edge link|status <domain>`: run at the hub (NATS_URL = the hub). `link` makes the hub's
 * events stream (and, with `--jobs A,B`, those types' job streams) source the edge site's streams
 * of the same names in JetStream domain `<domain>` (with `--devices f,f`, the devices stream too);
 * `status` shows how far each copy lags.
 * `troupe edge site`: run at the edge (NATS_URL = the edge's server): `edgeSite`, with the hub's
 * JetStream domain from `--hub-domain` or `TROUPE_HUB_DOMAIN` (results and hub events come back).
 * See docs/patterns/edge-sites.md.
 */
import { parseArgs } from "node:util";
import { connect } from "../connect.js";
import { edgeLink, edgeLinkStatus, edgeSite } from "../edge/index.js";
import { consoleLogger } from "../log.js";
import type { Mesh } from "../mesh.js";
import { resolveTarget } from "./call.js";

export const EDGE_USAGE = `Usage (NATS_URL = the hub):
  troupe edge link <domain> [--jobs Type,Type] [--devices f,f] [--no-events]
      the hub's streams source the edge site's (--devices: MQTT topic filters, devices/+/telemetry)
  troupe edge status <domain> [--jobs Type,Type] [--devices f,f] [--no-events]
      lag of each copy, and why it is stuck
Usage (NATS_URL = the edge site's server):
  troupe edge site [--jobs Type,Type] [--devices f,f] [--hub-domain <d>] [--hub-events all|<pattern>] [--monitor-url <url>]
      the streams the hub copies (--devices: what MQTT devices publish here on these topics); with the hub's JetStream domain (default TROUPE_HUB_DOMAIN),
      results of jobs enqueued here and (with --hub-events) events published at the hub come back;
      --monitor-url (the edge server's http_port, http://127.0.0.1:8222): refuse a leaf remote whose deny lists miss a subject`;

export interface EdgeIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function edgeCommand(
  argv: string[],
  mesh?: Mesh,
  io: EdgeIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) },
): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      jobs: { type: "string" },
      "no-events": { type: "boolean" },
      "hub-domain": { type: "string" },
      "hub-events": { type: "string" },
      devices: { type: "string" },
      "monitor-url": { type: "string" },
    },
  });
  const [sub, domain] = positionals;
  const jobs = values.jobs ? values.jobs.split(",").filter(Boolean) : [];
  const devices = values.devices ? values.devices.split(",").filter(Boolean) : [];
  if (sub === "site" && !domain) {
    const hubDomain = values["hub-domain"] ?? (process.env.TROUPE_HUB_DOMAIN || undefined);
    const hubEvents = values["hub-events"];
    if (hubEvents !== undefined && hubDomain === undefined) {
      io.err("troupe edge site: --hub-events needs --hub-domain (or TROUPE_HUB_DOMAIN)");
      return 2;
    }
    return withMesh(mesh, async (m) => {
      await edgeSite(m, {
        jobs,
        ...(devices.length ? { devices } : {}),
        ...(values["monitor-url"] !== undefined ? { monitorUrl: values["monitor-url"] } : {}),
        ...(hubDomain !== undefined ? { hubDomain } : {}),
        ...(hubEvents !== undefined ? { hubEvents: hubEvents === "all" ? true : hubEvents } : {}),
      });
      io.out(
        `edge site ready: ${jobs.length ? `jobs of ${jobs.join(", ")} wait here for the hub` : "no forwarded job types"}; ${
          devices.length ? `devices on ${devices.join(", ")} kept for the hub; ` : ""
        }${
          hubDomain === undefined
            ? "no hub domain: results stay at the hub"
            : `results${hubEvents !== undefined ? " and hub events" : ""} come back from domain "${hubDomain}"`
        }`,
      );
      return 0;
    });
  }
  if ((sub !== "link" && sub !== "status") || !domain) {
    io.err(EDGE_USAGE);
    return 2;
  }
  const options = {
    domain,
    jobs,
    events: values["no-events"] !== true,
    ...(devices.length ? { devices } : {}),
  };
  return withMesh(mesh, async (m) => {
    const rows = sub === "link" ? await edgeLink(m, options) : await edgeLinkStatus(m, options);
    io.out("STREAM                          LAG  STATE");
    for (const r of rows) {
      const state =
        r.error === "not linked"
          ? "not linked"
          : `${r.added ? "linked now" : "linked"}${r.error ? ` (${r.error})` : ""}`;
      io.out(`${r.stream.padEnd(30)} ${String(r.lag).padStart(4)}  ${state}`);
    }
    return 0;
  });
}

/** Runs `work` on `mesh`, or on a connection to the mesh NATS_URL names (closed after). */
async function withMesh(mesh: Mesh | undefined, work: (m: Mesh) => Promise<number>): Promise<number> {
  if (mesh) return work(mesh);
  const { url, prefix } = await resolveTarget();
  const m = await connect({ servers: url, prefix, name: "troupe-cli", logger: consoleLogger("warn") });
  try {
    return await work(m);
  } finally {
    await m.close();
  }
}
