/**
 * One OpenTelemetry SDK per test file (each ava file runs in its own process), exporting OTLP/HTTP
 * protobuf to a real receiver, so assertions are on spans decoded from the wire.
 */
import type { TestFn } from "ava";
import { startTelemetry, type Telemetry } from "../../runtime/telemetry/sdk.js";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.js";

export interface TelemetryFixture {
  readonly receiver: OtlpReceiver;
  readonly telemetry: Telemetry;
}

/**
 * Registers `before` / `after.always` hooks that start a receiver and the SDK pointed at it (from
 * OTEL_* variables, as a process entry point would, plus `env`), and returns the fixture they fill in.
 */
export function exportSpansToReceiver(
  test: TestFn,
  serviceName: string,
  env: Record<string, string> = {},
): TelemetryFixture {
  const fixture = {} as { receiver: OtlpReceiver; telemetry: Telemetry };
  test.before(async () => {
    fixture.receiver = await startOtlpReceiver();
    for (const key of Object.keys(process.env)) if (key.startsWith("OTEL_")) delete process.env[key];
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = fixture.receiver.url;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = "http/protobuf";
    process.env.OTEL_SERVICE_NAME = serviceName;
    process.env.OTEL_BSP_SCHEDULE_DELAY = "50";
    Object.assign(process.env, env);
    fixture.telemetry = await startTelemetry();
  });
  test.after.always(async () => {
    await fixture.telemetry?.shutdown();
    await fixture.receiver?.close();
  });
  return fixture;
}
