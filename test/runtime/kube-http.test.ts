import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../../src/runtime/kube-http.ts";

test("ApiError keeps the status, reason and the start of a long server message only", () => {
  const echoed = `admission webhook denied: ${"c2VjcmV0".repeat(200)}`;
  const err = new ApiError(422, "PATCH", "/api/v1/namespaces/a/secrets/b", "Invalid", echoed);
  assert.equal(err.status, 422);
  assert.match(
    err.message,
    /^PATCH \/api\/v1\/namespaces\/a\/secrets\/b: 422 Invalid: admission webhook denied/,
  );
  assert.ok(err.message.length < 300, `${err.message.length} characters`);
  assert.equal(
    new ApiError(404, "GET", "/x", "NotFound", "not found").message,
    "GET /x: 404 NotFound: not found",
  );
});
