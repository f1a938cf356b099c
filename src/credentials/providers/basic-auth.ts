// basicAuth: a username and password from a Secret in the RegistryCredential's namespace, as
// Gardener's registry-cache keeps them (username/password keys) or Argo CD Image Updater reads them
// (one field holding username:password). They do not expire: a change of the Secret is what
// makes a new credential.
import { type BasicAuthSpec, type MintedCredential, ProviderError, type ProviderInput } from "../provider.ts";

export async function mintBasicAuth(spec: BasicAuthSpec, input: ProviderInput): Promise<MintedCredential> {
  const { secretRef } = spec;
  const secret = input.secret;
  if (secret === undefined) throw new ProviderError(`Secret ${secretRef.name} not found`, false);
  const read = (key: string): string => {
    const value = secret.data[key];
    if (value === undefined || value.length === 0)
      throw new ProviderError(`Secret ${secretRef.name} has no key "${key}" (or it is empty)`, false);
    return value.toString("utf8");
  };
  const [username, password] = secretRef.field
    ? splitPair(read(secretRef.field), secretRef)
    : [read(secretRef.usernameKey ?? "username"), read(secretRef.passwordKey ?? "password")];
  return {
    auths: Object.fromEntries(spec.registries.map((registry) => [registry, { username, password }])),
    identity: `Secret ${secretRef.name}`,
  };
}

function splitPair(value: string, ref: BasicAuthSpec["secretRef"]): [string, string] {
  const colon = value.indexOf(":");
  if (colon <= 0 || colon === value.length - 1)
    throw new ProviderError(`key "${ref.field}" of Secret ${ref.name} must hold username:password`, false);
  return [value.slice(0, colon), value.slice(colon + 1)];
}
