/**
 * Dialling the control plane: channel credentials (TLS / mutual TLS, or plaintext) and the bearer
 * token sent as `authorization` metadata on every call. Used by the host channel client and by
 * `troupe throttle`.
 *
 * Defaults come from the environment: TROUPE_CONTROL_PLANE (address), TROUPE_CONTROL_TOKEN or
 * TROUPE_CONTROL_TOKEN_FILE (token), TROUPE_CONTROL_CA / _CERT / _KEY (TLS files).
 */
import { readFileSync } from "node:fs";
import { type ChannelCredentials, type ChannelOptions, credentials, Metadata } from "@grpc/grpc-js";
import { ConfigurationError } from "../errors.js";
import {
  type HostChannelGrpcClient,
  type ScalingServiceClient,
  type ThrottleServiceClient,
  troupeProto,
} from "../protos/index.js";

export interface ControlPlaneClientOptions {
  /** `host:port`. Default TROUPE_CONTROL_PLANE, then 127.0.0.1:7233. */
  address?: string;
  /** Bearer token. Default TROUPE_CONTROL_TOKEN, then the first line of TROUPE_CONTROL_TOKEN_FILE. */
  token?: string;
  tokenFile?: string;
  /** TLS: the CA that signed the server's certificate; cert + key for mutual TLS. PEM or file paths. */
  tls?: {
    ca?: string | Buffer;
    cert?: string | Buffer;
    key?: string | Buffer;
    caFile?: string;
    certFile?: string;
    keyFile?: string;
  };
  /** Extra grpc-js channel options. */
  channelOptions?: ChannelOptions;
}

export interface ControlPlaneConnection {
  readonly address: string;
  readonly throttle: ThrottleServiceClient;
  readonly hostChannel: HostChannelGrpcClient;
  readonly scaling: ScalingServiceClient;
  /** Metadata for a call (carries the token, if any). */
  metadata(): Metadata;
  close(): void;
}

export const DEFAULT_CONTROL_PLANE_ADDRESS = "127.0.0.1:7233";

export function resolveToken(
  options: Pick<ControlPlaneClientOptions, "token" | "tokenFile">,
): string | undefined {
  if (options.token) return options.token;
  if (process.env.TROUPE_CONTROL_TOKEN) return process.env.TROUPE_CONTROL_TOKEN.split(",")[0]?.trim();
  const file = options.tokenFile ?? process.env.TROUPE_CONTROL_TOKEN_FILE;
  if (!file) return undefined;
  const line = readPem(file, "token")
    .toString("utf8")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith("#"));
  if (!line) throw new ConfigurationError(`the token file ${file} holds no token`);
  return line;
}

export function channelCredentials(tls: ControlPlaneClientOptions["tls"]): ChannelCredentials {
  const ca = pemOf(tls?.ca, tls?.caFile ?? process.env.TROUPE_CONTROL_CA, "CA");
  const cert = pemOf(tls?.cert, tls?.certFile ?? process.env.TROUPE_CONTROL_CERT, "certificate");
  const key = pemOf(tls?.key, tls?.keyFile ?? process.env.TROUPE_CONTROL_KEY, "key");
  if (!ca && !cert && !key) return credentials.createInsecure();
  if ((cert && !key) || (!cert && key))
    throw new ConfigurationError("mutual TLS needs both a client certificate and key");
  return credentials.createSsl(ca ?? null, key ?? null, cert ?? null);
}

export function connectControlPlane(options: ControlPlaneClientOptions = {}): ControlPlaneConnection {
  const address = options.address ?? process.env.TROUPE_CONTROL_PLANE ?? DEFAULT_CONTROL_PLANE_ADDRESS;
  const token = resolveToken(options);
  const creds = channelCredentials(options.tls);
  const proto = troupeProto();
  const channelOptions: ChannelOptions = {
    "grpc.initial_reconnect_backoff_ms": 200,
    "grpc.max_reconnect_backoff_ms": 5000,
    "grpc.keepalive_time_ms": 10_000,
    "grpc.keepalive_timeout_ms": 5000,
    ...options.channelOptions,
  };
  const throttle = new proto.troupe.v1.ThrottleService(address, creds, channelOptions);
  // One channel for both clients.
  const hostChannel = new proto.troupe.v1.HostChannel(address, creds, {
    ...channelOptions,
    channelOverride: throttle.getChannel(),
  });
  const scaling = new proto.troupe.v1.ScalingService(address, creds, {
    ...channelOptions,
    channelOverride: throttle.getChannel(),
  });
  return {
    address,
    throttle,
    hostChannel,
    scaling,
    metadata: () => {
      const md = new Metadata();
      if (token) md.set("authorization", `Bearer ${token}`);
      return md;
    },
    close: () => {
      hostChannel.close();
      scaling.close();
      throttle.close();
    },
  };
}

function pemOf(
  value: string | Buffer | undefined,
  file: string | undefined,
  what: string,
): Buffer | undefined {
  if (value !== undefined) return Buffer.isBuffer(value) ? value : Buffer.from(value);
  return file ? readPem(file, what) : undefined;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigurationError(
      `cannot read the control-plane ${what} file ${file}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
