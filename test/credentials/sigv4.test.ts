import assert from "node:assert/strict";
import { test } from "node:test";
import { signRequest } from "../../src/credentials/aws/sigv4.ts";

// AWS's published SigV4 test suite, case get-vanilla (aws-sig-v4-test-suite): the signature for
// GET / on example.amazonaws.com at 20150830T123600Z with the documentation's example key.
test("SigV4 signs AWS's get-vanilla test vector to AWS's published signature", () => {
  const headers = signRequest({
    method: "GET",
    url: new URL("https://example.amazonaws.com/"),
    headers: {},
    body: "",
    service: "service",
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
    now: new Date("2015-08-30T12:36:00Z"),
  });
  assert.equal(
    headers.authorization,
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
  );
});
