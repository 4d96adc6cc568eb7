/**
 * Stream sourcing across JetStream domains (leaf-node edge sites, docs/patterns/edge-sites.md):
 * a stream on this connection's domain copies the messages of a stream of the same or another name
 * in another domain, reached through that domain's API prefix `$JS.<domain>.API`. The server
 * tracks the last sourced sequence, so after a broken link it resumes where it stopped.
 *
 * @example
 * ```ts
 * await addStreamSources(mesh.transport, "troupe_events", [
 *   { name: "troupe_events", apiPrefix: "$JS.edge-1.API" },
 * ]);
 * ```
 */
import {
  DiscardPolicy,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamSource,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { ConfigurationError } from "../errors.js";
import { JS_STREAM_NOT_FOUND } from "./jetstream-codes.js";
import { natsTransportOf } from "./late-transport.js";
import type { NatsTransport } from "./nats-transport.js";
import type { Transport } from "./transport.js";

/** One source of a stream. */
export interface StreamSourceSpec {
  /** The stream to copy from. */
  name: string;
  /** The API prefix of the domain it lives in, e.g. `$JS.edge-1.API`. */
  apiPrefix: string;
  /** Copy only messages on subjects matching this filter. */
  filterSubject?: string;
}

/** What a stream is, as far as sourcing cares. */
export interface StreamDescription {
  readonly name: string;
  readonly retention: "workqueue" | "limits" | "interest";
  readonly subjects: string[];
  readonly sources: ReadonlyArray<{
    name: string;
    apiPrefix: string | undefined;
    lag: number;
    error?: string;
  }>;
}

/** The NATS transport, also under a mesh with an outbox once it reached the server (OfflineError before). */
function natsTransport(transport: Transport): NatsTransport {
  return natsTransportOf(transport, "stream sourcing and the JetStream domain");
}

async function manager(t: NatsTransport) {
  return jetstreamManager(t.nc, { timeout: t.jetStreamSetup.apiTimeoutMs, checkAPI: false });
}

/** The stream's retention, subjects and sources; `null` when it does not exist. */
export async function describeStream(transport: Transport, name: string): Promise<StreamDescription | null> {
  const t = natsTransport(transport);
  return t.setUpJetStream(`stream ${name} (describe)`, async () => {
    const jsm = await manager(t);
    try {
      const info = await jsm.streams.info(name);
      const retention =
        info.config.retention === RetentionPolicy.Workqueue
          ? "workqueue"
          : info.config.retention === RetentionPolicy.Interest
            ? "interest"
            : "limits";
      return {
        name,
        retention,
        subjects: info.config.subjects ?? [],
        sources: (info.config.sources ?? []).map((s) => {
          // The server reports each source by name (external sources also carry their API prefix).
          const live = info.sources?.find(
            (i) =>
              i.name === s.name && (i as { external?: { api?: string } }).external?.api === s.external?.api,
          );
          return {
            name: s.name,
            apiPrefix: s.external?.api,
            lag: live?.lag ?? 0,
            ...(live?.error ? { error: live.error.description } : {}),
          };
        }),
      };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JS_STREAM_NOT_FOUND) return null;
      throw err;
    }
  });
}

/** What another domain's stream stores: its subjects, `"missing"`, or `"unreachable"` (with why). */
export type RemoteStreamSubjects =
  | { readonly state: "found"; readonly subjects: string[] }
  | { readonly state: "missing" }
  | { readonly state: "unreachable"; readonly reason: string };

/**
 * The subjects of stream `name` in the domain reached through `apiPrefix` (`$JS.<domain>.API`),
 * asked once within `timeoutMs` (no setup retry: a leaf link that is down answers "unreachable").
 */
export async function remoteStreamSubjects(
  transport: Transport,
  name: string,
  apiPrefix: string,
  timeoutMs: number,
): Promise<RemoteStreamSubjects> {
  const t = natsTransport(transport);
  try {
    const jsm = await jetstreamManager(t.nc, { apiPrefix, timeout: timeoutMs, checkAPI: false });
    const info = await jsm.streams.info(name);
    return { state: "found", subjects: info.config.subjects ?? [] };
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JS_STREAM_NOT_FOUND) return { state: "missing" };
    return { state: "unreachable", reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The JetStream domain of the server this connection reaches (`jetstream { domain }`), or
 * undefined when it has none. Read from the account info once per call: cache it.
 */
export async function jetStreamDomain(transport: Transport): Promise<string | undefined> {
  const t = natsTransport(transport);
  return t.setUpJetStream("account info (domain)", async () => {
    const info = await (await manager(t)).getAccountInfo();
    return info.domain || undefined;
  });
}

/**
 * Adds the sources the stream `stream` (which must exist) does not have yet, keeping the others.
 * Resolves with the sources it added. Idempotent.
 *
 * @throws ConfigurationError when the stream does not exist.
 */
export async function addStreamSources(
  transport: Transport,
  stream: string,
  sources: StreamSourceSpec[],
): Promise<StreamSourceSpec[]> {
  const t = natsTransport(transport);
  return t.setUpJetStream(`stream ${stream} (sources)`, async () => {
    const jsm = await manager(t);
    let config: Awaited<ReturnType<typeof jsm.streams.info>>["config"];
    try {
      config = (await jsm.streams.info(stream)).config;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JS_STREAM_NOT_FOUND) {
        throw new ConfigurationError(`stream ${stream} does not exist: create it before adding sources`, {
          cause: err,
        });
      }
      throw err;
    }
    const existing = config.sources ?? [];
    const missing = sources.filter(
      (s) => !existing.some((e) => e.name === s.name && e.external?.api === s.apiPrefix),
    );
    if (missing.length === 0) return [];
    const added: StreamSource[] = missing.map((s) => ({
      name: s.name,
      external: { api: s.apiPrefix, deliver: "" },
      ...(s.filterSubject ? { filter_subject: s.filterSubject } : {}),
    }));
    await jsm.streams.update(stream, { ...config, sources: [...existing, ...added] });
    return missing;
  });
}

/** A stream that only copies other streams (no subjects of its own), with limits retention. */
export interface SourcedStreamSpec {
  name: string;
  /** Its one source. */
  source: StreamSourceSpec;
  /** Messages older than this are dropped (0: never). */
  maxAgeMs: number;
  /** Drop the oldest beyond this many bytes (default: no limit). */
  maxBytes?: number;
  /** When created: copy only messages the source stored from this time on (default: all). */
  startAt?: Date;
  description?: string;
}

/**
 * Creates a stream whose only messages are the copies of its source, or brings an existing one to
 * `spec`'s source (a changed filter replaces the old source: nats-server 2.9 takes one filter per
 * source and one source per name). Resolves with true when it created or changed the source.
 */
export async function ensureSourcedStream(transport: Transport, spec: SourcedStreamSpec): Promise<boolean> {
  const t = natsTransport(transport);
  const wanted: StreamSource = {
    name: spec.source.name,
    external: { api: spec.source.apiPrefix, deliver: "" },
    ...(spec.source.filterSubject ? { filter_subject: spec.source.filterSubject } : {}),
  };
  return t.setUpJetStream(`stream ${spec.name} (sourced)`, async () => {
    const jsm = await manager(t);
    let config: Awaited<ReturnType<typeof jsm.streams.info>>["config"] | undefined;
    try {
      config = (await jsm.streams.info(spec.name)).config;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JS_STREAM_NOT_FOUND)) throw err;
    }
    if (config === undefined) {
      await jsm.streams.add({
        name: spec.name,
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: nanos(spec.maxAgeMs),
        max_bytes: spec.maxBytes ?? -1,
        sources: [spec.startAt ? { ...wanted, opt_start_time: spec.startAt.toISOString() } : wanted],
        ...(spec.description ? { description: spec.description } : {}),
      });
      return true;
    }
    const same = (config.sources ?? []).find(
      (s) =>
        s.name === wanted.name &&
        s.external?.api === wanted.external?.api &&
        (s.filter_subject || undefined) === (wanted.filter_subject || undefined),
    );
    if (same && config.sources?.length === 1) return false;
    const kept = (config.sources ?? []).find((s) => s.name === wanted.name)?.opt_start_time;
    await jsm.streams.update(spec.name, {
      ...config,
      sources: [kept ? { ...wanted, opt_start_time: kept } : wanted],
    });
    return true;
  });
}
