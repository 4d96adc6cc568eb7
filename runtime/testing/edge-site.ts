import { setTimeout as sleep } from "node:timers/promises";
import { edgeLinkDenyList } from "../edge/index.js";
import { NatsServerUnavailableError } from "../errors.js";
import { reservePorts } from "./free-port.js";
import { type LinkProxy, startLinkProxy } from "./link-proxy.js";
import { monitorJson } from "./monitoring.js";
import { type NatsServer, type NatsServerOptions, startNatsServer } from "./nats-server.js";

export interface EdgeSiteTestOptions extends Pick<NatsServerOptions, "debug" | "bin" | "readyTimeoutMs"> {
  /** The edge's JetStream domain. Default `edge`. */
  domain?: string;
  /** The hub's JetStream domain (the edge reaches the hub's streams as `$JS.<hubDomain>.API`). Default `hub`. */
  hubDomain?: string;
  /** The Troupe subject prefix the link isolates (see `edgeLinkDenyList`). Default `troupe`. */
  prefix?: string;
  /** Also start an MQTT listener on the edge server, on a free port (`edge.mqttPort`). */
  edgeMqtt?: boolean;
  /** Also start an MQTT listener on the hub server, on a free port (`hub.mqttPort`). */
  hubMqtt?: boolean;
  /** MQTT topic filters the site forwards by sourcing: kept off the live link (`edgeLinkDenyList`). */
  devices?: string[];
}

/** A hub nats-server and an edge nats-server (a leaf with its own domain) joined through a cuttable link. */
export interface EdgeSiteTest {
  readonly hub: NatsServer;
  readonly edge: NatsServer;
  readonly domain: string;
  readonly hubDomain: string;
  /** `mqtt://127.0.0.1:<port>` of the edge's MQTT listener (with `edgeMqtt`). */
  readonly edgeMqttUrl?: string;
  /** `mqtt://127.0.0.1:<port>` of the hub's MQTT listener (with `hubMqtt`). */
  readonly hubMqttUrl?: string;
  /** The TCP link between them: `link.cut()`, `link.restore()`. */
  readonly link: LinkProxy;
  /** Waits until the hub counts the edge's leaf connection as up (`true`) or gone (`false`). */
  waitForLink(up: boolean, opts?: { timeoutMs?: number }): Promise<void>;
  /** Stops both servers and the link, removes their folders. */
  cleanup(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a hub and an edge site on loopback: the hub listens for leaf nodes, the edge (JetStream
 * domain `domain`) connects to it through a {@link LinkProxy}, with Troupe's subjects denied on
 * the link both ways. Resolves once the leaf connection is up.
 *
 * @example
 * ```ts
 * await using site = await startEdgeSite({ domain: "store-1" });
 * site.link.cut(); await site.waitForLink(false);
 * site.link.restore(); await site.waitForLink(true);
 * ```
 */
export async function startEdgeSite(opts: EdgeSiteTestOptions = {}): Promise<EdgeSiteTest> {
  const domain = opts.domain ?? "edge";
  const hubDomain = opts.hubDomain ?? "hub";
  const deny = edgeLinkDenyList(opts.prefix, { devices: opts.devices ?? [] });
  const [leafPort, linkPort, mqttPort, hubMqttPort] = await reservePorts(4);
  const common = { debug: opts.debug, bin: opts.bin, readyTimeoutMs: opts.readyTimeoutMs };
  const started: Array<{ cleanup(): Promise<void> } | { close(): Promise<void> }> = [];
  try {
    const hub = await startNatsServer({
      ...common,
      serverName: "hub",
      jetstreamDomain: hubDomain,
      // Leaves reconnect to what the hub advertises: the link, never around it.
      leafnodes: { port: leafPort, advertise: `127.0.0.1:${linkPort}` },
      ...(opts.hubMqtt ? { mqttPort: hubMqttPort } : {}),
    });
    started.push(hub);
    const link = await startLinkProxy(leafPort as number, linkPort);
    started.push(link);
    const edge = await startNatsServer({
      ...common,
      serverName: `edge-${domain}`,
      jetstreamDomain: domain,
      leafnodes: {
        remotes: [{ url: `nats-leaf://127.0.0.1:${link.port}`, denyImports: deny, denyExports: deny }],
      },
      ...(opts.edgeMqtt ? { mqttPort } : {}),
    });
    started.push(edge);
    const waitForLink = async (up: boolean, o: { timeoutMs?: number } = {}) => {
      const deadline = Date.now() + (o.timeoutMs ?? 30_000);
      for (;;) {
        const leafz = await monitorJson<{ leafnodes?: number; leafs?: unknown[] }>(`${hub.monitorUrl}/leafz`);
        if ((leafz.leafnodes ?? 0) > 0 === up) return;
        if (Date.now() > deadline) {
          throw new NatsServerUnavailableError(
            `the edge's leaf connection did not go ${up ? "up" : "down"} in time`,
            {
              details: { reason: "timeout", domain, leafs: JSON.stringify(leafz.leafs), cut: link.isCut },
            },
          );
        }
        await sleep(50);
      }
    };
    await waitForLink(true);
    let cleaned: Promise<void> | undefined;
    const cleanup = () => {
      cleaned ??= (async () => {
        await edge.cleanup();
        await link.close();
        await hub.cleanup();
      })();
      return cleaned;
    };
    return {
      hub,
      edge,
      domain,
      hubDomain,
      ...(opts.edgeMqtt ? { edgeMqttUrl: `mqtt://127.0.0.1:${mqttPort}` } : {}),
      ...(opts.hubMqtt ? { hubMqttUrl: `mqtt://127.0.0.1:${hubMqttPort}` } : {}),
      link,
      waitForLink,
      cleanup,
      [Symbol.asyncDispose]: cleanup,
    };
  } catch (err) {
    for (const s of started.reverse()) await ("cleanup" in s ? s.cleanup() : s.close());
    throw err;
  }
}
