// The CA, serving certificate, admin client certificate and service-account signing key a local
// kube-apiserver needs, made with openssl (on every Debian machine).
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function certificates(dir: string) {
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });

  await openssl(
    ..."req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=local-ca -keyout ca.key -out ca.crt".split(
      " ",
    ),
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  await writeFile(
    f("server.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
  );
  await writeFile(
    f("client.ext"),
    "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
  );
  await signed("apiserver", "/CN=kube-apiserver", "server.ext");
  // CN is the user name, O the group: system:masters bypasses RBAC, as a cluster admin does.
  await signed("admin", "/O=system:masters/CN=admin", "client.ext");
  await openssl("genrsa", "-out", "sa.key", "2048");

  return {
    ca: f("ca.crt"),
    serverCert: f("apiserver.crt"),
    serverKey: f("apiserver.key"),
    adminCert: f("admin.crt"),
    adminKey: f("admin.key"),
    serviceAccountKey: f("sa.key"),
  };

  async function signed(name: string, subject: string, ext: string) {
    await openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      subject,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
    );
    await openssl(
      ..."x509 -req -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650".split(" "),
      "-in",
      `${name}.csr`,
      "-extfile",
      ext,
      "-out",
      `${name}.crt`,
    );
  }
}
