/**
 * A NATS client on a bare socket, for sending what nats.js refuses to build: a message whose header
 * block has a space or a non-ASCII character in a header name, or a lone LF in a value. The server
 * forwards header bytes as they are, so a subscriber receives exactly these bytes.
 *
 * @example
 * ```ts
 * await publishRaw(server.url, "orders.x", { header: headerBlock(["bad name: 1"]), payload });
 * ```
 */
import { connect, type Socket } from "node:net";

/** Header blocks that made nats.js throw in its reader (issue 12, item 1). */
export const MALFORMED_HEADER_BLOCKS: Readonly<Record<string, Buffer>> = {
  "a space in a header name": headerBlock(["bad name: 1"]),
  "a non-ASCII character in a header name": headerBlock(["naïve: 1"]),
  "a lone LF in a value": headerBlock(["x-note: one\ntwo"]),
};

/**
 * The malformed blocks, and a well-formed one that nats.js's decoder (quadratic in distinct names)
 * takes about 20 s for. JetStream refuses header blocks over 64 KiB, so that one reaches core
 * subscribers only: stored-message tests use {@link MALFORMED_HEADER_BLOCKS}.
 */
export const BAD_HEADER_BLOCKS: Readonly<Record<string, Buffer>> = {
  ...MALFORMED_HEADER_BLOCKS,
  "20,000 distinct header names": headerBlock(Array.from({ length: 20_000 }, (_, i) => `k${i}: 1`)),
};

/** `NATS/1.0` then each line, CRLF-separated, ending with the blank line (UTF-8, nothing checked). */
export function headerBlock(lines: string[]): Buffer {
  return Buffer.from(`NATS/1.0\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`, "utf8");
}

export interface RawMessage {
  /** The header block's bytes as sent (see {@link headerBlock}). */
  header: Uint8Array;
  payload: Uint8Array;
  reply?: string;
}

/**
 * Sends each message with HPUB on a fresh socket, then PING, and resolves once the server's PONG
 * says it has processed them (rejects on `-ERR`).
 */
export async function publishRaw(url: string, subject: string, ...messages: RawMessage[]): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  try {
    await converse(socket, (send) => {
      send(Buffer.from('CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n'));
      for (const m of messages) {
        const total = m.header.length + m.payload.length;
        const reply = m.reply ? ` ${m.reply}` : "";
        send(Buffer.from(`HPUB ${subject}${reply} ${m.header.length} ${total}\r\n`));
        send(Buffer.from(m.header));
        send(Buffer.from(m.payload));
        send(Buffer.from("\r\n"));
      }
      send(Buffer.from("PING\r\n"));
    });
  } finally {
    socket.destroy();
  }
}

/** Waits for the server's INFO, runs `write`, then waits for PONG. */
function converse(socket: Socket, write: (send: (b: Buffer) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = "";
    let wrote = false;
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`raw NATS socket closed early: ${text}`)));
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (text.includes("-ERR")) {
        reject(new Error(`server refused the raw message: ${text.trim()}`));
        return;
      }
      if (!wrote && text.includes("\r\n")) {
        wrote = true;
        write((b) => socket.write(b));
      }
      if (wrote && text.includes("PONG\r\n")) resolve();
    });
  });
}
