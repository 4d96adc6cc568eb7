/**
 * Runs one jobs example: against NATS_URL if set, else against a throwaway local nats-server.
 * The examples use only the public API: `mesh.host(types, { jobs })`, `mesh.enqueue`, `mesh.job`.
 */
import { pathToFileURL } from "node:url";
import { connect, consoleLogger, type Mesh } from "troupe";
import { startNatsServer } from "troupe/testing";

export type Example = (mesh: Mesh, log: (line: string) => void) => Promise<void>;

/** Runs `example` when its file is the process entry point. */
export async function runIfMain(moduleUrl: string, example: Example): Promise<void> {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  const server = process.env.NATS_URL ? undefined : await startNatsServer();
  const mesh = await connect({
    servers: process.env.NATS_URL ?? server?.url,
    prefix: `example${process.pid}`,
    logger: consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent"),
  });
  try {
    await example(mesh, (line) => console.log(line));
  } finally {
    await mesh.close();
    await server?.cleanup();
  }
}
