// Loopback HTTP(S) servers that stand in for cloud endpoints in tests, and the test CA that makes
// their certificates trusted (by this process, or by a child through NODE_EXTRA_CA_CERTS).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { certificates } from "../../dev/certificates.ts";

export interface TestTls {
  /** PEM file of the CA, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  ca: string;
  cert: string;
  key: string;
  remove(): Promise<void>;
}

/** A CA and a serving certificate for 127.0.0.1 and localhost, made in a temporary directory. */
export async function createTestTls(): Promise<TestTls> {
  const dir = await mkdtemp(join(tmpdir(), "sec-cloud-tls-"));
  const files = await certificates(dir);
  return {
    caFile: files.ca,
    ca: await readFile(files.ca, "utf8"),
    cert: await readFile(files.serverCert, "utf8"),
    key: await readFile(files.serverKey, "utf8"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Makes this process's fetch trust the test CA, next to the bundled roots. */
export function trustInProcess(testTls: TestTls) {
  tls.setDefaultCACertificates([...tls.getCACertificates("default"), testTls.ca]);
}

export interface Loopback {
  /** `http(s)://127.0.0.1:port` */
  url: string;
  /** `127.0.0.1:port` */
  host: string;
  close(): Promise<void>;
}

export type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

/** Serves `handler` on a free loopback port, over TLS when given certificates. */
export async function listen(handler: Handler, testTls?: TestTls): Promise<Loopback> {
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => handler(request, Buffer.concat(chunks).toString("utf8"), response));
  };
  const server = testTls
    ? createHttpsServer({ cert: testTls.cert, key: testTls.key }, onRequest)
    : createHttpServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${testTls ? "https" : "http"}://${host}`,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers = {}) {
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

/** The form of an application/x-www-form-urlencoded request, or undefined for any other body. */
export function formOf(request: IncomingMessage, body: string): URLSearchParams | undefined {
  const type = request.headers["content-type"]?.split(";")[0]?.trim();
  return request.method === "POST" && type === "application/x-www-form-urlencoded"
    ? new URLSearchParams(body)
    : undefined;
}
