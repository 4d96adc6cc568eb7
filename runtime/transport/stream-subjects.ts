/**
 * Growing a stream's subject list (the devices stream stores the subjects MQTT subscriptions
 * name): a subject already covered by one the stream has is not added; one that covers some of
 * them replaces those.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { ConfigurationError } from "../errors.js";
import { NatsTransport } from "./nats-transport.js";
import type { Transport } from "./transport.js";

/** True when every subject matching `narrow` also matches `wide` (NATS wildcards `*` and `>`). */
export function subjectCovers(wide: string, narrow: string): boolean {
  const w = wide.split(".");
  const n = narrow.split(".");
  for (let i = 0; i < w.length; i++) {
    if (w[i] === ">") return n.length > i;
    if (i >= n.length || n[i] === ">") return false;
    if (w[i] !== "*" && (n[i] === "*" || w[i] !== n[i])) return false;
  }
  return w.length === n.length;
}

/** Adds to `stream` (which must exist) the subjects it does not cover yet; resolves with those added. */
export async function addStreamSubjects(
  transport: Transport,
  stream: string,
  subjects: string[],
): Promise<string[]> {
  if (!(transport instanceof NatsTransport))
    throw new ConfigurationError("stream subjects need the NATS transport");
  const t = transport;
  return t.setUpJetStream(`stream ${stream} (subjects)`, async () => {
    const jsm = await jetstreamManager(t.nc, { timeout: t.jetStreamSetup.apiTimeoutMs, checkAPI: false });
    const info = await jsm.streams.info(stream);
    let current = info.config.subjects ?? [];
    const added: string[] = [];
    for (const s of subjects) {
      if (current.some((c) => subjectCovers(c, s))) continue;
      current = [...current.filter((c) => !subjectCovers(s, c)), s];
      added.push(s);
    }
    if (added.length) await jsm.streams.update(stream, { ...info.config, subjects: current });
    return added;
  });
}
