/**
 * `troupe edge link|status <domain>`: run at the hub (NATS_URL = the hub). `link` makes the hub's
 * events stream (and, with `--jobs A,B`, those types' job streams) source the edge site's streams
 * of the same names in JetStream domain `<domain>`; `status` shows how far each copy lags.
 * See docs/patterns/edge-sites.md.
 */
import { parseArgs } from "node:util";
import { edgeLink, edgeLinkStatus } from "../edge/index.js";
import { consoleLogger } from "../log.js";
import { connect, type Mesh } from "../mesh.js";
import { resolveTarget } from "./call.js";

export const EDGE_USAGE = `Usage (NATS_URL = the hub):
  troupe edge link <domain> [--jobs Type,Type] [--no-events]   the hub's streams source the edge site's
  troupe edge status <domain> [--jobs Type,Type] [--no-events] lag of each copy, and why it is stuck`;

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
    options: { jobs: { type: "string" }, "no-events": { type: "boolean" } },
  });
  const [sub, domain] = positionals;
  if ((sub !== "link" && sub !== "status") || !domain) {
    io.err(EDGE_USAGE);
    return 2;
  }
  const jobs = values.jobs ? values.jobs.split(",").filter(Boolean) : [];
  const options = { domain, jobs, events: values["no-events"] !== true };
  let m = mesh;
  if (!m) {
    const { url, prefix } = await resolveTarget();
    m = await connect({ servers: url, prefix, name: "troupe-cli", logger: consoleLogger("warn") });
  }
  try {
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
  } finally {
    if (!mesh) await m.close();
  }
}
