/**
 * The edge's device topics, checked from the hub. What the hub's devices stream copies from an
 * edge site is the edge's whole devices stream `<prefix>_devices` (a 2.9 source has at most one
 * filter), so the subjects that stream stores are the site's forwarded device topics, the one
 * record the three lists must agree with:
 *
 * - `edgeSite({ devices })` writes it (and edge hosts' own MQTT `@subscribe` filters add to it);
 * - `edgeLink({ devices })` must list the same topics: {@link checkEdgeDevices} reads the edge's
 *   stream through `$JS.<domain>.API` and refuses a difference, naming it;
 * - the leaf remote's deny list (`leafRemoteConfig(url, prefix, { devices })`) must too, or what
 *   devices publish while the link is up is stored at the hub twice. A client cannot read a
 *   server's leaf configuration, so that one is derived, not checked: `troupe dev --leaf --devices`
 *   and `startEdgeSite({ devices })` build the deny list and `edgeSite` from one list.
 */
import { ConfigurationError } from "../errors.js";
import type { Mesh } from "../mesh.js";
import { DeviceNames, mqttFilterToSubject } from "../pubsub/index.js";
import { remoteStreamSubjects } from "../transport/index.js";

/** How long the hub waits for the edge's answer (the link may be down: then it is not checked). */
const CHECK_TIMEOUT_MS = 3000;

/** The outcome when the edge was asked: agreed, or could not be asked (link down). */
export type EdgeDevicesCheck =
  | { readonly checked: true }
  | { readonly checked: false; readonly reason: string };

/** The difference between the edge's forwarded subjects and the link's, in words; undefined if none. */
export function deviceTopicsDifference(edgeSubjects: readonly string[], linkFilters: readonly string[]) {
  const link = new Set(linkFilters.map(mqttFilterToSubject));
  const edge = new Set(edgeSubjects);
  const onlyAtEdge = [...edge].filter((s) => !link.has(s)).sort();
  const onlyAtLink = [...link].filter((s) => !edge.has(s)).sort();
  if (onlyAtEdge.length === 0 && onlyAtLink.length === 0) return undefined;
  const parts = [
    ...(onlyAtEdge.length
      ? [
          `the edge's devices stream stores ${onlyAtEdge.join(", ")}, which the hub copies but the link's devices do not list (nor, likely, the leaf's deny list: stored at the hub twice while the link is up)`,
        ]
      : []),
    ...(onlyAtLink.length
      ? [
          `the link lists ${onlyAtLink.join(", ")}, which the edge does not store (edgeSite({ devices }) at the edge lacks it)`,
        ]
      : []),
  ];
  return { onlyAtEdge, onlyAtLink, message: parts.join("; ") };
}

/**
 * Compares the edge's devices stream with the link's `devices`.
 *
 * @throws ConfigurationError naming the difference (subjects, as the deny list writes them), or
 *   when the edge has no devices stream (edgeSite did not run there with `devices`).
 */
export async function checkEdgeDevices(
  hub: Mesh,
  domain: string,
  apiPrefix: string,
  devices: readonly string[],
): Promise<EdgeDevicesCheck> {
  const stream = new DeviceNames(hub.subjects.prefix).stream();
  const found = await remoteStreamSubjects(hub.transport, stream, apiPrefix, CHECK_TIMEOUT_MS);
  if (found.state === "unreachable") return { checked: false, reason: found.reason };
  if (found.state === "missing") {
    throw new ConfigurationError(
      `edgeLink: edge site ${domain} has no devices stream ${stream}: run edgeSite({ devices }) there first (troupe edge site --devices ...)`,
      { details: { domain, stream } },
    );
  }
  const difference = deviceTopicsDifference(found.subjects, devices);
  if (difference) {
    throw new ConfigurationError(
      `edgeLink: device topics of edge site ${domain} differ: ${difference.message}`,
      {
        details: {
          domain,
          onlyAtEdge: difference.onlyAtEdge.join(","),
          onlyAtLink: difference.onlyAtLink.join(","),
        },
      },
    );
  }
  return { checked: true };
}
