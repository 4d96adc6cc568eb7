/**
 * The HTTP gateway at 64 connections: autocannon POSTs an Echo call (the rr rows' payload, as JSON)
 *
 * - through Troupe's gateway (services/gateway: default middleware, an API key checked per
 *   request, schema validation, a mesh call to an Echo actor on a host process), against
 * - a minimal Fastify server doing the same NATS request-reply by hand (JSON in, msgpack over NATS
 *   with the raw mux requester to the rr raw echo responder, JSON out): the baseline.
 *
 * The HTTP servers run in one worker process, the Troupe host and the raw responder in another,
 * and autocannon in the bench parent, so the gateway's CPU is not shared with autocannon's. Requests go to 64 actor ids in turn (Echo is a plain actor: one turn at
 * a time per id), like the rr.echo.c64 row. Ops/s are completed 2xx responses per second; p50 is
 * autocannon's.
 */
import autocannon from "autocannon";
import Fastify from "fastify";
import { pack, unpack } from "msgpackr";
import { consoleLogger } from "troupe";
import { ApiKeys, credentials, startGateway } from "../../services/gateway/index.js";
import { measureCpu } from "../lib/cpu.js";
import type { CommandTable } from "../lib/ipc.js";
import { payloadFor } from "../lib/payload.js";
import { muxRequester } from "../lib/raw.js";
import { finishRow, type RowSpec, type Side } from "../lib/report.js";
import { interleavedRounds, type SideRunner } from "../lib/rounds.js";
import { type BenchContext, idOf, type Scenario, workerOf } from "../lib/scenario.js";
import { mesh, rawConnection } from "../lib/worker-env.js";

const ROW: RowSpec = {
  id: "gateway.c64",
  title: "HTTP gateway c=64, Echo over HTTP (autocannon)",
  target: { text: "ops ≥ 0.8× raw Fastify", metric: "opsRatio", limit: 0.8, direction: "min" },
};
const CONNECTIONS = 64;
const KEY = "bench-key-0123456789abcdef";
const ECHO_SUBJECT = "bench.rr.echo";

interface LoadArgs {
  url: string;
  warmupMs: number;
  durationMs: number;
  headers: Record<string, string>;
}

interface LoadResult {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  count: number;
  /** Responses of the warm-up and the measured run (CPU per op is over both). */
  totalOps: number;
  failed: number;
}

async function run(ctx: BenchContext): Promise<void> {
  if (!ctx.wants(ROW.id)) return;
  const { warmupMs, durationMs } = ctx.settings;
  // Two worker processes: the NATS side (Troupe host and raw responder) and the HTTP side (both
  // servers). The sides are measured one after the other, so the idle half of each process costs
  // nothing, and the gateway's mesh connection is not the host's (its calls cross NATS).
  // autocannon runs here, in the parent, which is otherwise idle while a side is measured.
  await ctx.withWorkers({ backend: {}, http: {} }, async (w) => {
    const backend = workerOf(w, "backend");
    const http = workerOf(w, "http");
    await backend.call("host", { types: ["Echo"] });
    await backend.call("rr.serve");
    const troupeUrl = await http.call<string>("gw.troupe");
    const rawUrl = await http.call<string>("gw.raw");
    const sides: [string, string, Record<string, string>, boolean][] = [
      ["Troupe gateway", troupeUrl, { "x-api-key": KEY }, false],
      ["raw Fastify + nats.js (baseline)", rawUrl, {}, true],
    ];
    const runners: SideRunner[] = sides
      .filter(([, , , baseline]) => ctx.wantsImpl(baseline ? "raw" : "troupe"))
      .map(([label, url, headers, baseline]) => ({
        run: async (round): Promise<Side> => {
          ctx.log(`${ROW.id}: ${label}${ctx.settings.rounds > 1 ? ` (round ${round + 1})` : ""}`);
          // CPU per request of the HTTP server process and of the process answering over NATS.
          const {
            result: r,
            cpuUsPerOp,
            writesPerOp,
          } = await measureCpu(
            { gateway: http, server: backend },
            ctx.natsPid,
            () => load({ url, warmupMs, durationMs, headers }),
            (res) => res.totalOps,
          );
          if (r.failed > 0) throw new Error(`${label}: ${r.failed} requests failed`);
          return {
            label,
            impl: baseline ? "raw" : "troupe",
            ...(baseline ? { baseline } : {}),
            opsPerSec: r.opsPerSec,
            p50Ms: r.p50Ms,
            p99Ms: r.p99Ms,
            count: r.count,
            cpuUsPerOp,
            writesPerOp,
          };
        },
      }));
    ctx.record(finishRow(ROW, await interleavedRounds(runners, ctx.settings.rounds)));
  });
}

// ---------------------------------------------------------------------------------------------
// Worker side

/** Troupe's gateway on a free port, with API-key authentication and the default middleware. */
async function serveTroupe(): Promise<string> {
  const gateway = await startGateway({
    mesh: await mesh(),
    auth: credentials({ apiKeys: ApiKeys.parse(`bench ${KEY}`) }),
    port: 0,
    logger: consoleLogger("warn"),
  });
  return gateway.url;
}

/** The baseline: Fastify, one route, the request-reply done by hand with the raw mux requester. */
async function serveRaw(): Promise<string> {
  const requester = muxRequester(await rawConnection("fast"));
  const app = Fastify({ logger: false });
  app.post<{ Params: { id: string }; Body: unknown[] }>("/v1/actors/Echo/:id/echo", async (req, reply) => {
    const reply_ = unpack(await requester.request(ECHO_SUBJECT, pack(req.body[0])));
    return reply.type("application/json").send(JSON.stringify(reply_));
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  return `http://127.0.0.1:${address && typeof address === "object" ? address.port : 0}`;
}

/** autocannon at 64 connections (in the bench parent): a warm-up run, then the measured one. */
async function load(a: LoadArgs): Promise<LoadResult> {
  const body = JSON.stringify([payloadFor("order-00000042")]);
  let next = 0;
  const options = {
    url: `${a.url}/v1/actors/Echo/${idOf("gw", 0)}/echo`,
    connections: CONNECTIONS,
    method: "POST",
    headers: { "content-type": "application/json", ...a.headers },
    body,
    requests: [
      {
        setupRequest: (req: { path?: string }) => ({
          ...req,
          path: `/v1/actors/Echo/${idOf("gw", next++ % CONNECTIONS)}/echo`,
        }),
      },
    ],
  };
  const warm = await autocannon({ ...options, duration: Math.max(0.2, a.warmupMs / 1000) });
  const r = await autocannon({ ...options, duration: Math.max(0.5, a.durationMs / 1000) });
  return {
    opsPerSec: r["2xx"] / (r.duration || 1),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    count: r["2xx"],
    totalOps: warm["2xx"] + r["2xx"],
    failed: r.errors + r.timeouts + r.non2xx,
  };
}

export const gateway: Scenario = {
  name: "gw",
  rows: [ROW],
  run,
  commands: { "gw.troupe": serveTroupe, "gw.raw": serveRaw } as CommandTable,
};
