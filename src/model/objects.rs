//! Trimmed, plain copies of the Kubernetes and Flux objects the model reads.
//!
//! `cluster/` turns API objects into these; nothing else from an API object is kept,
//! which bounds memory per object and lets tests build any state from plain values.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A point in time as the API reports it.
pub type Time = DateTime<Utc>;

/// A node and what placement verdicts need of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Node {
    /// Node name.
    pub name: String,
    /// Labels (all kept: they are few and the shard key is configurable).
    pub labels: BTreeMap<String, String>,
    /// The Ready condition: `Some(true)`, `Some(false)`, or `None` when Unknown or absent.
    pub ready: Option<bool>,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    /// Taints as `key=value:Effect`.
    pub taints: Vec<String>,
}

/// A pod of a Flux controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Pod {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// The `app` label, which names the controller Deployment (`kustomize-controller-shard1`).
    pub app: Option<String>,
    /// Node the scheduler bound it to.
    pub node: Option<String>,
    /// `status.phase`.
    pub phase: String,
    /// The Ready condition is True.
    pub ready: bool,
    /// Restarts summed over containers.
    pub restarts: u32,
    /// When PodScheduled is False: the scheduler's message.
    pub unschedulable_message: Option<String>,
    /// Set while the pod is being deleted.
    pub terminating: bool,
    /// Creation time.
    pub created: Option<Time>,
}

/// A controller Deployment in the Flux namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Deployment {
    /// Namespace.
    pub namespace: String,
    /// Deployment name (`source-controller`, `source-controller-shard2`).
    pub name: String,
    /// `app.kubernetes.io/component` label, when Flux's install set it.
    pub component: Option<String>,
    /// `app.kubernetes.io/version` label: the Flux release that installed it.
    #[serde(default)]
    pub flux_version: Option<String>,
    /// The `sharding.fluxcd.io/role` annotation (`shard` on copies).
    pub shard_role: Option<String>,
    /// The first container's `--watch-label-selector` value.
    pub watch_label_selector: Option<String>,
    /// Values of a required node-affinity `In` term on the shard label key.
    pub required_node_shards: Vec<String>,
    /// Values of a preferred node-affinity `In` term on the shard label key.
    pub preferred_node_shards: Vec<String>,
    /// `spec.replicas`.
    pub desired: u32,
    /// `status.readyReplicas`.
    pub ready: u32,
    /// `status.availableReplicas`.
    pub available: u32,
    /// `status.updatedReplicas`.
    pub updated: u32,
}

/// A leader-election Lease in the Flux namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Lease {
    /// Lease name (`kustomize-controller-leader-election-1a2b3c4d`).
    pub name: String,
    /// `spec.holderIdentity`; starts with the holding pod's name.
    pub holder: Option<String>,
    /// `spec.renewTime`.
    pub renewed: Option<Time>,
    /// `spec.leaseDurationSeconds`.
    pub duration_secs: Option<u32>,
}

/// The kinds of Flux object shardwatch follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FluxKind {
    /// `kustomize.toolkit.fluxcd.io/v1`
    Kustomization,
    /// `helm.toolkit.fluxcd.io/v2`
    HelmRelease,
    /// `source.toolkit.fluxcd.io/v1`
    GitRepository,
    /// `source.toolkit.fluxcd.io/v1`
    OCIRepository,
    /// `source.toolkit.fluxcd.io/v1`
    HelmRepository,
    /// `source.toolkit.fluxcd.io/v1`
    HelmChart,
    /// `source.toolkit.fluxcd.io/v1`
    Bucket,
}

impl FluxKind {
    /// Every kind, in display order.
    pub const ALL: [FluxKind; 7] = [
        FluxKind::Kustomization,
        FluxKind::HelmRelease,
        FluxKind::GitRepository,
        FluxKind::OCIRepository,
        FluxKind::HelmRepository,
        FluxKind::HelmChart,
        FluxKind::Bucket,
    ];

    /// The kind's name as in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            FluxKind::Kustomization => "Kustomization",
            FluxKind::HelmRelease => "HelmRelease",
            FluxKind::GitRepository => "GitRepository",
            FluxKind::OCIRepository => "OCIRepository",
            FluxKind::HelmRepository => "HelmRepository",
            FluxKind::HelmChart => "HelmChart",
            FluxKind::Bucket => "Bucket",
        }
    }

    /// API group and version.
    pub fn api_version(self) -> &'static str {
        match self {
            FluxKind::Kustomization => "kustomize.toolkit.fluxcd.io/v1",
            FluxKind::HelmRelease => "helm.toolkit.fluxcd.io/v2",
            _ => "source.toolkit.fluxcd.io/v1",
        }
    }

    /// Plural resource name.
    pub fn plural(self) -> &'static str {
        match self {
            FluxKind::Kustomization => "kustomizations",
            FluxKind::HelmRelease => "helmreleases",
            FluxKind::GitRepository => "gitrepositories",
            FluxKind::OCIRepository => "ocirepositories",
            FluxKind::HelmRepository => "helmrepositories",
            FluxKind::HelmChart => "helmcharts",
            FluxKind::Bucket => "buckets",
        }
    }

    /// The Flux controller that reconciles this kind.
    pub fn controller(self) -> &'static str {
        match self {
            FluxKind::Kustomization => "kustomize-controller",
            FluxKind::HelmRelease => "helm-controller",
            _ => "source-controller",
        }
    }

    /// Parses a `kind:` name.
    pub fn parse(s: &str) -> Option<FluxKind> {
        FluxKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A shared, immutable string: a key is copied into every index and view, and a copy of
/// this is a reference count, not an allocation.
pub type Text = std::sync::Arc<str>;

/// Identifies one Flux object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FluxKey {
    /// Kind.
    pub kind: FluxKind,
    /// Namespace.
    pub namespace: Text,
    /// Name.
    pub name: Text,
}

impl std::fmt::Display for FluxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.kind.as_str(), self.namespace, self.name)
    }
}

/// One status condition (fluxcd/pkg meta shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Condition {
    /// `Ready`, `Reconciling`, `Stalled`, `Healthy`, ...
    pub type_: Text,
    /// `True`, `False` or `Unknown`.
    pub status: Text,
    /// Machine-readable reason.
    pub reason: Text,
    /// Human message (shared with the views that show it).
    pub message: Text,
    /// When the status last changed.
    pub last_transition: Option<Time>,
}

/// A `dependsOn` entry, with the namespace already resolved against the dependent's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DependencyRef {
    /// Namespace of the dependency.
    pub namespace: Text,
    /// Name of the dependency.
    pub name: Text,
}

/// A Flux object trimmed to what state, assignment and the graph need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FluxObject {
    /// Kind, namespace, name.
    pub key: FluxKey,
    /// Value of the shard label, if labelled.
    pub shard: Option<String>,
    /// Every other label, sorted by key: what a controller's watch selector may ask about.
    #[serde(default)]
    pub labels: Vec<(Text, Text)>,
    /// `metadata.generation`.
    pub generation: i64,
    /// `status.observedGeneration`, when any status was ever written.
    pub observed_generation: Option<i64>,
    /// `spec.suspend`.
    pub suspend: bool,
    /// `status.conditions`.
    pub conditions: Vec<Condition>,
    /// Last applied (Kustomization), chart version (HelmRelease) or artifact revision (sources).
    pub revision: Option<Text>,
    /// `spec.dependsOn`, namespaces resolved (Kustomization and HelmRelease only).
    pub depends_on: Vec<DependencyRef>,
    /// `spec.sourceRef` as `Kind/namespace/name`, when present.
    pub source_ref: Option<String>,
    /// `spec.type` for a HelmRepository (`oci` has no conditions and counts as ready).
    pub repo_type: Option<String>,
    /// Creation time.
    pub created: Option<Time>,
    /// `spec.targetNamespace`, when set (where a HelmRelease installs, for explanations).
    #[serde(default)]
    pub target_namespace: Option<String>,
    /// `spec.releaseName` of a HelmRelease, when set.
    #[serde(default)]
    pub release_name: Option<String>,
    /// The `reconcile.fluxcd.io/requestedAt` annotation and `status.lastHandledReconcileAt`,
    /// when either is set (boxed: most objects carry none, and every event carries an object).
    #[serde(default)]
    pub reconcile: Option<Box<ReconcileTokens>>,
}

/// A reconcile request and the last one the controller handled: Flux copies the
/// annotation's value into the status once it has reconciled because of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReconcileTokens {
    /// `metadata.annotations["reconcile.fluxcd.io/requestedAt"]`.
    pub requested: Option<String>,
    /// `status.lastHandledReconcileAt`.
    pub handled: Option<String>,
}

impl ReconcileTokens {
    /// The request not handled yet, if any.
    pub fn pending(&self) -> Option<&str> {
        self.requested.as_deref().filter(|r| !r.is_empty() && self.handled.as_deref() != Some(*r))
    }
}

impl FluxObject {
    /// The value of label `key` (`shard_label` is the one kept in `shard`).
    pub fn label(&self, key: &str, shard_label: &str) -> Option<&str> {
        if key == shard_label {
            return self.shard.as_deref();
        }
        self.labels.binary_search_by(|(k, _)| (**k).cmp(key)).ok().map(|i| &*self.labels[i].1)
    }

    /// The condition of this type, if present.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| &*c.type_ == type_)
    }
}

/// A Kubernetes Event (`events.k8s.io/v1`), trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct KubeEvent {
    /// Namespace of the Event object.
    pub namespace: String,
    /// Name of the Event object.
    pub name: String,
    /// When it last happened.
    pub time: Option<Time>,
    /// `Normal` or `Warning`.
    pub type_: String,
    /// Reason.
    pub reason: String,
    /// Note (message).
    pub note: String,
    /// `regarding` as `Kind/namespace/name`.
    pub regarding: String,
    /// How often it happened.
    pub count: u32,
}

/// The controller that owns a pod, as `ownerReferences` says, with a ReplicaSet made of a
/// Deployment read as that Deployment (a health check names the Deployment).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Owner {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `ReplicaSet`, ...
    pub kind: String,
    /// Its name.
    pub name: String,
}

/// Why one container of a pod is not running (`status.containerStatuses[].state.waiting`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ContainerWaiting {
    /// Container name.
    pub container: String,
    /// `ErrImagePull`, `ImagePullBackOff`, `CreateContainerConfigError`, `ContainerCreating`, ...
    pub reason: String,
    /// The kubelet's message.
    pub message: String,
}

/// A pod in any namespace whose phase is Pending: what explanations need to say why a
/// workload a Flux object waits for does not become ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PendingPod {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// Its controller, if any.
    pub owner: Option<Owner>,
    /// Node the scheduler bound it to, once bound.
    pub node: Option<String>,
    /// When PodScheduled is False: its reason (`Unschedulable`, `SchedulingGated`).
    pub unscheduled_reason: Option<String>,
    /// When PodScheduled is False: the scheduler's message.
    pub unscheduled_message: Option<String>,
    /// Containers (init containers first) that are waiting, with why.
    pub waiting: Vec<ContainerWaiting>,
    /// The `app.kubernetes.io/instance` label (a Helm release's name).
    pub instance: Option<String>,
    /// The `app.kubernetes.io/name` label.
    pub app_name: Option<String>,
    /// Creation time.
    pub created: Option<Time>,
}

impl PendingPod {
    /// Why it is Pending, as a reason and a message: not scheduled (with the scheduler's
    /// words), a container that cannot start (an image that does not pull), or still starting.
    pub fn why(&self) -> (String, String) {
        if let Some(reason) = &self.unscheduled_reason {
            return (reason.clone(), self.unscheduled_message.clone().unwrap_or_default());
        }
        // ContainerCreating and PodInitializing are normal steps; any other waiting reason is the problem.
        let normal =
            |w: &&ContainerWaiting| matches!(w.reason.as_str(), "ContainerCreating" | "PodInitializing");
        if let Some(w) = self.waiting.iter().find(|w| !normal(w)).or_else(|| self.waiting.first()) {
            let message = if w.message.is_empty() {
                format!("container {}", w.container)
            } else {
                format!("container {}: {}", w.container, w.message)
            };
            return (w.reason.clone(), message);
        }
        match &self.node {
            None => ("NotScheduled".into(), "not scheduled yet".into()),
            Some(node) => ("Starting".into(), format!("bound to {node}, containers not started yet")),
        }
    }
}
