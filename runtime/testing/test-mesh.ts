/**
 * A whole mesh for tests, in one call: a real nats-server (or a 3-node JetStream cluster), one or
 * more hosts serving your actor types, and a client connection, all on free loopback ports and all
 * torn down by `close()`. The counterpart of Orleans' TestCluster, with real NATS underneath.
 *
 * @example
 * ```ts
 * import test from "ava";
 * import { TestMesh } from "troupe/testing";
 *
 * test("cart - adds items", async (t) => {
 *   const tm = await TestMesh.start({ types: [Cart] });
 *   t.teardown(() => tm.close());
 *   t.is(await tm.ref(Cart, "c1").add("tea"), 1);
 * });
 * ```
 */
import type { ActorClass, ActorRef, ActorShape, CallOptions } from "../actor/index.js";
import { connect } from "../connect.js";
import type { Host, HostOptions } from "../host/index.js";
import { consoleLogger } from "../log.js";
import type { ConnectOptions, Mesh } from "../mesh.js";
import { type NatsCluster, startNatsCluster } from "./cluster.js";
import { type NatsServer, startNatsServer } from "./nats-server.js";

export interface TestMeshOptions {
  /** Actor types every host serves. */
  types?: ActorClass[];
  /** Host connections to start, each its own mesh connection (default 1). */
  hosts?: number;
  /** Start a JetStream cluster of this many nodes instead of one server (buckets then use replicas = size). */
  cluster?: number;
  /** Options for every connection (prefix, timeouts, logger...). Logs are silent unless TROUPE_LOG_LEVEL is set. */
  connect?: ConnectOptions;
  host?: HostOptions;
}

export interface TestHost {
  readonly mesh: Mesh;
  readonly host: Host;
}

let meshes = 0;

export class TestMesh {
  private readonly closers: (() => Promise<void>)[] = [];

  private constructor(
    /** The single server, when not clustered. */
    readonly server: NatsServer | undefined,
    /** The cluster, when `cluster` was set. */
    readonly cluster: NatsCluster | undefined,
    readonly servers: string,
    /** A client connection that hosts nothing. */
    public client: Mesh,
    readonly hosts: TestHost[],
    private readonly connectOptions: ConnectOptions,
  ) {}

  static async start(options: TestMeshOptions = {}): Promise<TestMesh> {
    const cluster = options.cluster ? await startNatsCluster({ size: options.cluster }) : undefined;
    const server = cluster ? undefined : await startNatsServer();
    const servers = cluster ? cluster.servers : (server as NatsServer).url;
    const connectOptions: ConnectOptions = {
      prefix: `tm${process.pid}x${++meshes}`,
      logger: consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent"),
      ...(cluster ? { replicas: Math.min(3, options.cluster ?? 1) } : {}),
      ...options.connect,
      servers,
    };
    const client = await connect({ ...connectOptions, name: "test-client" });
    const tm = new TestMesh(server, cluster, servers, client, [], connectOptions);
    tm.closers.push(() => (cluster ? cluster.cleanup() : (server as NatsServer).cleanup()));
    tm.closers.push(() => client.close());
    try {
      for (let i = 0; i < (options.hosts ?? 1) && options.types?.length; i++) {
        await tm.addHost(options.types, options.host);
      }
    } catch (err) {
      await tm.close();
      throw err;
    }
    return tm;
  }

  /** Starts another host (its own connection) serving `types`. */
  async addHost(types: ActorClass[], options?: HostOptions): Promise<TestHost> {
    const mesh = await connect({ ...this.connectOptions, name: `test-host-${this.hosts.length + 1}` });
    this.closers.push(() => mesh.close());
    const host = await mesh.host(types, options);
    const entry = { mesh, host };
    this.hosts.push(entry);
    return entry;
  }

  /** Opens another client connection (closed with the mesh). */
  async connectClient(options: ConnectOptions = {}): Promise<Mesh> {
    const mesh = await connect({ ...this.connectOptions, ...options, name: "test-client" });
    this.closers.push(() => mesh.close());
    return mesh;
  }

  /** A reference through the client connection. */
  ref<A extends ActorShape>(type: ActorClass<A>, id: string, options?: CallOptions): ActorRef<A> {
    return this.client.ref(type, id, options);
  }

  /** Drains every host, closes every connection, stops and removes the servers. Idempotent. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    while (this.closers.length > 0) {
      const close = this.closers.pop() as () => Promise<void>;
      await close().catch((err: unknown) => errors.push(err));
    }
    if (errors.length > 0) throw new AggregateError(errors, "TestMesh.close failed");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
