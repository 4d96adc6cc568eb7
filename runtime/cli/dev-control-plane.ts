/**
 * The control plane of `troupe dev`: insecure (no TLS, no token) because it serves one developer's
 * machine, bound to 127.0.0.1 only, and said loudly. Port TROUPE_CONTROL_PLANE_PORT or 7233; when
 * that is taken (a second dev mesh), any free port: the port is tried first with a plain socket, so
 * grpc-js does not log a failed bind ("No address added") into the dev mesh's output. If it cannot
 * start at all, the dev mesh runs without it (and says why): throttling is optional for local work.
 */
import { createServer } from "node:net";
import {
  type ControlPlane,
  type ControlPlaneOptions,
  startControlPlane,
} from "../../services/control-plane/index.js";
import { consoleLogger } from "../log.js";

export async function startDevControlPlane(
  natsUrl: string,
  prefix: string,
  out: (line: string) => void,
  port = Number(process.env.TROUPE_CONTROL_PLANE_PORT ?? 7233),
  scaling?: ControlPlaneOptions["scaling"],
): Promise<ControlPlane | undefined> {
  const options = {
    ...(scaling ? { scaling } : {}),
    bind: "127.0.0.1",
    nats: { servers: natsUrl },
    prefix,
    insecure: true,
    logger: consoleLogger("warn"),
  };
  let plane: ControlPlane;
  try {
    const first = port !== 0 && (await portFree(options.bind, port)) ? port : 0;
    // Taken between the probe and the bind: any free port, as when it was taken before.
    plane = await startControlPlane({ ...options, port: first }).catch((err: unknown) => {
      if (first === 0) throw err;
      return startControlPlane({ ...options, port: 0 });
    });
  } catch (err) {
    out(`troupe: no control plane (throttling) in this dev mesh: ${(err as Error).message}`);
    return undefined;
  }
  out(`troupe: control plane on ${plane.address} (INSECURE: no TLS, no token; for local development only)`);
  out(`  npm run troupe -- throttle ls --address ${plane.address}`);
  return plane;
}

/** Whether a TCP listener can bind `host:port` now (it is closed again at once). */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}
