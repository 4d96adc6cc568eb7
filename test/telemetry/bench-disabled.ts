/**
 * Cost of the telemetry hooks when no SDK is registered (the path every hop takes with tracing off).
 * Run: `node --conditions=troupe-source --import tsx test/telemetry/bench-disabled.ts`
 * (add `--trace-gc` to see that the timed loops trigger no garbage collection: they allocate nothing).
 */

import {
  activeTracer,
  callInHop,
  endHop,
  recordCall,
  runInHop,
  startCallSpan,
  startTurnSpan,
} from "../../runtime/telemetry/index.js";

const N = 10_000_000;
let sink: unknown;
const f = () => 1;
function run(name: string, loop: () => void) {
  loop();
  const t0 = process.hrtime.bigint();
  loop();
  console.log(`${name}: ${(Number(process.hrtime.bigint() - t0) / N).toFixed(2)} ns/op`);
}
run("activeTracer", () => {
  for (let i = 0; i < N; i++) sink = activeTracer();
});
run("callInHop", () => {
  for (let i = 0; i < N; i++) sink = callInHop(undefined, f, undefined, undefined);
});
run("startCallSpan+endHop", () => {
  for (let i = 0; i < N; i++) {
    const h = startCallSpan("Cart", "add", "c-1", "s");
    sink = h?.headers;
    endHop(h);
  }
});
run("startTurnSpan+runInHop+endHop", () => {
  for (let i = 0; i < N; i++) {
    const h = startTurnSpan(undefined, "call", "Cart", "add", "c-1", "s");
    sink = runInHop(h, f);
    endHop(h);
  }
});
run("recordCall", () => {
  for (let i = 0; i < N; i++) recordCall("Cart", "add", 1.5);
});
console.log(`(sink: ${typeof sink})`);
