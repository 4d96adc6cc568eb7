/**
 * The control plane's transport security, decided once at start-up:
 * - TLS (`tls.cert` + `tls.key`), and with `tls.ca` mutual TLS: clients must present a certificate
 *   signed by that CA (`ServerCredentials.createSsl(ca, pairs, true)`), checked during the handshake.
 * - Bearer tokens (see auth.ts), over TLS or, with a warning, over plaintext.
 * - Neither: refused, unless `insecure` (local development only), which is logged as an error on
 *   every start so it cannot go unnoticed.
 */
import { readFileSync } from "node:fs";
import { ServerCredentials } from "@grpc/grpc-js";
import type { Logger } from "troupe";
import { ConfigurationError } from "troupe";

/** PEM contents or paths (paths are read at start-up). */
export interface TlsOptions {
  cert?: string | Buffer;
  key?: string | Buffer;
  /** CA of client certificates: with it, clients must present a valid certificate (mTLS). */
  ca?: string | Buffer;
  certFile?: string;
  keyFile?: string;
  caFile?: string;
}

export interface SecurityOptions {
  /** Accepted bearer tokens (at least 16 characters each). */
  tokens?: readonly string[];
  tls?: TlsOptions;
  /** No authentication at all: local development only. */
  insecure?: boolean;
}

export interface Security {
  credentials: ServerCredentials;
  tokens: readonly string[];
  /** "mtls", "tls", "plaintext" or "insecure", for the start-up log. */
  mode: string;
}

/**
 * The scaler listener's credentials: TLS that requires a client certificate signed by `tls.ca`
 * (KEDA's TriggerAuthentication `tlsClientCert`/`tlsClientKey`). No token is ever asked there.
 */
export function resolveScalerSecurity(
  tls: TlsOptions | undefined,
  insecure: boolean,
  logger: Logger,
): Omit<Security, "tokens"> {
  if (insecure) {
    logger.error(
      "control plane: INSECURE MODE on the scaler port too: no TLS, no client certificate; anyone who reaches it can read the scaling decisions. Use only for local development.",
    );
    return { credentials: ServerCredentials.createInsecure(), mode: "insecure" };
  }
  const cert = pem(tls?.cert, tls?.certFile, "scaler TLS certificate");
  const key = pem(tls?.key, tls?.keyFile, "scaler TLS key");
  const ca = pem(tls?.ca, tls?.caFile, "scaler client CA");
  if (!cert || !key || !ca) {
    throw new ConfigurationError(
      "the scaler port serves KEDA over mutual TLS only: give --scaler-tls-cert, --scaler-tls-key and --scaler-tls-ca (the CA of KEDA's client certificate); --insecure only for local development",
    );
  }
  return {
    credentials: ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], true),
    mode: "mtls",
  };
}

export function resolveSecurity(options: SecurityOptions, logger: Logger): Security {
  const tokens = options.tokens ?? [];
  const cert = pem(options.tls?.cert, options.tls?.certFile, "TLS certificate");
  const key = pem(options.tls?.key, options.tls?.keyFile, "TLS key");
  const ca = pem(options.tls?.ca, options.tls?.caFile, "client CA");
  if (options.insecure) {
    logger.error(
      "control plane: INSECURE MODE: no TLS, no authentication; anyone who reaches this port can change throttle policies. Use only for local development.",
    );
    return { credentials: ServerCredentials.createInsecure(), tokens: [], mode: "insecure" };
  }
  if ((cert && !key) || (!cert && key)) {
    throw new ConfigurationError("TLS needs both a certificate and a key (--tls-cert and --tls-key)");
  }
  if (ca && !cert)
    throw new ConfigurationError("mutual TLS (--tls-ca) needs the server's --tls-cert and --tls-key");
  if (!ca && tokens.length === 0) {
    throw new ConfigurationError(
      "the control plane refuses to start without authentication: give tokens (--token-file or TROUPE_CONTROL_TOKEN) and/or mutual TLS (--tls-ca with --tls-cert and --tls-key); --insecure only for local development",
    );
  }
  if (cert && key) {
    return {
      credentials: ServerCredentials.createSsl(
        ca ?? null,
        [{ cert_chain: cert, private_key: key }],
        ca !== undefined,
      ),
      tokens,
      mode: ca ? "mtls" : "tls",
    };
  }
  logger.warn(
    "control plane: bearer tokens over plaintext gRPC: anyone on the path can read them; add --tls-cert and --tls-key outside a trusted network",
  );
  return { credentials: ServerCredentials.createInsecure(), tokens, mode: "plaintext" };
}

function pem(value: string | Buffer | undefined, file: string | undefined, what: string): Buffer | undefined {
  if (value !== undefined) return Buffer.isBuffer(value) ? value : Buffer.from(value);
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigurationError(`cannot read the ${what} file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
