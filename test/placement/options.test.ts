import test from "ava";
import { ConfigurationError } from "../../runtime/errors.js";
import { type PlacementOptions, resolvePlacementOptions } from "../../runtime/placement/options.js";

test("placement options - leaseTtlMs is refused with a typed error that names its replacement", (t) => {
  const e = t.throws(() => resolvePlacementOptions({ leaseTtlMs: 5000 } as unknown as PlacementOptions), {
    instanceOf: ConfigurationError,
  });
  t.is(e?.code, "TROUPE_CONFIGURATION");
  t.regex(e?.message ?? "", /leaseTtlMs was removed.*hostTtlMs/);
});

test("placement options - the defaults resolve, and a bad value is refused", (t) => {
  const r = resolvePlacementOptions({});
  t.is(r.hostTtlMs, 10_000);
  t.is(r.safetyMarginMs, 2000);
  t.false("leaseTtlMs" in r);
  t.throws(() => resolvePlacementOptions({ heartbeatEveryMs: 0 }), { instanceOf: ConfigurationError });
});
