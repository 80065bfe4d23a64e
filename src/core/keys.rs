//! Every annotation and label key reloader reads or writes, in one place. The keys users
//! set are stakater/Reloader's, unchanged; the ones reloader writes share its prefix.

// Read from workloads (see `policy::AnnotationKeys`, which can rename them).

/// Follow every Secret and ConfigMap the pod spec references.
pub const AUTO: &str = "reloader.stakater.com/auto";
/// Follow every Secret the pod spec references.
pub const SECRET_AUTO: &str = "secret.reloader.stakater.com/auto";
/// Follow every ConfigMap the pod spec references.
pub const CONFIGMAP_AUTO: &str = "configmap.reloader.stakater.com/auto";
/// Follow every SecretProviderClass the pod spec's CSI volumes name (`--enable-csi-integration`).
pub const SECRET_PROVIDER_CLASS_AUTO: &str = "secretproviderclass.reloader.stakater.com/auto";
/// Follow the listed Secrets (names or regexes).
pub const SECRET_RELOAD: &str = "secret.reloader.stakater.com/reload";
/// Follow the listed ConfigMaps (names or regexes).
pub const CONFIGMAP_RELOAD: &str = "configmap.reloader.stakater.com/reload";
/// Follow the listed SecretProviderClasses (names or regexes).
pub const SECRET_PROVIDER_CLASS_RELOAD: &str = "secretproviderclass.reloader.stakater.com/reload";
/// Follow referenced sources that carry [`MATCH`].
pub const SEARCH: &str = "reloader.stakater.com/search";
/// On a source: followed by workloads with [`SEARCH`].
pub const MATCH: &str = "reloader.stakater.com/match";
/// Never follow the listed Secrets.
pub const SECRET_EXCLUDE: &str = "secrets.exclude.reloader.stakater.com/reload";
/// Never follow the listed ConfigMaps.
pub const CONFIGMAP_EXCLUDE: &str = "configmaps.exclude.reloader.stakater.com/reload";
/// Never follow the listed SecretProviderClasses.
pub const SECRET_PROVIDER_CLASS_EXCLUDE: &str =
    "secretproviderclasses.exclude.reloader.stakater.com/reload";
/// The least time between two rollouts of one workload.
pub const PAUSE_PERIOD: &str = "reloader.stakater.com/pause-period";
/// Overrides `--coalesce-window` for one workload.
pub const COALESCE_WINDOW: &str = "reloader.stakater.com/coalesce-window";
/// On an Argo Rollout: `restart` rolls it through `spec.restartAt`.
pub const ROLLOUT_STRATEGY: &str = "reloader.stakater.com/rollout-strategy";

// Read from sources.

/// Keeps a Secret or ConfigMap from ever triggering. The admission webhook reads it too,
/// so an ignored source costs no trigger at all.
pub const IGNORE: &str = "reloader.stakater.com/ignore";

// Written by reloader.

/// Pod-template annotation in stakater's shape naming the last source that rolled the
/// workload (without stakater's timestamp, which made every retry a rollout).
pub const LAST_RELOADED_FROM: &str = "reloader.stakater.com/last-reloaded-from";
/// Pod-template annotation holding the hash of every followed source (annotations
/// strategy; a restarting Rollout's own metadata), so sources compare independently.
pub const SOURCE_HASHES: &str = "reloader.stakater.com/source-hashes";
/// Workload-metadata annotation recording when reloader last rolled the workload, so pauses
/// survive restarts. On metadata, not the pod template: writing it never rolls.
pub const LAST_RELOAD_AT: &str = "reloader.stakater.com/last-reload-at";

// Labels.

/// Label on a Namespace that turns the sources webhook off for it (value
/// [`WEBHOOK_OPT_OUT_VALUE`]).
pub const WEBHOOK_OPT_OUT: &str = "reloader.stakater.com/webhook";
pub const WEBHOOK_OPT_OUT_VALUE: &str = "disabled";

// Kubernetes' own, dropped from cached objects.

/// What `kubectl apply` keeps on every object it applied: a whole copy of it.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
