/**
 * Loads Troupe's gRPC definitions (protos/troupe/v1/*.proto) with @grpc/proto-loader. The proto
 * files are the single source of truth: the TypeScript types beside this file are generated from
 * them (`npm run gen:protos`; `npm run check` fails when they are stale), never written by hand.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadPackageDefinition } from "@grpc/grpc-js";
import { loadSync, type Options, type PackageDefinition } from "@grpc/proto-loader";
import type { ProtoGrpcType as ExternalScalerProto } from "./generated/externalscaler.js";
import type { ProtoGrpcType as HostChannelProto } from "./generated/host_channel.js";
import type { ProtoGrpcType as ScalingServiceProto } from "./generated/scaling_service.js";
import type { ProtoGrpcType as ThrottleServiceProto } from "./generated/throttle_service.js";

/** Keep in step with OPTIONS in scripts/gen-protos.mjs: the generated types assume these. */
export const LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export const PROTO_FILES = [
  "troupe/v1/policy.proto",
  "troupe/v1/throttle_service.proto",
  "troupe/v1/host_channel.proto",
  "troupe/v1/scaling_service.proto",
  "externalscaler/externalscaler.proto",
] as const;

/** protos/ sits two folders above this file in the sources, three in dist/. */
export function protoRoot(): string {
  for (const rel of ["../../protos/", "../../../protos/"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}troupe/v1/policy.proto`)) return dir;
  }
  throw new Error("cannot find the protos/ folder of the troupe package");
}

let cached: PackageDefinition | undefined;

/** The package definition of every Troupe service (also what server reflection describes). */
export function troupePackageDefinition(): PackageDefinition {
  cached ??= loadSync([...PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
  return cached;
}

export type TroupeProto = HostChannelProto & ThrottleServiceProto & ScalingServiceProto & ExternalScalerProto;

/** The loaded gRPC package: client constructors and service definitions under `troupe.v1`. */
export function troupeProto(): TroupeProto {
  return loadPackageDefinition(troupePackageDefinition()) as unknown as TroupeProto;
}
