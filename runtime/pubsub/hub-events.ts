/**
 * Events published at the hub, at an edge site (docs/patterns/edge-sites.md). The edge's stream
 * `<prefix>_hub_events` sources the hub's events stream (set up by `edgeSite({ hubEvents })`); it
 * has no subjects, so nothing published at the edge lands in it and the hub, which sources only the
 * edge's `<prefix>_events`, never copies it back: no loop.
 *
 * Each durable subscriber of an edge host has a consumer of the same name on both streams. The
 * hub's events stream also holds this edge's own events (the hub sources them), so their copies
 * come back through `<prefix>_hub_events`: an event names the domain it was published in
 * (`troupe-origin-domain`), and a subscriber skips (acks unhandled) the copies of its own site's
 * events there; it handled them from its own events stream. One event thus reaches a subscriber
 * through one of the two streams, never both.
 *
 * @example
 * ```ts
 * const hub = await hubEventsOf(mesh); // undefined unless edgeSite({ hubEvents }) ran here
 * if (hub && fromSite(m.headers, hub.domain)) m.ack(); // this site's own event, back from the hub
 * ```
 */
import { domainOf, type MeshConnection, originDomainOf } from "../durable/index.js";
import { ConfigurationError } from "../errors.js";
import { HubEventNames } from "../messaging/index.js";
import { describeStream, isPermissionDenied, type MessageHeaders } from "../transport/index.js";

/** The edge's copy of the hub's events, as its subscribers read it. */
export interface HubEvents {
  readonly names: HubEventNames;
  /** This site's JetStream domain: events naming it are skipped. */
  readonly domain: string;
}

/** The hub's events at this mesh's server, if the stream exists there (an edge site). */
export async function hubEventsOf(mesh: MeshConnection): Promise<HubEvents | undefined> {
  const names = new HubEventNames(mesh.subjects.prefix);
  let exists: boolean;
  try {
    exists = (await describeStream(mesh.transport, names.stream())) !== null;
  } catch (err) {
    if (err instanceof ConfigurationError) return undefined; // not a NATS transport: no edge site
    // A NATS user without the permission cannot consume the hub's events either (permissions
    // generated before hub events existed, or a site without them): the refusal is logged by the
    // connection, and the host serves its own site's events as before instead of failing to start.
    if (isPermissionDenied(err)) return undefined;
    throw err;
  }
  if (!exists) return undefined;
  const domain = await domainOf(mesh);
  if (domain === undefined) {
    throw new ConfigurationError(
      `${names.stream()} exists but this server has no JetStream domain: an edge site needs one (jetstream { domain: ... })`,
    );
  }
  return { names, domain };
}

/** Whether an event's copy was published at the site of domain `domain`. */
export function fromSite(headers: MessageHeaders | undefined, domain: string): boolean {
  return originDomainOf(headers) === domain;
}
