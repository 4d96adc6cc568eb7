import { connect as natsConnect } from "@nats-io/transport-node";
import test from "ava";
import { startMesh } from "../helpers/mesh.js";
import { Counter } from "./fixtures.js";

// This process registers no OpenTelemetry SDK: tracing is off.
test("tracing off - calls and tells carry no headers and their results are unchanged", async (t) => {
  const { mesh: hostMesh, url, connectAnother } = await startMesh(t);
  await hostMesh.host([Counter], { jobs: false, subscriptions: false, reminders: false });
  // A separate connection, so the calls cross NATS (calls to a host of the same connection don't).
  const mesh = await connectAnother();
  const nc = await natsConnect({ servers: url });
  t.teardown(() => nc.close());
  const seen: { headers: boolean }[] = [];
  // A plain (non-queue) subscriber gets a copy of every call sent to the type's shards.
  nc.subscribe(`${mesh.subjects.prefix}.rpc.Counter.*`, {
    callback: (_err, msg) => {
      seen.push({ headers: msg.headers !== undefined });
    },
  });
  await nc.flush();
  const counter = mesh.ref(Counter, "plain");
  t.is(await counter.increment(2), 2);
  counter.tell.increment(3);
  t.is(await counter.get(), 5);
  await nc.flush();
  t.true(seen.length >= 3, `saw ${seen.length} messages`);
  t.true(
    seen.every((m) => !m.headers),
    "no header block on any message",
  );
});

test("local delivery - calls and tells to an actor hosted on the same connection skip the broker", async (t) => {
  const { mesh, url } = await startMesh(t);
  await mesh.host([Counter], { jobs: false, subscriptions: false, reminders: false });
  const nc = await natsConnect({ servers: url });
  t.teardown(() => nc.close());
  let crossed = 0;
  nc.subscribe(`${mesh.subjects.prefix}.rpc.Counter.*`, {
    callback: () => {
      crossed++;
    },
  });
  await nc.flush();
  const counter = mesh.ref(Counter, "near");
  t.is(await counter.increment(2), 2);
  counter.tell.increment(3);
  t.is(await counter.get(), 5);
  await nc.flush();
  t.is(crossed, 0);
});
