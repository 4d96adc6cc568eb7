/**
 * Checks, at the edge, that its nats-server's leaf remotes deny what the link must keep on each
 * side (isolation.ts), the device topics the site forwards included. nats-server reports each
 * remote's `deny_imports`/`deny_exports` in its monitoring `/varz` (`leaf.remotes[].deny`); a
 * client cannot read them otherwise. The device topics are taken from the edge's devices stream
 * (what the hub copies, see device-check.ts), so a topic an edge host added since is checked too.
 *
 * @example
 * ```ts
 * await edgeSite(edge, { devices: ["store/+/visits"], monitorUrl: "http://127.0.0.1:8222" });
 * ```
 */
import { ConfigurationError } from "../errors.js";
import type { Mesh } from "../mesh.js";
import { DeviceNames } from "../pubsub/index.js";
import { describeStream, subjectCovers } from "../transport/index.js";
import { denyListOf } from "./isolation.js";

/** How long the monitoring endpoint may take to answer. */
const VARZ_TIMEOUT_MS = 5000;

interface VarzLeafRemote {
  urls?: string[];
  deny?: { imports?: string[]; exports?: string[] };
}

/** The entries of `required` that no entry of `deny` covers. */
export function notDenied(required: readonly string[], deny: readonly string[] | undefined): string[] {
  return required.filter((r) => !(deny ?? []).some((d) => d === r || subjectCovers(d, r)));
}

async function leafRemotes(monitorUrl: string): Promise<VarzLeafRemote[]> {
  const url = `${monitorUrl.replace(/\/+$/, "")}/varz`;
  let body: { leaf?: { remotes?: VarzLeafRemote[] } };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(VARZ_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = (await res.json()) as typeof body;
  } catch (err) {
    throw new ConfigurationError(
      `edgeSite: could not read the edge server's ${url} to check its leaf remotes`,
      {
        cause: err,
        details: { url },
      },
    );
  }
  return body.leaf?.remotes ?? [];
}

/**
 * @throws ConfigurationError when the server has no leaf remote, or a remote's deny lists miss a
 *   subject, naming the remote and the subjects (and the line to put in its config).
 */
export async function checkLeafDenyList(edge: Mesh, monitorUrl: string): Promise<void> {
  const prefix = edge.subjects.prefix;
  const devices = await describeStream(edge.transport, new DeviceNames(prefix).stream());
  const required = denyListOf(prefix, devices?.subjects ?? []);
  const remotes = await leafRemotes(monitorUrl);
  if (remotes.length === 0) {
    throw new ConfigurationError(
      `edgeSite: the server at ${monitorUrl} has no leaf remote: it is not an edge site`,
    );
  }
  for (const remote of remotes) {
    const missing = [
      ...new Set([
        ...notDenied(required, remote.deny?.imports),
        ...notDenied(required, remote.deny?.exports),
      ]),
    ];
    if (missing.length === 0) continue;
    const where = remote.urls?.join(", ") ?? "?";
    throw new ConfigurationError(
      `edgeSite: the leaf remote to ${where} does not deny ${missing.join(", ")} in both deny_imports and deny_exports; use leafRemoteConfig(url, "${prefix}", { devices }) with every device topic the site forwards (its deny list: ${JSON.stringify(required)})`,
      { details: { remote: where, missing: missing.join(",") } },
    );
  }
  edge.logger.info("edge site: the leaf remotes' deny lists cover the link's", { remotes: remotes.length });
}
