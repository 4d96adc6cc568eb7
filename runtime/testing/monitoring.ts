import http from "node:http";

/** One answer of the monitoring HTTP server. */
export interface MonitorResponse {
  status: number;
  body: string;
}

/** `meta_cluster` of `/jsz` on a clustered server (nats-server 2.9). `leader` is a server name. */
export interface JszMetaCluster {
  name?: string;
  leader?: string;
  peer?: string;
  cluster_size?: number;
}

/** A stream as listed by `/jsz?streams=true`. */
export interface JszStream {
  name: string;
  created: string;
  cluster?: { name?: string; leader?: string };
  state: { messages: number; bytes: number; first_seq: number; last_seq: number; consumer_count: number };
}

/** An account as listed by `/jsz?accounts=true` or `?streams=true` (`$G` without auth). */
export interface JszAccount {
  name: string;
  id: string;
  stream_detail?: JszStream[];
}

/** The parts of nats-server 2.9's `/jsz` answer the harness uses. */
export interface Jsz {
  server_id: string;
  config?: { max_memory: number; max_storage: number; store_dir: string };
  streams: number;
  consumers: number;
  messages: number;
  bytes: number;
  meta_cluster?: JszMetaCluster;
  account_details?: JszAccount[];
}

/**
 * GETs a monitoring URL. Resolves with any HTTP status; rejects on connection errors and after
 * `timeoutMs` (a stopped or SIGSTOPped server never answers). No keep-alive: nothing lingers.
 *
 * @example
 * ```ts
 * const { status } = await monitorGet(`${server.monitorUrl}/healthz`);
 * ```
 */
export function monitorGet(url: string, timeoutMs = 2_000): Promise<MonitorResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/** GETs a monitoring URL and parses its JSON; rejects unless the status is 200. */
export async function monitorJson<T>(url: string, timeoutMs?: number): Promise<T> {
  const res = await monitorGet(url, timeoutMs);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${res.body.slice(0, 200)}`);
  return JSON.parse(res.body) as T;
}
