/**
 * Edge side of an edge site: the streams the hub sources. Events use the ordinary events stream
 * (limits retention: every event stays for its max age, edge subscribers may read it too). Jobs of
 * forwarded types get a stream of the usual name and subjects but with **limits** retention and a
 * max age instead of a work queue: a work queue would hand each job to the sourcing consumer and
 * forget it at once, so a job in flight when the link broke would be lost. The hub keeps its own
 * work queue of the same name; its runners run the jobs.
 *
 * With `hubDomain`, results of jobs enqueued here come back, and with `hubEvents` events published
 * at the hub do: `<prefix>_hub_events` sources the hub's events stream (the edge's own events stream
 * is sourced by the hub, so sourcing the hub's back into it would loop; pubsub/hub-events.ts).
 *
 * With `devices`, the edge's devices stream `<prefix>_devices` stores what MQTT devices attached to
 * the edge's server publish on those topics, link or no link; the hub's devices stream sources it
 * (`edgeLink({ devices })`), and the link's deny list keeps those subjects off the live link.
 */
import { ConfigurationError } from "../errors.js";
import { ensureResultsStream, JobNames } from "../jobs/index.js";
import type { Mesh } from "../mesh.js";
import { assertPattern, EventNames, ensureDeviceStream, ensureEventsStream } from "../pubsub/index.js";
import {
  addStreamSources,
  describeStream,
  ensureSourcedStream,
  jetStreamDomain,
  jetStreamQueues,
} from "../transport/index.js";
import { domainApiPrefix } from "./isolation.js";
import { checkLeafDenyList } from "./leaf-check.js";

/** How long the edge keeps forwarded jobs by default: the longest outage it rides out. */
export const DEFAULT_EDGE_RETENTION_MS = 7 * 24 * 3600_000;

export interface EdgeSiteOptions {
  /** Actor type names whose jobs the hub runs (the same list as the hub's `edgeLink`). */
  jobs?: string[];
  /**
   * How long forwarded jobs and the copies of the hub's events stay at the edge (default 7 days): a
   * link down for longer loses the oldest jobs. Events keep the events stream's own max age.
   */
  retentionMs?: number;
  /** Refuse new jobs beyond this many bytes per type at the edge (default: no limit). */
  maxBytes?: number;
  /**
   * The hub's JetStream domain. With it, the edge's results stream sources the hub's copies of the
   * results of jobs enqueued here, so `job.result()` at the edge resolves (after the link is back,
   * if it was down). Without it, results stay at the hub.
   */
  hubDomain?: string;
  /**
   * Events published at the hub reach this site's durable `@subscribe` subscribers (needs
   * `hubDomain`): `true` for every topic, or one topic pattern (`"prices.>"`; nats-server 2.9
   * filters a source on one subject) to copy only those across the link. Copied from the time the
   * stream is created on; events stored at the hub while the link is down arrive when it is back.
   * Hosts started before this ran do not read them until they restart. Default off.
   */
  hubEvents?: boolean | string;
  /**
   * MQTT topic filters (`devices/+/telemetry`) of what devices attached to this site's server
   * publish for the hub: stored in the edge's devices stream from now on, link or no link, and
   * copied to the hub by `edgeLink({ devices })`. List the same filters in the link's deny list
   * (`leafRemoteConfig(url, prefix, { devices })`); `monitorUrl` checks that it does. Default none.
   */
  devices?: string[];
  /**
   * The edge nats-server's monitoring URL (`http_port`, e.g. `http://127.0.0.1:8222`). With it,
   * `edgeSite` reads the server's leaf remotes from `/varz` and refuses (ConfigurationError naming
   * the subjects) a remote whose deny lists miss a subject the link must keep on each side: the
   * prefix, KV, acks, the MQTT listener's own, and every device topic the edge's devices stream
   * stores. Default: not checked (a client cannot read the leaf configuration otherwise).
   */
  monitorUrl?: string;
}

/**
 * Prepares the streams an edge site's hub sources, on the edge's own JetStream (run it at the edge,
 * before the first enqueue of a forwarded type; idempotent). Do not host the forwarded types at
 * the edge: their jobs run on the hub.
 *
 * @throws ConfigurationError when a forwarded type's job stream already exists as a work queue
 *   (an edge host ran it, or enqueued before this ran): remove it first (`nats stream rm`).
 *
 * @example
 * ```ts
 * const edge = await connect({ servers: "nats://127.0.0.1:4222" }); // the edge's leaf server
 * await edgeSite(edge, { jobs: ["Invoices"] });
 * await edge.enqueue(Invoices, "inv-1").issue(order); // stored at the edge, runs on the hub
 * ```
 */
export async function edgeSite(edge: Mesh, options: EdgeSiteOptions = {}): Promise<void> {
  const hubApi = options.hubDomain === undefined ? undefined : domainApiPrefix(options.hubDomain);
  const hubEvents = options.hubEvents ?? false;
  if (hubEvents !== false && hubApi === undefined) {
    throw new ConfigurationError("edgeSite: hubEvents needs hubDomain (the hub's JetStream domain)");
  }
  if (typeof hubEvents === "string") assertPattern(hubEvents);
  await ensureEventsStream(edge);
  if (options.devices?.length) await ensureDeviceStream(edge, options.devices);
  if (options.monitorUrl !== undefined) await checkLeafDenyList(edge, options.monitorUrl);
  const names = new JobNames(edge.subjects.prefix);
  if (hubApi !== undefined) await sourceResultsFromHub(edge, names, hubApi, options.hubDomain as string);
  if (hubApi !== undefined && hubEvents !== false) {
    await sourceEventsFromHub(edge, hubApi, hubEvents, options.retentionMs ?? DEFAULT_EDGE_RETENTION_MS);
  }
  for (const type of options.jobs ?? []) {
    const name = names.jobsStream(type);
    await jetStreamQueues(edge.transport).ensureStream({
      name,
      subjects: [names.jobsFilter(type)],
      retention: "limits",
      maxAgeMs: options.retentionMs ?? DEFAULT_EDGE_RETENTION_MS,
      ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
      description: `Troupe jobs of ${type} enqueued at this edge site, sourced by the hub`,
    });
    const described = await describeStream(edge.transport, name);
    if (described?.retention === "workqueue") {
      throw new ConfigurationError(
        `the edge's job stream ${name} is a work queue: a hub sourcing it could lose a job in flight when the link breaks. Remove it (nats stream rm ${name}) and run edgeSite before anything enqueues ${type} at the edge`,
        { details: { stream: name } },
      );
    }
  }
}

/**
 * The edge's results stream sources the hub's, filtered to the copies of results the hub's runners
 * store for this domain (`<prefix>.results.<jobId>.<domain>`, for jobs whose enqueue named the
 * domain). The edge server tracks what it copied, so results stored while the link was down
 * arrive once it is back.
 */
async function sourceResultsFromHub(edge: Mesh, names: JobNames, hubApi: string, hubDomain: string) {
  const domain = await jetStreamDomain(edge.transport);
  if (domain === undefined) {
    throw new ConfigurationError(
      "edgeSite with hubDomain: the edge's nats-server has no JetStream domain (jetstream { domain: ... })",
    );
  }
  if (domain === hubDomain) {
    throw new ConfigurationError(`edgeSite: hubDomain "${hubDomain}" is the edge's own domain`);
  }
  await ensureResultsStream(edge);
  const stream = names.resultsStream();
  await addStreamSources(edge.transport, stream, [
    { name: stream, apiPrefix: hubApi, filterSubject: names.returnedResultsFilter(domain) },
  ]);
}

/**
 * `<prefix>_hub_events` at the edge sources the hub's events stream: every topic, or the one
 * pattern given (the edge cannot know which patterns hosts started later subscribe to, and its
 * consumers filter by subject anyway; the pattern only saves the link's bandwidth). It has no
 * subjects and the hub never sources it, so nothing loops.
 */
async function sourceEventsFromHub(edge: Mesh, hubApi: string, pattern: true | string, maxAgeMs: number) {
  const events = new EventNames(edge.subjects.prefix);
  await ensureSourcedStream(edge.transport, {
    name: events.hubStream(),
    source: {
      name: events.stream(),
      apiPrefix: hubApi,
      ...(pattern === true ? {} : { filterSubject: events.subject(pattern) }),
    },
    maxAgeMs,
    startAt: new Date(),
    description: "Troupe events published at the hub, sourced for this edge site's subscribers",
  });
}
