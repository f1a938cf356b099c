// A loopback stand-in for the AWS calls the ecr provider makes: ECR GetAuthorizationToken and STS
// AssumeRole (both SigV4-signed), STS AssumeRoleWithWebIdentity (unsigned, a known token) and the
// EKS Pod Identity agent (a known authorization token). It verifies what AWS verifies: the
// signature, recomputed here from the request as received with the secret key of the access key
// it names; the credential scope (date, region, service); the clock skew; and the session token
// of temporary credentials. Tokens it mints live `lifetimeSeconds`, so tests see expiry in real time.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const ACCOUNT = "123456789012";
export const WEB_IDENTITY_TOKEN = "eyJ-test-web-identity-token-never-logged";
export const POD_IDENTITY_TOKEN = "test-pod-identity-authorization-never-logged";
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ecr-pull`;

interface Key {
  secret: string;
  sessionToken?: string;
}

export interface AwsFake {
  url: string;
  /** The static key this fake accepts: its own, so a call meant for another test's fake is refused. */
  key: { accessKeyId: string; secretAccessKey: string };
  /** Every call: which action, with which access key (none for unsigned ones), and the outcome. */
  calls: { action: string; accessKeyId?: string; ok: boolean; at: number }[];
  /** Every password and session secret handed out, for tests that grep logs for them. */
  secrets: string[];
  /** While set, ECR answers 503 ServiceUnavailable (after verifying the signature). */
  failing: boolean;
  lifetimeSeconds: number;
  close(): Promise<void>;
}

export async function startAwsFake(lifetimeSeconds = 3600): Promise<AwsFake> {
  const key = {
    accessKeyId: `AKIATEST${randomBytes(6).toString("hex").toUpperCase()}`,
    secretAccessKey: `test-secret-${randomBytes(8).toString("hex")}-never-logged`,
  };
  const keys = new Map<string, Key>([[key.accessKeyId, { secret: key.secretAccessKey }]]);
  let serial = 0;
  const fake: AwsFake = {
    url: "",
    key,
    calls: [],
    secrets: [],
    failing: false,
    lifetimeSeconds,
    close: async () => {},
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, Buffer.concat(chunks).toString("utf8"), res));
  });

  function handle(req: IncomingMessage, body: string, res: ServerResponse) {
    if (req.method === "GET" && req.url === "/pod-identity") return podIdentity(req, res);
    const target = req.headers["x-amz-target"];
    if (target === "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken") return ecr(req, body, res);
    const form = new URLSearchParams(body);
    if (form.get("Action") === "AssumeRole") return assumeRole(req, body, form, res);
    if (form.get("Action") === "AssumeRoleWithWebIdentity") return webIdentity(form, res);
    send(res, 400, "text/plain", "unknown call");
  }

  function ecr(req: IncomingMessage, body: string, res: ServerResponse) {
    const verified = verify(req, body, "ecr");
    fake.calls.push({
      action: "GetAuthorizationToken",
      accessKeyId: verified.accessKeyId,
      ok: verified.ok && !fake.failing,
      at: Date.now(),
    });
    if (!verified.ok) return json(res, 403, { __type: verified.code, message: verified.message });
    if (fake.failing) return json(res, 503, { __type: "ServerException", message: "Service unavailable" });
    const password = `ecr-password-${++serial}-never-logged`;
    fake.secrets.push(password);
    json(res, 200, {
      authorizationData: [
        {
          authorizationToken: Buffer.from(`AWS:${password}`).toString("base64"),
          expiresAt: Date.now() / 1000 + fake.lifetimeSeconds,
          proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.${verified.region}.amazonaws.com`,
        },
      ],
    });
  }

  function assumeRole(req: IncomingMessage, body: string, form: URLSearchParams, res: ServerResponse) {
    const verified = verify(req, body, "sts");
    fake.calls.push({
      action: "AssumeRole",
      accessKeyId: verified.accessKeyId,
      ok: verified.ok,
      at: Date.now(),
    });
    if (!verified.ok) return stsError(res, verified.code, verified.message);
    stsCredentials(res, "AssumeRole", form.get("RoleArn") ?? "");
  }

  function webIdentity(form: URLSearchParams, res: ServerResponse) {
    const ok = form.get("WebIdentityToken") === WEB_IDENTITY_TOKEN && form.get("RoleArn") === ROLE_ARN;
    fake.calls.push({ action: "AssumeRoleWithWebIdentity", ok, at: Date.now() });
    if (!ok) return stsError(res, "InvalidIdentityToken", "The web identity token is not valid");
    stsCredentials(res, "AssumeRoleWithWebIdentity", ROLE_ARN);
  }

  function podIdentity(req: IncomingMessage, res: ServerResponse) {
    const ok = req.headers.authorization === POD_IDENTITY_TOKEN;
    fake.calls.push({ action: "PodIdentity", ok, at: Date.now() });
    if (!ok) return json(res, 401, { message: "unauthorized" });
    const key = temporaryKey();
    json(res, 200, {
      AccessKeyId: key.id,
      SecretAccessKey: key.secret,
      Token: key.token,
      Expiration: expiry(),
    });
  }

  function temporaryKey() {
    const n = ++serial;
    const key = {
      id: `ASIATEMP${String(n).padStart(12, "0")}`,
      secret: `temp-secret-${n}-never-logged`,
      token: `session-${n}-never-logged`,
    };
    keys.set(key.id, { secret: key.secret, sessionToken: key.token });
    fake.secrets.push(key.secret, key.token);
    return key;
  }

  function stsCredentials(res: ServerResponse, action: string, roleArn: string) {
    const key = temporaryKey();
    const xml =
      `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result>` +
      `<Credentials><AccessKeyId>${key.id}</AccessKeyId><SecretAccessKey>${key.secret}</SecretAccessKey>` +
      `<SessionToken>${key.token}</SessionToken><Expiration>${expiry()}</Expiration></Credentials>` +
      `<AssumedRoleUser><Arn>${roleArn.replace(":role/", ":assumed-role/").replace("iam::", "sts::")}/secret-export-controller</Arn></AssumedRoleUser>` +
      `</${action}Result></${action}Response>`;
    send(res, 200, "text/xml", xml);
  }

  const expiry = () => new Date(Date.now() + 3600_000).toISOString();

  function stsError(res: ServerResponse, code: string, message: string) {
    send(
      res,
      403,
      "text/xml",
      `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error></ErrorResponse>`,
    );
  }

  type Verified =
    | { ok: true; accessKeyId: string; region: string }
    | { ok: false; accessKeyId?: string; code: string; message: string };

  /** SigV4 as AWS checks it, from the request exactly as it arrived. */
  function verify(req: IncomingMessage, body: string, service: string): Verified {
    const match =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
        req.headers.authorization ?? "",
      );
    if (!match)
      return {
        ok: false,
        code: "MissingAuthenticationTokenException",
        message: "Missing Authentication Token",
      };
    const [, accessKeyId = "", day, region = "", signedService, signedHeaders = "", signature = ""] = match;
    const key = keys.get(accessKeyId);
    if (!key)
      return {
        ok: false,
        accessKeyId,
        code: "UnrecognizedClientException",
        message: "The security token included in the request is invalid.",
      };
    const amzDate = String(req.headers["x-amz-date"] ?? "");
    const skew = Math.abs(
      Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z")) -
        Date.now(),
    );
    if (!(skew < 5 * 60_000) || amzDate.slice(0, 8) !== day)
      return {
        ok: false,
        accessKeyId,
        code: "InvalidSignatureException",
        message: "Signature expired or the date does not match the scope",
      };
    if (signedService !== service)
      return {
        ok: false,
        accessKeyId,
        code: "InvalidSignatureException",
        message: `Credential should be scoped to correct service: '${service}'`,
      };
    const names = signedHeaders.split(";");
    const needed = ["host", "x-amz-date", ...(key.sessionToken ? ["x-amz-security-token"] : [])];
    if (!needed.every((n) => names.includes(n)))
      return {
        ok: false,
        accessKeyId,
        code: "InvalidSignatureException",
        message: "host, x-amz-date and the session token must be signed",
      };
    if (key.sessionToken !== undefined && req.headers["x-amz-security-token"] !== key.sessionToken)
      return {
        ok: false,
        accessKeyId,
        code: "UnrecognizedClientException",
        message: "The security token included in the request is invalid.",
      };
    const url = new URL(req.url ?? "/", "http://fake");
    const canonical = [
      req.method,
      url.pathname,
      [...url.searchParams]
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .sort()
        .join("&"),
      ...names.map(
        (n) =>
          `${n}:${String(req.headers[n] ?? "")
            .trim()
            .replace(/\s+/g, " ")}`,
      ),
      "",
      signedHeaders,
      createHash("sha256").update(body).digest("hex"),
    ].join("\n");
    const scope = `${day}/${region}/${service}/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash("sha256").update(canonical).digest("hex")}`;
    let signing: Buffer = Buffer.from(`AWS4${key.secret}`);
    for (const part of [day ?? "", region, service, "aws4_request"])
      signing = createHmac("sha256", signing).update(part).digest();
    const expected = createHmac("sha256", signing).update(toSign).digest();
    if (!timingSafeEqual(expected, Buffer.from(signature, "hex")))
      return {
        ok: false,
        accessKeyId,
        code: "InvalidSignatureException",
        message: "The request signature we calculated does not match the signature you provided.",
      };
    return { ok: true, accessKeyId, region };
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

function json(res: ServerResponse, status: number, body: unknown) {
  send(res, status, "application/x-amz-json-1.1", JSON.stringify(body));
}

function send(res: ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, { "content-type": type }).end(body);
}
