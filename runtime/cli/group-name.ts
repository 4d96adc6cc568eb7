/**
 * The default host group of an entry module: its file name without extension (`orders.ts` →
 * "orders"), or its folder's name for an `index` file, made a valid group name (1-64 letters,
 * digits, "_" or "-").
 */
import { basename, dirname, extname, resolve } from "node:path";

export function groupFromEntry(entry: string): string {
  const full = resolve(entry);
  let name = basename(full, extname(full));
  if (name === "index") name = basename(dirname(full));
  return name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64) || "default";
}
