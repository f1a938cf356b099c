import assert from "node:assert/strict";
import { test } from "node:test";
import { createMetrics } from "../../src/observability/metrics.ts";

test("credential metrics: refreshes by provider and result, their duration, and each credential's expiry in Unix seconds", async () => {
  const metrics = createMetrics("test");
  const credentials = [
    { namespace: "ops", name: "ecr", status: { expiresAt: "2026-12-02T12:00:00Z" } },
    { namespace: "ops", name: "basic", status: {} },
  ];
  const recorder = metrics.credentials(() => credentials);
  recorder.refreshed("ecr", "success", 0.2);
  recorder.refreshed("ecr", "failure", 0.1);
  const text = await metrics.registry.metrics();
  assert.match(text, /secret_export_credential_refreshes_total\{provider="ecr",result="success"\} 1/);
  assert.match(text, /secret_export_credential_refreshes_total\{provider="ecr",result="failure"\} 1/);
  assert.match(text, /secret_export_credential_refresh_duration_seconds_count\{provider="ecr"\} 2/);
  assert.match(
    text,
    /secret_export_credential_expiry_timestamp_seconds\{namespace="ops",name="ecr"\} 1796212800/,
  );
  assert.doesNotMatch(text, /name="basic"/);
});
