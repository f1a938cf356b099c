// What the cache keeps of a RegistryCredential: its identity, generation, parsed spec and status.
import {
  type ParsedSpec,
  parseRegistryCredentialSpec,
  type RegistryCredentialSpec,
  type RegistryCredentialStatus,
} from "../api/schemas.ts";
import { inputSecretName } from "../core/registry-credential.ts";
import type { KubeObject } from "../runtime/kube-http.ts";

export interface CredentialEntry {
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  spec: ParsedSpec<RegistryCredentialSpec>;
  status: RegistryCredentialStatus;
  /** The input Secret's name in the same namespace, when the spec names one. */
  input: string | undefined;
}

export function credentialEntry(o: KubeObject): CredentialEntry | undefined {
  const metadata = (o.metadata ?? {}) as {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
  };
  if (metadata.namespace === undefined || metadata.name === undefined) return undefined;
  const spec = parseRegistryCredentialSpec(o.spec ?? {});
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    uid: metadata.uid ?? "",
    generation: metadata.generation ?? 0,
    spec,
    status: (o.status ?? {}) as RegistryCredentialStatus,
    input: spec.ok ? inputSecretName(spec.spec) : undefined,
  };
}
