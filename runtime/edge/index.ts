/**
 * Edge sites: an edge nats-server is a leaf node of the hub with its own JetStream domain; the
 * edge's Troupe hosts keep working while the link is down, and the hub's streams source the
 * edge's events and forwarded jobs when it is back. See docs/patterns/edge-sites.md.
 *
 * @example
 * ```ts
 * await edgeSite(edgeMesh, { jobs: ["Invoices"] });                    // at the edge
 * await edgeLink(hubMesh, { domain: "store-17", jobs: ["Invoices"] }); // at the hub
 * ```
 */
export {
  assertDomain,
  domainApiPrefix,
  type EdgeLinkDenyOptions,
  edgeLinkDenyList,
  leafRemoteConfig,
} from "./isolation.js";
export { type EdgeLinkOptions, type EdgeLinkStream, edgeLink, edgeLinkStatus } from "./link.js";
export { DEFAULT_EDGE_RETENTION_MS, type EdgeSiteOptions, edgeSite } from "./site.js";
