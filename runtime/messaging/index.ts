/**
 * The messaging layer's entry for folders above it (older folders still import its files
 * directly; those imports are recorded as known layer violations).
 */
export { decode, encode } from "./codec.js";
