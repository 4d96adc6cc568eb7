/**
 * Hub side of an edge site: the hub's events stream and the job streams of the forwarded types
 * source the edge's streams of the same names through `$JS.<domain>.API`. The server tracks the
 * last sourced sequence of each source, so a link that breaks and comes back resumes where it
 * stopped: each stored message is copied once; the `Nats-Msg-Id` it carries (every job's id, an
 * event's `msgId`) is checked against the hub stream's duplicate window as a second guard.
 */
import { ConfigurationError } from "../errors.js";
import { ensureJobStream, JobNames } from "../jobs/index.js";
import type { Mesh } from "../mesh.js";
import { EventNames, ensureEventsStream } from "../pubsub/index.js";
import { addStreamSources, describeStream, type StreamDescription } from "../transport/index.js";
import { domainApiPrefix } from "./isolation.js";

export interface EdgeLinkOptions {
  /** The edge site's JetStream domain (`jetstream { domain: ... }` of its nats-server). */
  domain: string;
  /** Forward events published at the edge to the hub's events stream. Default true. */
  events?: boolean;
  /** Actor type names whose jobs, enqueued at the edge, run on the hub. Default none. */
  jobs?: string[];
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
  if (streams.length === 0)
    throw new ConfigurationError("edgeLink: nothing to link (events: false and no jobs)");
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
  ];
  const out: EdgeLinkStream[] = [];
  for (const stream of streams)
    out.push(statusOf(stream, apiPrefix, await describeStream(hub.transport, stream), false));
  return out;
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
