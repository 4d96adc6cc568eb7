/**
 * Sparse connectivity: a field device keeps working while it has no connection. Its inspections
 * are durable jobs enqueued through a local outbox: written to disk before each call returns,
 * forwarded in order once NATS is reachable, each with its job id as `Nats-Msg-Id` so a resend
 * after a crash is dropped as a duplicate. A call that needs a reply fails at once while offline.
 *
 *   node --conditions=troupe-source --import tsx services/examples/outbox/field-log.ts
 *
 * The example starts its own nats-server late (on a port reserved first) to play the link
 * coming back.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Actor, connect, consoleLogger, OfflineError } from "troupe";
import { reservePorts, startNatsServer } from "troupe/testing";

export class Logbook extends Actor<{ entries: string[] }> {
  static initialState = () => ({ entries: [] as string[] });
  async record(entry: string): Promise<number> {
    this.state.entries.push(entry);
    return this.state.entries.length;
  }
  async entries(): Promise<string[]> {
    return this.state.entries;
  }
}

export async function fieldLogExample(log: (line: string) => void): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-field-log-"));
  const [port] = await reservePorts(1);
  const servers = `nats://127.0.0.1:${port}`;
  const prefix = `fieldlog${process.pid}`;
  const logger = consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent");
  // The device: NATS is out of reach, yet connect() returns.
  const device = await connect({
    servers,
    prefix,
    logger,
    reconnectTimeWaitMs: 200,
    outbox: { path: dir, ttlMs: 24 * 3600_000 },
  });
  const outbox = device.outbox;
  if (!outbox) throw new Error("connect({ outbox }) gives mesh.outbox");
  outbox.on("online", () => log("online: forwarding"));
  let server: Awaited<ReturnType<typeof startNatsServer>> | undefined;
  try {
    const jobs = [];
    for (const pump of ["pump-1 ok", "pump-2 leaking", "pump-3 ok"]) {
      jobs.push(await device.enqueue(Logbook, "site-7").record(pump)); // on disk when it returns
    }
    log(`offline: ${outbox.status().pending} inspections kept in the outbox`);
    try {
      await device.ref(Logbook, "site-7").entries();
    } catch (err) {
      if (err instanceof OfflineError) log(`a call while offline fails at once: ${err.code}`);
      else throw err;
    }

    // The link comes back; a host somewhere serves Logbook.
    server = await startNatsServer({ port });
    await outbox.drained();
    log(`drained: ${outbox.status().pending} pending`);
    const office = await connect({ servers, prefix, logger });
    try {
      await office.host([Logbook]);
      for (const job of jobs) await job.result({ timeoutMs: 60_000 });
      const entries = await office.ref(Logbook, "site-7").entries();
      log(`site-7 logbook: ${entries.join(", ")}`);
    } finally {
      await office.close();
    }
  } finally {
    await device.close();
    await server?.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await fieldLogExample((line) => console.log(line));
}
