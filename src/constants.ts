// Every string the outside world can see: API group, annotation keys, condition types and reasons,
// Event reasons, fixed messages and metric names. Nothing API-visible is spelled anywhere else.

export const GROUP = "secretgen.carvel.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const SECRET_EXPORT_KIND = "SecretExport";
export const SECRET_IMPORT_KIND = "SecretImport";
export const SECRET_EXPORT_PLURAL = "secretexports";
export const SECRET_IMPORT_PLURAL = "secretimports";

export const ANNOTATION_IMAGE_PULL_SECRET = "secretgen.carvel.dev/image-pull-secret";
export const ANNOTATION_STATUS = "secretgen.carvel.dev/status";
export const ANNOTATION_EXCLUDED_FROM_WILDCARD = "secretgen.carvel.dev/excluded-from-wildcard-matching";
export const ANNOTATION_WEIGHT = "secretgen.carvel.dev/weight";

export const SECRET_TYPE_DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson";
export const SECRET_TYPE_SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token";
export const DOCKER_CONFIG_JSON_KEY = ".dockerconfigjson";

/** Condition types: carvel's pair, plus the kstatus-style Ready. */
export const CONDITION_RECONCILE_SUCCEEDED = "ReconcileSucceeded";
export const CONDITION_RECONCILE_FAILED = "ReconcileFailed";
export const CONDITION_READY = "Ready";

/** Ready condition reasons. */
export const REASON_EXPORTED = "Exported";
export const REASON_IMPORTED = "Imported";
export const REASON_SECRET_NOT_FOUND = "SecretNotFound";
export const REASON_INVALID_SPEC = "InvalidSpec";
export const REASON_INVALID_DOCKER_CONFIG = "InvalidDockerConfig";
export const REASON_CONFLICT = "Conflict";
export const REASON_NO_MATCHING_EXPORT = "NoMatchingExport";
export const REASON_SECRET_EXISTS = "SecretExists";
export const REASON_UNSUPPORTED_TYPE = "UnsupportedType";
export const REASON_SOURCE_IS_PLACEHOLDER = "SourceIsPlaceholder";
/** The API server refused a write (RBAC, a ResourceQuota, validation, an admission webhook or policy). */
export const REASON_WRITE_REJECTED = "WriteRejected";

/** Messages carvel users already know; kept word for word. */
export const MESSAGE_MISSING_EXPORTED_SECRET = "Missing exported secret";
export const MESSAGE_NO_MATCHING_EXPORT = "No matching export/secret";
export const MESSAGE_WRONG_PLACEHOLDER_TYPE =
  "Expected secret to have type=corev1.SecretTypeDockerConfigJson, but did not";
export const MESSAGE_SOURCE_IS_PLACEHOLDER = `The Secret carries the ${ANNOTATION_IMAGE_PULL_SECRET} annotation: it is a placeholder the controller fills, and a placeholder is never offered onward. Export the Secret the credentials come from instead`;
export const FRIENDLY_SUCCEEDED = "Reconcile succeeded";
export const FRIENDLY_FAILED_PREFIX = "Reconcile failed: ";

/** Event reasons, emitted on transitions only. */
export const EVENT_CONFLICT_DETECTED = "ConflictDetected";
export const EVENT_CONFLICT_RESOLVED = "ConflictResolved";
export const EVENT_EXPORT_INVALID = "ExportInvalid";
export const EVENT_COMPONENT = "secret-export-controller";

export const MESSAGE_TOO_LARGE =
  "The merged credentials exceed the 1 MiB Secret size limit; the placeholder keeps its current data. Export fewer or smaller credentials to this namespace";
export const MESSAGE_STATUS_TOO_LARGE =
  "The status of the merged credentials (the export each registry comes from) exceeds the 256 KiB Kubernetes allows for a Secret's annotations; the placeholder keeps its current data. Export fewer registries to this namespace";

/** On every copy a SecretImport makes: how the controller watches only its own copies. */
export const LABEL_IMPORTED = "secretgen.carvel.dev/imported";
export const MESSAGE_IMPORT_INTO_OWN_NAMESPACE =
  "spec.fromNamespace names the SecretImport's own namespace: a Secret cannot be imported into the namespace it comes from";
export const EVENT_IMPORT_REMOVED = "ImportRemoved";

/** Metric names: controller-runtime's, so existing dashboards work, then ours. */
export const METRIC_RECONCILE_TOTAL = "controller_runtime_reconcile_total";
export const METRIC_RECONCILE_ERRORS_TOTAL = "controller_runtime_reconcile_errors_total";
export const METRIC_RECONCILE_ERRORS_BY_CLASS_TOTAL = "secret_export_reconcile_errors_total";
export const METRIC_RECONCILE_TIME_SECONDS = "controller_runtime_reconcile_time_seconds";
export const METRIC_WORKQUEUE_DEPTH = "workqueue_depth";
export const METRIC_WORKQUEUE_ADDS_TOTAL = "workqueue_adds_total";
export const METRIC_WORKQUEUE_RETRIES_TOTAL = "workqueue_retries_total";
export const METRIC_REST_CLIENT_REQUESTS_TOTAL = "rest_client_requests_total";
export const METRIC_LEADER_STATUS = "leader_election_master_status";
export const METRIC_PLACEHOLDERS = "secret_export_placeholders";
export const METRIC_REGISTRY_CONFLICTS = "secret_export_registry_conflicts";
export const METRIC_EXPORTS = "secret_export_exports";
export const METRIC_IMPORTS = "secret_export_imports";
export const METRIC_REWRITES_DELAYED_TOTAL = "secret_export_rewrites_delayed_total";

/** Our own API group, for the kinds carvel does not have (ClusterPlaceholder, RegistryCredential). */
export const OWN_GROUP = "secret-export.dev";
export const OWN_API_VERSION = `${OWN_GROUP}/v1alpha1`;
export const CLUSTER_PLACEHOLDER_KIND = "ClusterPlaceholder";
export const CLUSTER_PLACEHOLDER_PLURAL = "clusterplaceholders";
/** On every placeholder a ClusterPlaceholder creates; the value is the ClusterPlaceholder's name. */
export const LABEL_CLUSTER_PLACEHOLDER = "secret-export.dev/cluster-placeholder";
/** On a ServiceAccount: which imagePullSecrets entries ClusterPlaceholders added (JSON), so only those are removed. */
export const ANNOTATION_ADDED_PULL_SECRETS = "secret-export.dev/added-image-pull-secrets";
export const REASON_PROVISIONED = "Provisioned";
export const REASON_NAMESPACES_NOT_SERVED = "NamespacesNotServed";
export const EVENT_CLUSTER_PLACEHOLDER_INVALID = "ClusterPlaceholderInvalid";
export const METRIC_PROVISIONED_CREATED_TOTAL = "secret_export_provisioned_placeholders_created_total";
export const METRIC_PROVISIONED_DELETED_TOTAL = "secret_export_provisioned_placeholders_deleted_total";

/** RegistryCredential (SPEC §9): a dockerconfigjson Secret of the same name kept fresh from a provider. */
export const REGISTRY_CREDENTIAL_KIND = "RegistryCredential";
export const REGISTRY_CREDENTIAL_PLURAL = "registrycredentials";
export const PROVIDER_NAMES = ["basicAuth", "ecr", "gcp", "acr", "exec"] as const;
/** On the Secret a RegistryCredential fills: when the credential expires, when it was minted, from what. */
export const ANNOTATION_CREDENTIAL_EXPIRES_AT = "secret-export.dev/expires-at";
export const ANNOTATION_CREDENTIAL_REFRESHED_AT = "secret-export.dev/refreshed-at";
export const ANNOTATION_CREDENTIAL_MINTED_FROM = "secret-export.dev/minted-from";
/** RegistryCredential Ready reasons (besides InvalidSpec, SecretExists and SecretNotFound above). */
export const REASON_REFRESHED = "Refreshed";
export const REASON_REFRESH_FAILED = "RefreshFailed";
export const REASON_CREDENTIAL_EXPIRED = "CredentialExpired";
export const REASON_PROVIDER_NOT_CONFIGURED = "ProviderNotConfigured";
/** RegistryCredential Events, on transitions of the Ready reason. */
export const EVENT_CREDENTIAL_REFRESHED = "Refreshed";
export const EVENT_CREDENTIAL_REFRESH_FAILED = "RefreshFailed";
export const EVENT_CREDENTIAL_EXPIRED = "CredentialExpired";
export const EVENT_CREDENTIAL_SECRET_EXISTS = "SecretExists";
export const EVENT_CREDENTIAL_INVALID = "CredentialInvalid";
export const METRIC_CREDENTIAL_REFRESHES_TOTAL = "secret_export_credential_refreshes_total";
export const METRIC_CREDENTIAL_REFRESH_SECONDS = "secret_export_credential_refresh_duration_seconds";
export const METRIC_CREDENTIAL_EXPIRY_TIMESTAMP = "secret_export_credential_expiry_timestamp_seconds";
