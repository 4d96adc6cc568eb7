/**
 * The files `troupe init` writes: a project that depends on Troupe, with one actor in its own file,
 * a client script, an ava test on a real nats-server (TestMesh), and `npm run dev` / `npm test`.
 * The README's "Your first actor" shows `src/counter.ts` and `src/client.ts` exactly as written
 * here (test/quickstart/scaffold.test.ts compares them).
 */

export interface TemplateOptions {
  /** The project's package name. */
  name: string;
  /** The `troupe` dependency: a version range, or `file:<tarball>` until Troupe is on npm. */
  troupe: string;
}

/** Versions of the tools the new project uses (the ones Troupe itself is tested with). */
const TOOLS = { ava: "7.0.0", tsx: "4.23.15", typescript: "5.9.3", "@types/node": "20.19.0" };

/**
 * Versions of transitive packages that a project of its own must pin, as Troupe's package.json
 * does: the releases its dependencies name declare Node 22 (`@nats-io/nuid` 3, pinned by nats.js;
 * `cookie` 2, through fastify's `light-my-request`), these declare Node 18 and have the same API.
 * npm applies `overrides` of the installing project only, so `troupe init` writes them.
 */
export const NODE20_OVERRIDES = { "@nats-io/nuid": "2.0.3", "light-my-request": "6.6.0" };

export const COUNTER_TS = `import { Actor } from "troupe";

/** A counter per id (e.g. per page). Its state is saved in JetStream KV after every turn. */
export class Counter extends Actor<{ value: number }> {
  static initialState = () => ({ value: 0 });

  async increment(by = 1): Promise<number> {
    this.state.value += by;
    return this.state.value;
  }

  async get(): Promise<number> {
    return this.state.value;
  }
}
`;

export const CLIENT_TS = `import { connect } from "troupe";
import { Counter } from "./counter.js";

// No servers given: NATS_URL, else the dev mesh running from this folder (npm run dev).
const mesh = await connect({ name: "counter-client" });
try {
  const visits = mesh.ref(Counter, "home-page"); // typed: ActorRef<Counter>
  await visits.increment(); // request-reply; the reply comes after the state is saved
  const value = await visits.with({ timeoutMs: 5_000 }).increment(2);
  console.log(\`home-page has \${value} visits\`);
} finally {
  await mesh.close();
}
`;

export const COUNTER_TEST_TS = `import test from "ava";
import { TestMesh } from "troupe/testing";
import { Counter } from "../src/counter.js";

test("counter - counts per id and keeps its state", async (t) => {
  const tm = await TestMesh.start({ types: [Counter] }); // a real nats-server on free ports
  t.teardown(() => tm.close());
  t.is(await tm.ref(Counter, "a").increment(), 1);
  t.is(await tm.ref(Counter, "a").increment(2), 3);
  t.is(await tm.ref(Counter, "b").get(), 0);
});
`;

export function packageJson(options: TemplateOptions): string {
  const pkg = {
    name: options.name,
    version: "0.1.0",
    private: true,
    type: "module",
    engines: { node: ">=20" },
    scripts: {
      dev: "troupe dev src/counter.ts",
      client: "tsx src/client.ts",
      test: "ava",
      typecheck: "tsc --noEmit",
      troupe: "troupe",
    },
    dependencies: { troupe: options.troupe },
    devDependencies: TOOLS,
    ava: {
      extensions: { ts: "module" },
      nodeArguments: ["--import=tsx"],
      workerThreads: false,
      files: ["test/**/*.test.ts"],
      timeout: "60s",
    },
    // npm 11 asks about every install script; none of these is needed (see Troupe's README).
    allowScripts: { esbuild: false, "msgpackr-extract": false, protobufjs: false },
    overrides: NODE20_OVERRIDES,
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export const TSCONFIG_JSON = `${JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      // Troupe's decorators (@subscribe) are standard (TC39) decorators: leave this off.
      experimentalDecorators: false,
      verbatimModuleSyntax: true,
      skipLibCheck: true,
      noEmit: true,
      types: ["node"],
    },
    include: ["src", "test"],
  },
  null,
  2,
)}\n`;

export const GITIGNORE = "node_modules\n.troupe/\n";

export function readme(name: string): string {
  return `# ${name}

A [Troupe](https://github.com/troupe) project: actors in \`src/\`, tests in \`test/\`.

\`\`\`sh
npm run dev        # a local mesh (its own nats-server) hosting the actors of src/counter.ts
npm run client     # in another shell: calls Counter through the running dev mesh
npm test           # the tests, each on its own nats-server
npx ava test/counter.test.ts      # one test file
npm run troupe -- call Counter home-page increment 2
\`\`\`

\`npm run dev\` imports \`src/counter.ts\` only for its exported actor classes: scripts that call
actors belong in their own file (\`src/client.ts\`). Dev data lives in \`.troupe/\`; \`npm run dev -- --reset\`
starts from empty. Needs Node.js 20+ and \`nats-server\` 2.9+ on the PATH.
`;
}

/** Every file of a new project, by path relative to its folder. */
export function projectFiles(options: TemplateOptions): Record<string, string> {
  return {
    "package.json": packageJson(options),
    "tsconfig.json": TSCONFIG_JSON,
    ".gitignore": GITIGNORE,
    "README.md": readme(options.name),
    "src/counter.ts": COUNTER_TS,
    "src/client.ts": CLIENT_TS,
    "test/counter.test.ts": COUNTER_TEST_TS,
  };
}
