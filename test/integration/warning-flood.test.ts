/**
 * A flood of malformed messages at a host writes a bounded number of log lines that count every
 * refusal (issue 12, item 5: one warning per refused message filled disks).
 */
import { connect as natsConnect } from "@nats-io/transport-node";
import test from "ava";
import { Actor } from "troupe";
import { limitRepeats } from "../../runtime/log.js";
import { recordingLogger } from "../helpers/logger.js";
import { eventually, startMesh } from "../helpers/mesh.js";

class Echo extends Actor {
  static options = { shards: 4 };
  async echo(value: unknown): Promise<unknown> {
    return value;
  }
}

test("warnings - a flood of malformed messages at a host writes a bounded number of lines that count every refusal", async (t) => {
  const log = recordingLogger();
  const everyMs = 250;
  limitRepeats(log.logger, { everyMs });
  const { mesh, url } = await startMesh(t, { logger: log.logger });
  await mesh.host([Echo], { jobs: false, reminders: false, subscriptions: false });
  const nc = await natsConnect({ servers: url });
  t.teardown(() => nc.close());

  const flood = 3_000;
  const started = performance.now();
  for (let i = 0; i < flood; i++) {
    // A reserved byte, a truncated array, a wrong envelope: all refused as malformed (one key).
    const data =
      i % 3 === 0
        ? new Uint8Array([0xc1])
        : i % 3 === 1
          ? new Uint8Array([0x91, 0x91])
          : new Uint8Array([0x92, 1, 2]);
    nc.publish(mesh.subjects.rpc("Echo", i % 4), data);
  }
  await nc.flush();
  const refusals = () => log.at("warn").filter((e) => e.msg === "refused a call");
  const counted = () =>
    refusals().reduce((n, e) => n + (typeof e.fields?.suppressed === "number" ? e.fields.suppressed : 1), 0);
  // Every refusal is accounted for once the last interval's summary is written.
  await eventually(() => counted() === flood, 30_000 + 4 * everyMs, `${flood} refusals counted`);
  const elapsed = performance.now() - started;
  const lines = refusals().length;
  const kinds = new Set(refusals().map((e) => e.fields?.code)).size;
  // Per kind: the first line, then at most one per interval.
  const bound = kinds * (2 + Math.ceil(elapsed / everyMs));
  t.true(lines <= bound, `${lines} lines for ${flood} refusals (bound ${bound})`);
  t.true(lines < flood / 10, `${lines} lines for ${flood} refusals`);
  t.true(
    refusals().some((e) => typeof e.fields?.suppressed === "number" && e.fields.suppressed > 0),
    "a summary says how many were not written",
  );
  // And the host still serves.
  t.is(await mesh.ref(Echo, "after").echo("alive"), "alive");
});
