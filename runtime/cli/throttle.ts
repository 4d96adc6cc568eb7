/**
 * `troupe throttle set|ls|rm|status`: throttle policies on the control plane, over its gRPC API.
 *
 *   troupe throttle set <name> [--rate N] [--burst N] [--concurrency N] [--callers G,..]
 *                       [--users G,..] [--tenants G,..] [--types G,..] [--methods G,..]
 *                       [--hops call,tell,..] [--key-by caller|user|tenant|type|method]
 *                       [--description TEXT]
 *   troupe throttle set -f policy.json          (the ThrottlePolicy message as JSON)
 *   troupe throttle ls [-o json]
 *   troupe throttle rm <name>
 *   troupe throttle status [policy] [-o json]
 *
 * Connection: --address (default TROUPE_CONTROL_PLANE or 127.0.0.1:7233), --token-file (default
 * TROUPE_CONTROL_TOKEN or TROUPE_CONTROL_TOKEN_FILE), --tls-ca/--tls-cert/--tls-key (default
 * TROUPE_CONTROL_CA/_CERT/_KEY).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Metadata, ServiceError } from "@grpc/grpc-js";
import { ConfigurationError } from "../errors.js";
import type { GetStatusResponse__Output, ThrottlePolicy, ThrottlePolicy__Output } from "../protos/index.js";
import { type ControlPlaneConnection, connectControlPlane } from "../throttling/index.js";
import { outputFlag, toUsageError, UsageError } from "./args.js";

export const THROTTLE_USAGE = `Usage: troupe throttle <command>

  set <name> [--rate N] [--burst N] [--concurrency N]     Create or replace a policy: limits are
      [--callers G,..] [--tenants G,..] [--types G,..]    cluster-wide (rate per second, burst,
      [--methods G,..] [--hops call,tell,job,event,reminder]  turns at once); globs with * and ?;
      [--users G,..]                                      --users: attested NATS users (hosts with
                                                          --user-from-inbox); --callers: self-asserted;
      [--key-by caller|user|tenant|type|method]           --key-by limits each key separately;
      [--description T]
      [--key-by function --key-function NAME]             or by a key function hosts registered.
  set -f policy.json                                      The ThrottlePolicy message as JSON.
  ls [-o json]                                            Policies.
  rm <name>                                               Delete a policy.
  status [policy] [-o json]                               Per policy and key: allowed/refused per
                                                          second and each host's share.

Connection: --address host:port (TROUPE_CONTROL_PLANE), --token-file F (TROUPE_CONTROL_TOKEN,
TROUPE_CONTROL_TOKEN_FILE), --tls-ca/--tls-cert/--tls-key F (TROUPE_CONTROL_CA/_CERT/_KEY).`;

export interface ThrottleIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: ThrottleIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

const KEY_BY: Record<string, ThrottlePolicy["keyBy"]> = {
  none: "KEY_BY_NONE",
  caller: "KEY_BY_CALLER",
  user: "KEY_BY_USER",
  tenant: "KEY_BY_TENANT",
  type: "KEY_BY_ACTOR_TYPE",
  method: "KEY_BY_METHOD",
  function: "KEY_BY_FUNCTION",
};

/** Runs `troupe throttle ...`; returns the exit code. */
export async function throttle(argv: string[], io: ThrottleIo = defaultIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === "help" || sub === "--help") {
    io.out(THROTTLE_USAGE);
    return sub ? 0 : 2;
  }
  const { values, positionals } = parseFlags(rest);
  const json = outputFlag(values.output) === "json";
  const connection = connectControlPlane({
    ...(values.address ? { address: values.address } : {}),
    ...(values["token-file"] ? { tokenFile: values["token-file"] } : {}),
    tls: {
      ...(values["tls-ca"] ? { caFile: values["tls-ca"] } : {}),
      ...(values["tls-cert"] ? { certFile: values["tls-cert"] } : {}),
      ...(values["tls-key"] ? { keyFile: values["tls-key"] } : {}),
    },
  });
  try {
    switch (sub) {
      case "set": {
        const policy = values.file ? policyFromFile(values.file) : policyFromFlags(positionals[0], values);
        const saved = await unary<ThrottlePolicy__Output>(connection, "SetPolicy", { policy });
        io.out(
          json ? JSON.stringify(saved, null, 2) : `policy "${saved.name}" set (revision ${saved.revision})`,
        );
        return 0;
      }
      case "ls": {
        const { policies } = await unary<{ policies: ThrottlePolicy__Output[] }>(
          connection,
          "ListPolicies",
          {},
        );
        io.out(json ? JSON.stringify(policies, null, 2) : policyTable(policies));
        return 0;
      }
      case "rm": {
        const name = positionals[0];
        if (!name) throw new ConfigurationError("troupe throttle rm needs a policy name");
        await unary(connection, "DeletePolicy", { name });
        io.out(json ? JSON.stringify({ deleted: name }) : `policy "${name}" deleted`);
        return 0;
      }
      case "status": {
        const status = await unary<GetStatusResponse__Output>(connection, "GetStatus", {
          policy: positionals[0] ?? "",
        });
        io.out(json ? JSON.stringify(status, null, 2) : statusTable(status));
        return 0;
      }
      default:
        io.err(`troupe throttle: unknown command "${sub}"\n\n${THROTTLE_USAGE}`);
        return 2;
    }
  } catch (err) {
    if (isServiceError(err)) {
      io.err(`troupe: ${statusName(err.code)}: ${err.details}`);
      return 1;
    }
    throw err;
  } finally {
    connection.close();
  }
}

type Method = "SetPolicy" | "ListPolicies" | "DeletePolicy" | "GetStatus";

function unary<T = unknown>(connection: ControlPlaneConnection, method: Method, request: object): Promise<T> {
  const client = connection.throttle as unknown as Record<
    Method,
    (
      req: object,
      md: Metadata,
      options: { deadline: number },
      cb: (err: ServiceError | null, res?: T) => void,
    ) => void
  >;
  return new Promise((resolve, reject) => {
    client[method].call(
      connection.throttle,
      request,
      connection.metadata(),
      { deadline: Date.now() + 10_000 },
      (err, res) => (err ? reject(err) : resolve(res as T)),
    );
  });
}

function policyFromFile(file: string): ThrottlePolicy {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ThrottlePolicy;
  } catch (err) {
    throw new ConfigurationError(`cannot read a policy from ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function policyFromFlags(
  name: string | undefined,
  values: Record<string, string | boolean | undefined>,
): ThrottlePolicy {
  if (!name) throw new ConfigurationError("troupe throttle set needs a policy name (or -f policy.json)");
  const list = (key: string) => {
    const v = values[key];
    return typeof v === "string"
      ? v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
  };
  const num = (key: string) => {
    const v = values[key];
    if (typeof v !== "string") return 0;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new UsageError(`--${key} must be a number (got "${v}")`);
    return n;
  };
  const keyByFlag = values["key-by"];
  const keyBy = typeof keyByFlag === "string" ? KEY_BY[keyByFlag] : "KEY_BY_NONE";
  if (!keyBy) throw new UsageError(`--key-by must be one of ${Object.keys(KEY_BY).join(", ")}`);
  return {
    name,
    match: {
      callers: list("callers"),
      tenants: list("tenants"),
      actorTypes: list("types"),
      methods: list("methods"),
      hops: list("hops"),
      users: list("users"),
    },
    limit: { ratePerSecond: num("rate"), burst: num("burst"), maxConcurrency: num("concurrency") },
    keyBy,
    ...(typeof values["key-function"] === "string" ? { keyFunction: values["key-function"] } : {}),
    description: typeof values.description === "string" ? values.description : "",
  };
}

function policyTable(policies: ThrottlePolicy__Output[]): string {
  if (policies.length === 0) return "no throttle policies";
  const rows = policies.map((p) => {
    const m = p.match;
    const match = [
      m?.users?.length ? `users=${m.users.join(",")}` : "",
      m?.callers.length ? `callers=${m.callers.join(",")}` : "",
      m?.tenants.length ? `tenants=${m.tenants.join(",")}` : "",
      m?.actorTypes.length ? `types=${m.actorTypes.join(",")}` : "",
      m?.methods.length ? `methods=${m.methods.join(",")}` : "",
      m?.hops.length ? `hops=${m.hops.join(",")}` : "",
    ]
      .filter(Boolean)
      .join(" ");
    const l = p.limit;
    const limit = [
      l?.ratePerSecond ? `${l.ratePerSecond}/s burst ${l.burst}` : "",
      l?.maxConcurrency ? `${l.maxConcurrency} at once` : "",
    ]
      .filter(Boolean)
      .join(", ");
    const key = p.keyBy === "KEY_BY_NONE" ? "-" : p.keyBy.replace("KEY_BY_", "").toLowerCase();
    return [p.name, limit, key, match || "*"];
  });
  return table(["POLICY", "LIMIT", "PER", "MATCH"], rows);
}

function statusTable(status: GetStatusResponse__Output): string {
  const hosts =
    status.hosts.length === 0
      ? "no hosts connected"
      : `hosts: ${status.hosts.map((h) => h.hostId).join(", ")}`;
  const rows: string[][] = [];
  for (const p of status.policies) {
    for (const k of p.keys) {
      const shares = k.shares
        .map(
          (s) => `${s.hostId}=${round(s.ratePerSecond)}/s${s.maxConcurrency ? `,${s.maxConcurrency}` : ""}`,
        )
        .join(" ");
      rows.push([
        p.policy,
        k.key || "-",
        round(k.allowedPerSecond),
        round(k.refusedPerSecond),
        shares || "-",
      ]);
    }
  }
  return `${hosts}\n${rows.length ? table(["POLICY", "KEY", "ALLOWED/S", "REFUSED/S", "SHARES"], rows) : "no throttle policies"}`;
}

function round(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => (c ?? "").padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as ServiceError).code === "number" && "details" in err;
}

const STATUS_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

function statusName(code: number): string {
  return STATUS_NAMES[code] ?? `status ${code}`;
}

function parseFlags(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        address: { type: "string" },
        "token-file": { type: "string" },
        "tls-ca": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        output: { type: "string", short: "o" },
        file: { type: "string", short: "f" },
        rate: { type: "string" },
        burst: { type: "string" },
        concurrency: { type: "string" },
        callers: { type: "string" },
        users: { type: "string" },
        tenants: { type: "string" },
        types: { type: "string" },
        methods: { type: "string" },
        hops: { type: "string" },
        "key-by": { type: "string" },
        "key-function": { type: "string" },
        description: { type: "string" },
      },
    });
  } catch (err) {
    throw toUsageError(err);
  }
}
