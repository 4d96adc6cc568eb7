/**
 * Hub side of an edge site: the hub's events stream and the job streams of the forwarded types
 * source the edge's streams of the same names through `$JS.<domain>.API`. The server tracks the
 * last sourced sequence of each source, so a link that breaks and comes back resumes where it
 * stopped: each stored message is copied once; the `Nats-Msg-Id` it carries (every job's id, an
 * event's `msgId`) is checked against the hub stream's duplicate window as a second guard.
 *
 * With `devices`, the hub's devices stream `<prefix>_devices` sources the edge's too: what MQTT
 * devices at the edge published reaches the hub's `@subscribe(..., { mqtt })` subscribers once,
 * also what they published while the link was down. Device messages carry no message id; the
 * sourcing's own bookkeeping is what copies each once (and the deny list keeps them off the live
 * link, which would store them a second time). The hub copies the edge's whole devices stream, so
 * `edgeLink` refuses a `devices` list that differs from what that stream stores (device-check.ts).
 */
import { ConfigurationError } from "../errors.js";
import { ensureJobStream, JobNames } from "../jobs/index.js";
import type { Mesh } from "../mesh.js";
import { DeviceNames, EventNames, ensureDeviceStream, ensureEventsStream } from "../pubsub/index.js";
import { addStreamSources, describeStream, type StreamDescription } from "../transport/index.js";
import { checkEdgeDevices } from "./device-check.js";
import { domainApiPrefix } from "./isolation.js";

export interface EdgeLinkOptions {
  /** The edge site's JetStream domain (`jetstream { domain: ... }` of its nats-server). */
  domain: string;
  /** Forward events published at the edge to the hub's events stream. Default true. */
  events?: boolean;
  /** Actor type names whose jobs, enqueued at the edge, run on the hub. Default none. */
  jobs?: string[];
  /**
   * MQTT topic filters (`devices/+/telemetry`) of device messages forwarded from the edge (the same
   * list as the edge's `edgeSite({ devices })` and the link's deny list): the hub's devices stream
   * stores these subjects and sources the edge's. Checked against the edge's devices stream when
   * the edge answers: a difference is a ConfigurationError naming it. Default none.
   */
  devices?: string[];
}

/** One hub stream and its source at the edge. */
export interface EdgeLinkStream {
  /** The hub stream (and the edge stream it copies, which has the same name). */
  readonly stream: string;
  /** Messages stored at the edge not copied yet, as the hub last saw them. */
  readonly lag: number;
  /** Why sourcing does not work right now (e.g. the link is down), when it does not. */
  readonly error?: string;
  /** True when this call added the source. */
  readonly added: boolean;
}

/**
 * Links an edge site to the hub `hub` is connected to: creates the hub's events stream and the
 * job streams of `jobs` if missing, and makes each source the edge's stream of the same name.
 * Idempotent; run it on the hub side whenever the edge's configuration changes (the edge side
 * runs {@link edgeSite}). Sourcing starts, or waits for the link, in the background.
 *
 * @example
 * ```ts
 * const hub = await connect({ servers: "nats://hub:4222" });
 * await edgeLink(hub, { domain: "store-17", jobs: ["Invoices"] });
 * ```
 */
export async function edgeLink(hub: Mesh, options: EdgeLinkOptions): Promise<EdgeLinkStream[]> {
  const apiPrefix = domainApiPrefix(options.domain);
  const events = new EventNames(hub.subjects.prefix);
  const jobs = new JobNames(hub.subjects.prefix);
  const streams: string[] = [];
  if (options.events !== false) {
    await ensureEventsStream(hub);
    streams.push(events.stream());
  }
  for (const type of options.jobs ?? []) {
    await ensureJobStream(hub, type);
    streams.push(jobs.jobsStream(type));
  }
  if (options.devices?.length) {
    // Refuses before changing anything when the edge forwards other topics than listed here.
    const check = await checkEdgeDevices(hub, options.domain, apiPrefix, options.devices);
    if (!check.checked) {
      hub.logger.warn("edge link: the edge site's device topics were not checked (is the link down?)", {
        domain: options.domain,
        reason: check.reason,
      });
    }
    await ensureDeviceStream(hub, options.devices);
    streams.push(new DeviceNames(hub.subjects.prefix).stream());
  }
  if (streams.length === 0)
    throw new ConfigurationError("edgeLink: nothing to link (events: false, no jobs, no devices)");
  const out: EdgeLinkStream[] = [];
  for (const stream of streams) {
    const added = await addStreamSources(hub.transport, stream, [{ name: stream, apiPrefix }]);
    const described = await describeStream(hub.transport, stream);
    hub.logger.info("edge link", { stream, domain: options.domain, added: added.length > 0 });
    out.push(statusOf(stream, apiPrefix, described, added.length > 0));
  }
  return out;
}

/** How far the hub's copies of an edge site's streams are behind (reads the hub's stream info). */
export async function edgeLinkStatus(hub: Mesh, options: EdgeLinkOptions): Promise<EdgeLinkStream[]> {
  const apiPrefix = domainApiPrefix(options.domain);
  const streams = [
    ...(options.events !== false ? [new EventNames(hub.subjects.prefix).stream()] : []),
    ...(options.jobs ?? []).map((t) => new JobNames(hub.subjects.prefix).jobsStream(t)),
    ...(options.devices?.length ? [new DeviceNames(hub.subjects.prefix).stream()] : []),
  ];
  const out: EdgeLinkStream[] = [];
  for (const stream of streams)
    out.push(statusOf(stream, apiPrefix, await describeStream(hub.transport, stream), false));
  return options.devices?.length ? withDeviceCheck(hub, options, apiPrefix, out) : out;
}

/** The devices row says so when the edge's device topics and the link's differ (checked when reachable). */
async function withDeviceCheck(
  hub: Mesh,
  options: EdgeLinkOptions,
  apiPrefix: string,
  rows: EdgeLinkStream[],
): Promise<EdgeLinkStream[]> {
  const stream = new DeviceNames(hub.subjects.prefix).stream();
  try {
    await checkEdgeDevices(hub, options.domain, apiPrefix, options.devices ?? []);
    return rows;
  } catch (err) {
    if (!(err instanceof ConfigurationError)) throw err;
    return rows.map((r) => (r.stream === stream ? { ...r, error: err.message } : r));
  }
}

function statusOf(
  stream: string,
  apiPrefix: string,
  described: StreamDescription | null,
  added: boolean,
): EdgeLinkStream {
  const source = described?.sources.find((s) => s.name === stream && s.apiPrefix === apiPrefix);
  if (!source) return { stream, lag: 0, error: "not linked", added };
  return { stream, lag: source.lag, ...(source.error ? { error: source.error } : {}), added };
}
