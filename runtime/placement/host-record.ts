/** What a host announces about itself (roster and lease records), and the membership events. */
import { decode } from "../messaging/index.js";

export type HostRecordStatus = "serving" | "draining";

/** What a host announces about itself. */
export interface HostRecord {
  readonly id: string;
  readonly name: string;
  readonly types: readonly string[];
  readonly status: HostRecordStatus;
  /** Wall-clock start time (ms since the epoch), informational. */
  readonly startedAtMs: number;
  /** Activations per served type at the last heartbeat, informational. */
  readonly activations: Readonly<Record<string, number>>;
  /** How often the host rewrites its record; absent in records of hosts from before it was added. */
  readonly heartbeatEveryMs?: number;
}

export type MembershipChange =
  | { readonly kind: "joined"; readonly host: HostRecord }
  | { readonly kind: "updated"; readonly host: HostRecord }
  | { readonly kind: "left"; readonly hostId: string }
  | { readonly kind: "died"; readonly hostId: string };

/** Decodes a host record; null for anything malformed. */
export function parseHostRecord(bytes: Uint8Array): HostRecord | null {
  try {
    const r = decode(bytes) as Partial<HostRecord> | null;
    if (!r || typeof r.id !== "string" || typeof r.name !== "string" || !Array.isArray(r.types)) return null;
    return {
      id: r.id,
      name: r.name,
      types: r.types.filter((t): t is string => typeof t === "string"),
      status: r.status === "draining" ? "draining" : "serving",
      startedAtMs: typeof r.startedAtMs === "number" ? r.startedAtMs : 0,
      activations:
        r.activations && typeof r.activations === "object" ? (r.activations as Record<string, number>) : {},
      ...(typeof r.heartbeatEveryMs === "number" && r.heartbeatEveryMs > 0
        ? { heartbeatEveryMs: r.heartbeatEveryMs }
        : {}),
    };
  } catch {
    return null;
  }
}
