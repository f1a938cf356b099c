// Each provider's module is imported only when a RegistryCredential of that provider is minted, so
// a cluster without any pays no memory for it.
import type { RegistryCredentialSpec } from "../api/schemas.ts";
import type { ProviderName } from "../core/registry-credential.ts";
import type { MintedCredential, PluginSettings, ProviderInput } from "./provider.ts";

export type Mint = (
  spec: RegistryCredentialSpec,
  input: ProviderInput,
  plugins: PluginSettings | undefined,
) => Promise<MintedCredential>;

export type ProviderLoaders = Partial<Record<ProviderName, () => Promise<Mint>>>;

/** The providers of this build; one missing is reported as ProviderNotConfigured. */
export const providerLoaders: ProviderLoaders = {
  basicAuth: async () => {
    const { mintBasicAuth } = await import("./providers/basic-auth.ts");
    return (spec, input) =>
      mintBasicAuth({ registries: spec.registries ?? [], secretRef: need(spec.basicAuth).secretRef }, input);
  },
  ecr: async () => {
    const { mintEcr } = await import("./providers/ecr.ts");
    return (spec, input) => mintEcr(need(spec.ecr), input);
  },
  gcp: async () => {
    const { mintGcp } = await import("./providers/gcp.ts");
    return (spec, input) => mintGcp(need(spec.gcp), input);
  },
  acr: async () => {
    const { mintAcr } = await import("./providers/acr.ts");
    return (spec, input) => mintAcr(need(spec.acr), input);
  },
  exec: async () => {
    const { mintExec } = await import("./providers/exec.ts");
    return (spec, input, plugins) =>
      mintExec(
        {
          image: need(spec.exec).image,
          ...(spec.registries ? { registries: spec.registries } : {}),
          plugins: need(plugins),
        },
        input,
      );
  },
};

function need<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("provider spec missing");
  return value;
}
