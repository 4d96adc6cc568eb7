/**
 * Test and dev tooling: real nats-servers on free loopback ports, and `TestMesh` (server + hosts +
 * client in one call). Import from `troupe/testing`.
 *
 * @example
 * ```ts
 * import { startNatsServer, startNatsCluster } from "troupe/testing";
 * await using server = await startNatsServer();
 * await using cluster = await startNatsCluster({ size: 3 });
 * ```
 */
export { NatsServerUnavailableError } from "../errors.js";
export { type NatsCluster, type NatsClusterOptions, startNatsCluster } from "./cluster.js";
export { type EdgeSiteTest, type EdgeSiteTestOptions, startEdgeSite } from "./edge-site.js";
export { findNatsServer, NATS_SERVER_INSTALL_HINT } from "./find-nats-server.js";
export { reservePorts } from "./free-port.js";
export { type LinkProxy, startLinkProxy } from "./link-proxy.js";
export {
  type Jsz,
  type JszAccount,
  type JszMetaCluster,
  type JszStream,
  type MonitorResponse,
  monitorGet,
  monitorJson,
} from "./monitoring.js";
export {
  type NatsServer,
  type NatsServerOptions,
  type NatsServerState,
  startNatsServer,
} from "./nats-server.js";
export type { ClusterConfig, LeafNodesConfig, LeafRemote } from "./server-config.js";
export { type TestHost, TestMesh, type TestMeshOptions } from "./test-mesh.js";
