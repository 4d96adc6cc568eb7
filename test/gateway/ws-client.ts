/**
 * A real WebSocket client (ws) for the gateway tests: collects every frame the gateway sends and
 * waits for frames by condition, never by time.
 */
import type { ExecutionContext } from "ava";
import WebSocket from "ws";

// biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary frame fields
export type Frame = Record<string, any>;

export interface WsClient {
  readonly ws: WebSocket;
  /** Every frame received, in order. */
  readonly frames: Frame[];
  send(frame: unknown): void;
  /** The first frame (from `from`) matching `match`; waits for it. */
  next(match: (f: Frame) => boolean, what?: string, from?: number): Promise<Frame>;
  /** Sends a frame and waits for the answer with its id (a result, error, subscribed, pong...). */
  request(frame: Frame & { id: string | number }): Promise<Frame>;
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

export function wsUrl(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, "ws")}/v1/ws`;
}

/** Opens a socket to the gateway with these headers; resolves once the welcome frame arrived. */
export async function openWs(
  t: ExecutionContext,
  gatewayUrl: string,
  headers: Record<string, string>,
  options: WebSocket.ClientOptions = {},
): Promise<WsClient> {
  const ws = new WebSocket(wsUrl(gatewayUrl), "troupe.v1", { headers, ...options });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  ws.on("message", (data) => {
    frames.push(JSON.parse(String(data)));
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code, reason) => {
      resolve({ code, reason: String(reason) });
      for (const w of [...waiters]) w();
    }),
  );
  t.teardown(() => {
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  const next = (match: (f: Frame) => boolean, what = "a frame", from = 0) =>
    new Promise<Frame>((resolve, reject) => {
      const check = () => {
        const found = frames.slice(from).find(match);
        if (found) {
          waiters.delete(check);
          resolve(found);
        } else if (ws.readyState === WebSocket.CLOSED) {
          waiters.delete(check);
          reject(new Error(`socket closed before ${what}; frames: ${JSON.stringify(frames).slice(0, 2000)}`));
        }
      };
      waiters.add(check);
      check();
    });
  const client: WsClient = {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    next,
    request(frame) {
      const from = frames.length;
      client.send(frame);
      return next(
        (f) => f.id === frame.id && f.op !== "event" && f.op !== "dropped",
        `answer to ${frame.id}`,
        from,
      );
    },
  };
  await next((f) => f.op === "welcome", "welcome");
  return client;
}

/** The refusal of an upgrade: status, headers and the body as JSON. */
export function refusedUpgrade(
  gatewayUrl: string,
  headers: Record<string, string>,
  // biome-ignore lint/suspicious/noExplicitAny: problem bodies are read field by field
): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(gatewayUrl), { headers });
    ws.once("open", () => {
      ws.terminate();
      reject(new Error("the upgrade was accepted"));
    });
    ws.once("error", () => undefined);
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text ? JSON.parse(text) : undefined,
        });
      });
      res.on("error", reject);
    });
  });
}
