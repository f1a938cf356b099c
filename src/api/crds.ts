// The two CustomResourceDefinitions, generated from the zod schemas (src/api/schemas.ts), so the API
// server validates exactly the shapes the controller parses. `npm run crds` writes them to crds/.
import { dumpYaml, loadYaml } from "@kubernetes/client-node";
import type { V1CustomResourceColumnDefinition } from "@kubernetes/client-node";
import type { z } from "zod";
import {
  CLUSTER_PLACEHOLDER_KIND,
  CLUSTER_PLACEHOLDER_PLURAL,
  CONDITION_READY,
  GROUP,
  OWN_GROUP,
  REGISTRY_CREDENTIAL_KIND,
  REGISTRY_CREDENTIAL_PLURAL,
  SECRET_EXPORT_KIND,
  SECRET_EXPORT_PLURAL,
  SECRET_IMPORT_KIND,
  SECRET_IMPORT_PLURAL,
  VERSION,
} from "../constants.ts";
import {
  clusterPlaceholderSpecSchema,
  clusterPlaceholderStatusSchema,
  registryCredentialSpecSchema,
  registryCredentialStatusSchema,
  secretExportSpecSchema,
  secretExportStatusSchema,
  secretImportSpecSchema,
  secretImportStatusSchema,
} from "./schemas.ts";
import { structuralSchema } from "./structural-schema.ts";

const READY_COLUMN: V1CustomResourceColumnDefinition = {
  name: "Ready",
  type: "string",
  jsonPath: `.status.conditions[?(@.type=="${CONDITION_READY}")].status`,
  description: "Whether the last reconcile succeeded",
};
const NAMESPACES_COLUMN: V1CustomResourceColumnDefinition = {
  name: "Namespaces",
  type: "integer",
  jsonPath: ".status.namespacesReached",
  description: "How many namespaces the export reaches",
};
// carvel's two columns, spelled as carvel spells them.
const DESCRIPTION_COLUMN: V1CustomResourceColumnDefinition = {
  name: "Description",
  type: "string",
  jsonPath: ".status.friendlyDescription",
  description: "Friendly description",
};
const AGE_COLUMN: V1CustomResourceColumnDefinition = {
  name: "Age",
  type: "date",
  jsonPath: ".metadata.creationTimestamp",
  description: "Time since creation",
};

export const secretExportCrd = () =>
  crd({
    kind: SECRET_EXPORT_KIND,
    plural: SECRET_EXPORT_PLURAL,
    spec: secretExportSpecSchema,
    status: secretExportStatusSchema,
    columns: [READY_COLUMN, NAMESPACES_COLUMN, DESCRIPTION_COLUMN, AGE_COLUMN],
  });

export const secretImportCrd = () =>
  crd({
    kind: SECRET_IMPORT_KIND,
    plural: SECRET_IMPORT_PLURAL,
    spec: secretImportSpecSchema,
    status: secretImportStatusSchema,
    columns: [READY_COLUMN, DESCRIPTION_COLUMN, AGE_COLUMN],
  });

export const clusterPlaceholderCrd = () =>
  crd({
    kind: CLUSTER_PLACEHOLDER_KIND,
    plural: CLUSTER_PLACEHOLDER_PLURAL,
    group: OWN_GROUP,
    scope: "Cluster",
    spec: clusterPlaceholderSpecSchema,
    status: clusterPlaceholderStatusSchema,
    columns: [
      READY_COLUMN,
      {
        name: "Namespaces",
        type: "integer",
        jsonPath: ".status.namespacesServed",
        description: "How many matching namespaces have the placeholder",
      },
      AGE_COLUMN,
    ],
  });

export const registryCredentialCrd = () =>
  crd({
    group: OWN_GROUP,
    kind: REGISTRY_CREDENTIAL_KIND,
    plural: REGISTRY_CREDENTIAL_PLURAL,
    spec: registryCredentialSpecSchema,
    status: registryCredentialStatusSchema,
    columns: [
      { ...READY_COLUMN, description: "Whether the Secret holds a fresh credential" },
      { name: "Provider", type: "string", jsonPath: ".status.provider", description: "The provider in use" },
      {
        name: "Expires",
        type: "date",
        jsonPath: ".status.expiresAt",
        description: "When the credential expires",
      },
      AGE_COLUMN,
    ],
  });

/** The files of crds/: what `npm run crds` writes and a test compares with the committed ones. */
export function crdFiles(): { name: string; content: string }[] {
  return [secretExportCrd(), secretImportCrd(), clusterPlaceholderCrd(), registryCredentialCrd()].map(
    (definition) => ({
      name: `${definition.spec.names.plural}.yaml`,
      content: `# Generated from src/api/schemas.ts by \`npm run crds\`; do not edit.\n${toYaml(definition)}`,
    }),
  );
}

interface CrdSource {
  kind: string;
  plural: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: V1CustomResourceColumnDefinition[];
  /** secretgen.carvel.dev and Namespaced unless said otherwise. */
  group?: string;
  scope?: "Namespaced" | "Cluster";
}

/** A CustomResourceDefinition in wire format, as kubectl would send it. */
function crd({ kind, plural, spec, status, columns, group = GROUP, scope = "Namespaced" }: CrdSource) {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns,
          schema: {
            openAPIV3Schema: {
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: structuralSchema(spec),
                status: structuralSchema(status),
              },
              required: ["spec"],
              type: "object",
            },
          },
        },
      ],
    },
  };
}

// client-node writes YAML only from its typed models (`enum` is `_enum` there, ...); its reader
// builds that model from the wire-format object, so the file says exactly what the object says.
const toYaml = (wire: object): string => dumpYaml(loadYaml(JSON.stringify(wire)), { lineWidth: -1 });
