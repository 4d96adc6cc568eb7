/**
 * Tells over a throttle limit: the host refuses them with `ThrottledError` on the tell's reply
 * subject; the sender sends each again after its `retryAfterMs` plus jitter within its deadline,
 * so every tell runs, and (adaptive rate on, the default) the refusals engage the type's adaptive
 * rate, which then paces the sender's tells: far fewer refused attempts than without it.
 */
import test from "ava";
import { Actor, type Mesh } from "troupe";
import { resilienceOf } from "../../runtime/resilience/breakers.js";
import { recordingLogger } from "../helpers/logger.js";
import { startMesh } from "../helpers/mesh.js";
import { setPolicies, startPlane, TOKEN, waitFor } from "./helpers.js";

const ran = new Map<string, number>();

class Sink extends Actor {
  static options = { stateless: true };
  async take(from: string) {
    ran.set(from, (ran.get(from) ?? 0) + 1);
  }
}

const LIMIT = { ratePerSecond: 40, burst: 4 };
const N = 80; // two seconds' worth of the limit, told at once

async function tellAll(client: Mesh, from: string): Promise<void> {
  for (let i = 0; i < N; i++) client.ref(Sink, `${from}-${i % 8}`).tell.take(from);
}

test("throttled tells - each refused tell is sent again after its retry-after and runs; refusals engage the adaptive rate", async (t) => {
  const { plane } = await startPlane(t);
  await setPolicies(plane.address, [
    { name: "paced", match: { callers: ["paced"], actorTypes: ["Sink"], hops: ["tell"] }, limit: LIMIT },
    { name: "plain", match: { callers: ["plain"], actorTypes: ["Sink"], hops: ["tell"] }, limit: LIMIT },
  ]);
  const { mesh, connectAnother } = await startMesh(t);
  const host = await mesh.host([Sink], { throttling: { controlPlane: plane.address, token: TOKEN } });
  await waitFor(() => (host.enforcer?.policies().length ?? 0) === 2, 20_000, "the host's first shares");
  const refused = (policy: string) => host.enforcer?.counters().get(policy)?.refused ?? 0;

  const plain = await connectAnother({ clientId: "plain", adaptiveRate: false });
  await tellAll(plain, "plain");
  // Each tell's deadline is the test meshes' 30 s call timeout: ample for N at the limit.
  await waitFor(() => ran.get("plain") === N, 60_000, `all ${N} tells of the unpaced sender ran`);
  t.true(refused("plain") > 0, "the unpaced sender's tells were refused at first");
  t.is(resilienceOf(plain).engagedRate("Sink"), undefined, "adaptiveRate: false: no pacing");

  const log = recordingLogger();
  const paced = await connectAnother({ clientId: "paced", logger: log.logger });
  await tellAll(paced, "paced");
  await waitFor(() => ran.get("paced") === N, 60_000, `all ${N} tells of the adaptive sender ran`);
  const rate = resilienceOf(paced).engagedRate("Sink")?.rate;
  t.log(
    `refused attempts for ${N} tells at ${LIMIT.ratePerSecond}/s: unpaced ${refused("plain")}, adaptive ${refused("paced")} (pacing at ${rate?.toFixed(1)}/s)`,
  );
  t.true(refused("paced") > 0, "the adaptive sender was refused too");
  t.not(rate, undefined, "the refusals engaged the type's adaptive rate");
  // The adaptive sender's refusals are about its first burst; the unpaced one's resends meet the
  // limit again and again (measured: tens of times more).
  t.true(
    refused("paced") * 2 <= refused("plain"),
    `the adaptive sender is refused at most half as often (${refused("paced")} vs ${refused("plain")})`,
  );
  t.deepEqual(
    log.at("warn").filter((e) => e.msg === "tell dropped"),
    [],
    "no tell of the adaptive sender was dropped",
  );

  // Paced at about the limit, a tell whose slot comes after its deadline is dropped at once
  // (logged and counted), not sent late: 2.5 s worth of tells with a 500 ms deadline.
  const late = paced.ref(Sink, "late").with({ timeoutMs: 500 });
  for (let i = 0; i < 100; i++) late.tell.take("late");
  const dropped = log.at("warn").filter((e) => e.msg === "tell dropped");
  t.true(dropped.length > 0, "tells paced past their deadline are dropped");
  t.regex(String((dropped[0]?.fields?.err as Error | undefined)?.message), /paced past its deadline/);
  t.is(ran.get("plain"), N, "no tell ran twice");
  t.is(ran.get("paced"), N, "no tell ran twice");
});
