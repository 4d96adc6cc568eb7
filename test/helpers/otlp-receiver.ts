/**
 * A real OTLP/HTTP trace receiver for tests: accepts `POST /v1/traces` as `application/x-protobuf`
 * (decoded with the official opentelemetry-proto schema, as shipped in the `otlp-official-protos`
 * dev dependency, an alias of @opentelemetry/otlp-grpc-exporter-base@0.36.0, the last release that shipped the .proto files) or `application/json`
 * (OTLP/JSON), optionally gzip-compressed, and keeps every span it received.
 *
 * @example
 * ```ts
 * const receiver = await startOtlpReceiver();
 * t.teardown(() => receiver.close());
 * process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
 * const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === "call Cart.add"), 10_000);
 * ```
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import * as grpcJs from "@grpc/grpc-js";
import protobuf from "protobufjs";

export type DecodedSpanKind = "UNSPECIFIED" | "INTERNAL" | "SERVER" | "CLIENT" | "PRODUCER" | "CONSUMER";
export type DecodedStatusCode = "UNSET" | "OK" | "ERROR";
export type DecodedValue = string | number | boolean | null | DecodedValue[] | { [k: string]: DecodedValue };

export interface DecodedLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes: Record<string, DecodedValue>;
}

export interface DecodedEvent {
  readonly name: string;
  readonly attributes: Record<string, DecodedValue>;
}

export interface DecodedSpan {
  /** Lower-case hex (32 chars). */
  readonly traceId: string;
  /** Lower-case hex (16 chars). */
  readonly spanId: string;
  /** Lower-case hex, or "" for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: DecodedSpanKind;
  readonly attributes: Record<string, DecodedValue>;
  readonly links: DecodedLink[];
  readonly events: DecodedEvent[];
  readonly status: { readonly code: DecodedStatusCode; readonly message: string };
  /** `service.name` of the span's resource. */
  readonly serviceName: string;
  readonly scopeName: string;
}

export interface OtlpReceiver {
  /** Base URL to use as `OTEL_EXPORTER_OTLP_ENDPOINT` (the exporter appends `/v1/traces`). */
  readonly url: string;
  /** Every span received so far, in arrival order. */
  spans(): DecodedSpan[];
  /** Resolves with all spans once `predicate(all)` holds; rejects after `timeoutMs` listing what came. */
  waitForSpans(predicate: (spans: DecodedSpan[]) => boolean, timeoutMs?: number): Promise<DecodedSpan[]>;
  /** `http://127.0.0.1:<port>` of the OTLP/gRPC TraceService, when started with `{ grpc: true }`. */
  readonly grpcUrl: string | undefined;
  /** Number of export requests received (including ones that failed to decode). */
  readonly requests: number;
  close(): Promise<void>;
}

const PROTO_DIR = fileURLToPath(
  new URL("../../node_modules/otlp-official-protos/build/protos", import.meta.url),
);
const KINDS: DecodedSpanKind[] = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"];
const STATUS: DecodedStatusCode[] = ["UNSET", "OK", "ERROR"];

let requestType: protobuf.Type | undefined;
function exportTraceServiceRequest(): protobuf.Type {
  if (!requestType) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
    root.loadSync("opentelemetry/proto/collector/trace/v1/trace_service.proto", { keepCase: false });
    // `flags` (W3C trace flags, plus bits saying whether the parent / linked span is remote) came
    // in OTLP 1.1, after the schema these .proto files snapshot: Span field 16, Span.Link field 6.
    const span = root.lookupType("opentelemetry.proto.trace.v1.Span");
    span.add(new protobuf.Field("flags", 16, "fixed32"));
    root.lookupType("opentelemetry.proto.trace.v1.Span.Link").add(new protobuf.Field("flags", 6, "fixed32"));
    requestType = root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
  }
  return requestType;
}

export async function startOtlpReceiver(options: { grpc?: boolean } = {}): Promise<OtlpReceiver> {
  const received: DecodedSpan[] = [];
  const waiters = new Set<() => void>();
  let requests = 0;
  const grpc = options.grpc
    ? await startGrpcTraceService((body) => {
        requests++;
        received.push(...decodeProtobuf(body));
        for (const w of waiters) w();
      })
    : undefined;
  const server = createServer(async (req, res) => {
    requests++;
    try {
      if (req.method !== "POST" || req.url?.split("?")[0] !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      const json = (req.headers["content-type"] ?? "").includes("json");
      const body = await readBody(req);
      received.push(...(json ? decodeJson(body) : decodeProtobuf(body)));
      for (const w of waiters) w();
      res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
      res.end(json ? "{}" : Buffer.alloc(0));
    } catch (err) {
      res.writeHead(400, { "content-type": "text/plain" }).end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    grpcUrl: grpc?.url,
    spans: () => [...received],
    get requests() {
      return requests;
    },
    waitForSpans(predicate, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(received)) return;
          cleanup();
          resolve([...received]);
        };
        const timer = setTimeout(() => {
          cleanup();
          const names = received.map((s) => `${s.kind} ${s.name}`).join(", ") || "none";
          reject(
            new Error(`OTLP receiver: condition not met within ${timeoutMs} ms; spans received: ${names}`),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: async () => {
      grpc?.server.forceShutdown();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/**
 * The OTLP/gRPC `TraceService/Export` method on a real grpc-js server: request bytes are decoded
 * with the same official schema as the HTTP receiver; the response is an empty
 * ExportTraceServiceResponse (all spans accepted).
 */
async function startGrpcTraceService(
  onExport: (body: Buffer) => void,
): Promise<{ server: grpcJs.Server; url: string }> {
  const server = new grpcJs.Server();
  const identity = (b: Buffer) => b;
  server.addService(
    {
      Export: {
        path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      Export: (call: grpcJs.ServerUnaryCall<Buffer, Buffer>, callback: grpcJs.sendUnaryData<Buffer>) => {
        try {
          onExport(call.request);
          callback(null, Buffer.alloc(0));
        } catch (err) {
          callback({ code: grpcJs.status.INVALID_ARGUMENT, details: String(err) });
        }
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpcJs.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, url: `http://127.0.0.1:${port}` };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
}

/**
 * An OTLP protobuf `ExportTraceServiceRequest` decoded with the official schema into a plain
 * object (camelCase fields, 64-bit integers as decimal strings, ids as byte arrays, enums as
 * numbers, absent fields as their defaults), for tests that check every field an encoder wrote.
 */
/**
 * Waits until `receiver` has the spans of one call of `method` ("Type.method"): the caller's
 * `call …` span and the host's `process …` turn span.
 */
export async function callAndTurnSpans(
  receiver: OtlpReceiver,
  method: string,
): Promise<{ call: DecodedSpan | undefined; turn: DecodedSpan | undefined }> {
  const names = [`call ${method}`, `process ${method}`];
  const spans = await receiver.waitForSpans((all) => names.every((n) => all.some((s) => s.name === n)));
  return { call: spans.find((s) => s.name === names[0]), turn: spans.find((s) => s.name === names[1]) };
}

export function decodeTraceRequest(body: Uint8Array): Record<string, unknown> {
  const type = exportTraceServiceRequest();
  return type.toObject(type.decode(body), { longs: String, enums: Number, bytes: Array, defaults: true });
}

function decodeProtobuf(body: Buffer): DecodedSpan[] {
  const type = exportTraceServiceRequest();
  const object = type.toObject(type.decode(body), { longs: String, enums: Number, bytes: Array });
  return flatten(object as OtlpRequest);
}

function decodeJson(body: Buffer): DecodedSpan[] {
  return flatten(JSON.parse(body.toString("utf8")) as OtlpRequest);
}

// The shape shared by protobufjs' toObject (camelCase) and OTLP/JSON; ids are byte arrays in the
// first and hex strings in the second, enums are numbers in both.
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: number[] | string;
}
type OtlpId = number[] | string | undefined;
interface OtlpSpan {
  traceId?: OtlpId;
  spanId?: OtlpId;
  parentSpanId?: OtlpId;
  name?: string;
  kind?: number;
  attributes?: OtlpKeyValue[];
  links?: { traceId?: OtlpId; spanId?: OtlpId; attributes?: OtlpKeyValue[] }[];
  events?: { name?: string; attributes?: OtlpKeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

function flatten(request: OtlpRequest): DecodedSpan[] {
  const out: DecodedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes);
    const serviceName = typeof resource["service.name"] === "string" ? resource["service.name"] : "";
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name ?? "",
          kind: KINDS[s.kind ?? 0] ?? "UNSPECIFIED",
          attributes: attributesOf(s.attributes),
          links: (s.links ?? []).map((l) => ({
            traceId: hex(l.traceId),
            spanId: hex(l.spanId),
            attributes: attributesOf(l.attributes),
          })),
          events: (s.events ?? []).map((e) => ({
            name: e.name ?? "",
            attributes: attributesOf(e.attributes),
          })),
          status: { code: STATUS[s.status?.code ?? 0] ?? "UNSET", message: s.status?.message ?? "" },
          serviceName,
          scopeName: ss.scope?.name ?? "",
        });
      }
    }
  }
  return out;
}

function hex(id: OtlpId): string {
  if (id === undefined) return "";
  return typeof id === "string" ? id.toLowerCase() : Buffer.from(id).toString("hex");
}

function attributesOf(list: OtlpKeyValue[] | undefined): Record<string, DecodedValue> {
  const out: Record<string, DecodedValue> = {};
  for (const kv of list ?? []) out[kv.key] = decodeValue(kv.value);
  return out;
}

function decodeValue(v: OtlpAnyValue | undefined): DecodedValue {
  // Only the member that is set is present (protobufjs without `defaults`, and OTLP/JSON).
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(decodeValue);
  if (v.kvlistValue) return attributesOf(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return hex(v.bytesValue);
  return null;
}
