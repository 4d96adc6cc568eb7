import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type ClientReadableStream, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import test from "ava";
import { Actor, connect, consoleLogger } from "troupe";
import { scaleCommand } from "../../runtime/cli/scale.js";
import { jetStreamQueues } from "../../runtime/transport/jetstream-queue.js";
import { groupPolicy } from "../../services/control-plane/scaling/index.js";
import { openTransport, startPlane, TOKEN, waitFor } from "../control-plane/helpers.js";
import { type KedaClient, kedaCall, kedaClient, pollUntil } from "./keda-client.js";

class Chore extends Actor {
  async run(): Promise<void> {}
}

type Client = KedaClient;
const auth = () => {
  const md = new Metadata();
  md.set("authorization", `Bearer ${TOKEN}`);
  return md;
};
const call = <T>(client: Client, method: string, request: unknown, md = auth()): Promise<T> =>
  kedaCall<T>(client, method, request, md);

const ref = (scalerMetadata: Record<string, string>) => ({
  name: "chores",
  namespace: "default",
  scalerMetadata,
});

async function scaleStatus(
  address: string,
): Promise<{ group: string; desiredHosts: number; active: boolean }[]> {
  const dir = mkdtempSync(path.join(tmpdir(), "troupe-token-"));
  writeFileSync(path.join(dir, "token"), `${TOKEN}\n`);
  let text = "";
  const argv = ["status", "-o", "json", "--address", address, "--token-file", path.join(dir, "token")];
  const code = await scaleCommand(argv, {
    out: (t) => {
      text += t;
    },
    err: (t) => {
      throw new Error(t);
    },
  });
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`troupe scale status exited ${code}`);
  return JSON.parse(text);
}

test("keda - all four methods and a StreamIsActive stream follow the group's decision, as troupe scale status shows it", async (t) => {
  const prefix = "kedat";
  const { plane, natsUrl } = await startPlane(t, {
    prefix,
    scaling: {
      groups: [
        groupPolicy({
          group: "chores",
          minHosts: 0,
          maxHosts: 5,
          types: ["Chore"],
          targetBacklogPerHost: 10,
          scaleDownWindowMs: 0,
          stuckAfterMs: 600_000,
        }),
      ],
    },
  });
  const client = kedaClient(plane.address);
  t.teardown(() => client.close());
  const mesh = await connect({ servers: natsUrl, prefix, logger: consoleLogger("silent") });
  t.teardown(() => mesh.close());

  const spec = await call<{
    metricSpecs: { metricName: string; targetSize: string; targetSizeFloat: number }[];
  }>(client, "GetMetricSpec", ref({ group: "chores", scalerAddress: plane.address }));
  t.deepEqual(spec.metricSpecs, [{ metricName: "troupe-hosts-chores", targetSize: "1", targetSizeFloat: 1 }]);

  // Nothing queued: no host needed (min 0), inactive.
  const idle = await pollUntil(
    () => call<{ result: boolean }>(client, "IsActive", ref({ group: "chores" })),
    (r) => !r.result,
  );
  t.false(idle.result);

  const seen: boolean[] = [];
  const stream: ClientReadableStream<{ result: boolean }> = (
    client.StreamIsActive as (r: unknown, m: Metadata) => ClientReadableStream<{ result: boolean }>
  ).call(client, ref({ group: "chores", prefix }), auth());
  t.teardown(() => stream.cancel());
  stream.on("data", (m: { result: boolean }) => seen.push(m.result));
  stream.on("error", () => {});
  await waitFor(() => seen.length >= 1, 30_000, "the stream's first message");
  t.false(seen[0], "the stream starts with the current activity");

  // 35 jobs, no host: 10 per host before any rate is known → 4 hosts, active.
  for (let i = 0; i < 35; i++) await mesh.enqueue(Chore, `c${i}`, { keepResult: false }).run();
  await waitFor(() => seen.includes(true), 30_000, "the stream to report active");
  const active = await call<{ result: boolean }>(client, "IsActive", ref({ group: "chores" }));
  t.true(active.result);
  // A round that saw all 35 (the stream may have turned active on the first few).
  const metrics = await pollUntil(
    () =>
      call<{
        metricValues: { metricName: string; metricValue: string; metricValueFloat: number }[];
      }>(client, "GetMetrics", {
        scaledObjectRef: ref({ group: "chores" }),
        metricName: "s0-troupe-hosts-chores",
      }),
    (m) => m.metricValues[0]?.metricValueFloat === 4,
  );
  t.is(metrics.metricValues.length, 1);
  t.is(metrics.metricValues[0]?.metricName, "s0-troupe-hosts-chores");
  t.is(metrics.metricValues[0]?.metricValueFloat, 4);
  t.is(metrics.metricValues[0]?.metricValue, "4");
  // What KEDA's HPA computes (AverageValue target 1): ceil(value / target) = 4 = troupe scale status.
  const [chores] = (await scaleStatus(plane.address)).filter((d) => d.group === "chores");
  t.is(
    chores?.desiredHosts,
    Math.ceil((metrics.metricValues[0]?.metricValueFloat ?? 0) / (spec.metricSpecs[0]?.targetSizeFloat ?? 1)),
  );
  t.true(chores?.active);

  // The backlog goes away: the open stream hears the group go inactive.
  const transport = await openTransport(t, natsUrl);
  await jetStreamQueues(transport).purge(`${prefix}_jobs_Chore`);
  await waitFor(() => seen.at(-1) === false, 30_000, "the stream to report inactive");
  t.deepEqual(seen, [false, true, false]);
  const after = await scaleStatus(plane.address);
  t.false(after.find((d) => d.group === "chores")?.active);
});

test("keda - bad scalerMetadata gets INVALID_ARGUMENT or NOT_FOUND naming the field, and the server stays up", async (t) => {
  const { plane } = await startPlane(t, { scaling: { groups: [groupPolicy({ group: "known" })] } });
  const client = kedaClient(plane.address);
  t.teardown(() => client.close());
  const cases: [Record<string, string>, status, RegExp][] = [
    [{}, status.INVALID_ARGUMENT, /scalerMetadata\.group: required/],
    [{ group: "bad name!" }, status.INVALID_ARGUMENT, /scalerMetadata\.group/],
    [{ group: "nobody" }, status.NOT_FOUND, /scalerMetadata\.group nobody: not configured/],
    [{ group: "known", prefix: "other" }, status.NOT_FOUND, /scalerMetadata\.prefix/],
  ];
  for (const [metadata, code, message] of cases) {
    for (const [method, request] of [
      ["IsActive", ref(metadata)],
      ["GetMetrics", { scaledObjectRef: ref(metadata), metricName: "x" }],
    ] as const) {
      const err = (await t.throwsAsync(call(client, method, request))) as unknown as ServiceError;
      t.is(err.code, code, `${method} ${JSON.stringify(metadata)}`);
      t.regex(err.details, message);
    }
    const stream = (client.StreamIsActive as (r: unknown, m: Metadata) => ClientReadableStream<unknown>).call(
      client,
      ref(metadata),
      auth(),
    );
    const err = await new Promise<ServiceError>((resolve) => stream.on("error", resolve));
    t.is(err.code, code, `StreamIsActive ${JSON.stringify(metadata)}`);
  }
  const noGroup = (await t.throwsAsync(call(client, "GetMetricSpec", ref({})))) as unknown as ServiceError;
  t.is(noGroup.code, status.INVALID_ARGUMENT);
  const unknownSpec = (await t.throwsAsync(
    call(client, "GetMetricSpec", ref({ group: "nobody" })),
  )) as unknown as ServiceError;
  t.is(unknownSpec.code, status.NOT_FOUND);
  // Missing fields altogether: no scaledObjectRef, or a ref without scalerMetadata.
  for (const [method, request] of [
    ["GetMetrics", { metricName: "x" }],
    ["GetMetrics", {}],
    ["IsActive", {}],
    ["IsActive", { name: "chores", namespace: "default" }],
    ["GetMetricSpec", {}],
  ] as const) {
    const err = (await t.throwsAsync(call(client, method, request))) as unknown as ServiceError;
    t.is(err.code, status.INVALID_ARGUMENT, `${method} ${JSON.stringify(request)}`);
    t.regex(err.details, /scalerMetadata\.group: required/);
  }
  for (const [metadata, code] of [
    [{}, status.INVALID_ARGUMENT],
    [{ group: "known", prefix: "other" }, status.NOT_FOUND],
  ] as const) {
    const specs = (
      client.StreamMetricSpec as (r: unknown, m: Metadata) => ClientReadableStream<unknown>
    ).call(client, ref(metadata), auth());
    const err = await new Promise<ServiceError>((resolve) => specs.on("error", resolve));
    t.is(err.code, code, `StreamMetricSpec ${JSON.stringify(metadata)}`);
  }
  // Authentication applies to the scaler too: no token, no answer.
  const anon = (await t.throwsAsync(
    call(client, "IsActive", ref({ group: "known" }), new Metadata()),
  )) as unknown as ServiceError;
  t.is(anon.code, status.UNAUTHENTICATED);
  // Still serving.
  const ok = await pollUntil(
    () => call<{ result: boolean }>(client, "IsActive", ref({ group: "known" })),
    () => true,
  );
  t.true(ok.result, "an idle group with min 1 is active");
});
