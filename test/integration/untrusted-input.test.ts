import { connect as natsConnect } from "@nats-io/transport-node";
import test, { type ExecutionContext } from "ava";
import {
  Actor,
  MalformedMessageError,
  PayloadTooLargeError,
  type TroupeError,
  UnknownMethodError,
} from "troupe";
import { encode } from "../../runtime/messaging/codec.js";
import { decodeReply, encodeCall } from "../../runtime/messaging/envelope.js";
import { shardOf } from "../../runtime/placement/shard.js";
import { startMesh } from "../helpers/mesh.js";

class Echo extends Actor {
  static options = { shards: 8 };
  async echo(value: unknown): Promise<unknown> {
    return value;
  }
}

/** Sends raw bytes to the shard subject of Echo/`id` and returns the decoded error reply. */
async function rawCall(t: ExecutionContext, url: string, subject: string, data: Uint8Array) {
  const nc = await natsConnect({ servers: url });
  t.teardown(() => nc.close());
  const msg = await nc.request(subject, data, { timeout: 5000 });
  const reply = decodeReply(msg.data);
  if (reply.ok) return { ok: true as const, value: reply.value };
  return { ok: false as const, error: reply.error as TroupeError };
}

function withKey(value: unknown, placeholder: string, key: string): Uint8Array {
  const bytes = Buffer.from(encode(value));
  const at = bytes.indexOf(placeholder);
  if (at < 0 || placeholder.length !== key.length) throw new Error("placeholder not found");
  bytes.write(key, at);
  return bytes;
}

test("untrusted input - malformed bytes, oversize payloads and __proto__ keys get typed errors, and the host keeps serving", async (t) => {
  const { mesh, url } = await startMesh(t);
  await mesh.host([Echo], { maxPayloadBytes: 4096 });
  const id = "e1";
  const subject = mesh.subjects.rpc("Echo", shardOf(id, 8));

  const garbage = await rawCall(t, url, subject, new Uint8Array([0xc1, 0xff, 0x00, 0x13]));
  t.false(garbage.ok);
  t.true(!garbage.ok && garbage.error instanceof MalformedMessageError);

  const notAnEnvelope = await rawCall(t, url, subject, encode({ hello: "world" }));
  t.true(!notAnEnvelope.ok && notAnEnvelope.error instanceof MalformedMessageError);

  const wrongVersion = await rawCall(t, url, subject, encode([99, id, "echo", 1000, []]));
  t.true(!wrongVersion.ok && wrongVersion.error instanceof MalformedMessageError);
  t.regex(!wrongVersion.ok ? wrongVersion.error.message : "", /version/);

  const huge = await rawCall(
    t,
    url,
    subject,
    encodeCall({ actorId: id, method: "echo", timeoutMs: 1000, args: ["x".repeat(10_000)] }),
  );
  t.true(!huge.ok && huge.error instanceof PayloadTooLargeError);

  const protoPayload = withKey(
    [1, id, "echo", 1000, [{ __protoXX: { polluted: true } }]],
    "__protoXX",
    "__proto__",
  );
  const proto = await rawCall(t, url, subject, protoPayload);
  t.true(!proto.ok && proto.error instanceof MalformedMessageError);
  const ctor = await rawCall(
    t,
    url,
    subject,
    withKey(
      [1, id, "echo", 1000, [{ constructoX: { prototype: { polluted: true } } }]],
      "constructoX",
      "constructor",
    ),
  );
  t.true(!ctor.ok && ctor.error instanceof MalformedMessageError);
  t.is(({} as Record<string, unknown>).polluted, undefined);
  t.is(Object.hasOwn(Object.prototype, "polluted"), false);

  const wrongShard = await rawCall(
    t,
    url,
    mesh.subjects.rpc("Echo", (shardOf(id, 8) + 1) % 8),
    encodeCall({ actorId: id, method: "echo", timeoutMs: 1000, args: [1] }),
  );
  t.true(!wrongShard.ok && wrongShard.error instanceof MalformedMessageError);

  const unknownMethod = await rawCall(
    t,
    url,
    subject,
    encodeCall({ actorId: id, method: "hasOwnProperty", timeoutMs: 1000, args: [] }),
  );
  t.true(!unknownMethod.ok && unknownMethod.error instanceof UnknownMethodError);

  // After all of that the host still answers.
  t.deepEqual(await mesh.ref(Echo, id).echo({ a: [1, "two", null] }), { a: [1, "two", null] });
});

test("untrusted input - a tell with malformed bytes is logged and dropped without a crash", async (t) => {
  const { mesh, url } = await startMesh(t);
  await mesh.host([Echo]);
  const nc = await natsConnect({ servers: url });
  t.teardown(() => nc.close());
  for (let shard = 0; shard < 8; shard++)
    nc.publish(mesh.subjects.rpc("Echo", shard), new Uint8Array([0x91, 0x91]));
  await nc.flush();
  t.is(await mesh.ref(Echo, "still").echo("alive"), "alive");
});

test("untrusted input - a result larger than the server accepts gives PayloadTooLargeError, and the host keeps serving", async (t) => {
  const { mesh } = await startMesh(t);
  class Hoarder extends Actor {
    async dump(bytes: number): Promise<string> {
      return "x".repeat(bytes);
    }
  }
  await mesh.host([Hoarder, Echo]);
  const hoarder = mesh.ref(Hoarder, "h");
  // nats-server's default max_payload is 1 MiB.
  await t.throwsAsync(hoarder.with({ timeoutMs: 30_000 }).dump(2 * 1024 * 1024), {
    instanceOf: PayloadTooLargeError,
  });
  t.is((await hoarder.dump(3)).length, 3);
  // The same limit on the way in: refused on the caller before anything is sent.
  const big = "y".repeat(2 * 1024 * 1024);
  await t.throwsAsync(mesh.ref(Echo, "e").echo(big), { instanceOf: PayloadTooLargeError });
  t.throws(() => mesh.ref(Echo, "e").tell.echo(big), { instanceOf: PayloadTooLargeError });
});
