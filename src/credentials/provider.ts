// The contract between the RegistryCredential reconciler and each credential provider. A provider
// turns a spec (and, where it names one, the input Secret from the RegistryCredential's own
// namespace) into registry credentials and the lifetime the provider reported. Providers are loaded
// with a dynamic import only when a RegistryCredential of their kind exists.

/** Registry credentials a provider minted, with what the provider said about their lifetime. */
export interface MintedCredential {
  /** `auths` entries to write, keyed as they are written into `.dockerconfigjson`. */
  auths: Record<string, { username: string; password: string }>;
  /** When the credential stops working, as the provider reported it; absent: it does not expire. */
  expiresAt?: Date;
  /** The non-secret identity used (role ARN, service-account email, client ID), shown in status. */
  identity?: string;
}

/** The input Secret named by `spec.<provider>.secretRef`, read in the RegistryCredential's namespace. */
export interface InputSecret {
  type: string;
  data: Record<string, Buffer>;
}

/** Endpoints that come from the controller's own flags (never from a RegistryCredential). */
export interface CloudEndpoints {
  /** OAuth token endpoint for Google service-account keys; a key file's `token_uri` is ignored. */
  gcpTokenUrl: string;
  /** Host suffixes an ACR registry may have; the AAD token is exchanged only at such hosts. */
  acrRegistrySuffixes: string[];
}

export interface ProviderInput {
  /** The input Secret, when the spec names one and it exists. */
  secret?: InputSecret;
  /** The controller's environment: the providers' standard variables (AWS_*, GCE_METADATA_HOST, AZURE_*). */
  env: NodeJS.ProcessEnv;
  endpoints: CloudEndpoints;
  signal: AbortSignal;
  now(): Date;
}

/**
 * A refusal or failure a provider reports. Its message names what failed (endpoint, HTTP status,
 * the provider's error code) and never contains a token, key, password or request body.
 * `retryable` is false when retrying cannot help until the input changes (a malformed key, a
 * missing Secret key, a grant the provider refused with invalid_client).
 */
export class ProviderError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.name = "ProviderError";
    this.retryable = retryable;
  }
}

export type { AcrSpec, EcrSpec, GcpSpec } from "../core/types.ts";

/** Kubelet credential provider plugins, from the controller's flags (the kubelet's own two). */
export interface PluginSettings {
  /** A CredentialProviderConfig file (kubelet.config.k8s.io/v1), YAML or JSON. */
  configPath: string;
  /** Where the plugins' executables are, named as the config's providers. */
  binDir: string;
}

/** `spec.basicAuth` with the registries it is for. */
export interface BasicAuthSpec {
  registries: string[];
  secretRef: { name: string; usernameKey?: string; passwordKey?: string; field?: string };
}

/** `spec.exec` with `spec.registries` and the operator's plugin settings. */
export interface ExecSpec {
  image: string;
  registries?: string[];
  plugins: PluginSettings;
}
