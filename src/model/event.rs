//! The model's only input: plain, serialisable events from `cluster/`.
//!
//! Because they are plain values, what the dashboard saw can be recorded as NDJSON and
//! replayed without a cluster, and tests can drive the model with no server at all.

use serde::{Deserialize, Serialize};

use super::objects::{
    Deployment, FluxKey, FluxKind, FluxObject, KubeEvent, Lease, Node, PendingPod, Pod, Time,
};

/// The resource kinds shardwatch watches, for per-kind connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ResourceKind {
    /// Nodes (cluster-wide).
    Node,
    /// Pods in the Flux namespace.
    Pod,
    /// Deployments in the Flux namespace.
    Deployment,
    /// Leases in the Flux namespace.
    Lease,
    /// Warning Events, all namespaces.
    Event,
    /// Pods whose phase is Pending, all namespaces (for explanations).
    PendingPod,
    /// A Flux kind, all namespaces.
    Flux(FluxKind),
}

impl ResourceKind {
    /// Every kind, in a fixed order: the watchers report on each.
    pub fn all() -> Vec<ResourceKind> {
        let mut kinds = vec![
            ResourceKind::Node,
            ResourceKind::Pod,
            ResourceKind::Deployment,
            ResourceKind::Lease,
            ResourceKind::Event,
            ResourceKind::PendingPod,
        ];
        kinds.extend(FluxKind::ALL.map(ResourceKind::Flux));
        kinds
    }

    /// A short human name (`nodes`, `kustomizations`).
    pub fn label(self) -> &'static str {
        match self {
            ResourceKind::Node => "nodes",
            ResourceKind::Pod => "pods",
            ResourceKind::Deployment => "deployments",
            ResourceKind::Lease => "leases",
            ResourceKind::Event => "events",
            ResourceKind::PendingPod => "pending pods",
            ResourceKind::Flux(k) => k.plural(),
        }
    }
}

/// What shardwatch can currently see of one resource kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum WatchState {
    /// The initial list has not arrived yet.
    #[default]
    Syncing,
    /// Listed and watching; data is current.
    Live,
    /// The watch broke; data shown is as of `since` and may be stale.
    Lost {
        /// When the connection was lost.
        since: Time,
        /// Why, as the client reported it.
        error: String,
    },
    /// The API refused to list this kind (RBAC).
    Forbidden(String),
    /// The CRD for this kind is not installed.
    NotInstalled,
}

/// A trimmed object of any followed kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Object {
    /// A node.
    Node(Node),
    /// A Flux controller pod.
    Pod(Pod),
    /// A Flux controller Deployment.
    Deployment(Deployment),
    /// A leader-election Lease.
    Lease(Lease),
    /// A Flux object.
    Flux(FluxObject),
    /// A Kubernetes Event.
    Event(KubeEvent),
    /// A Pending pod in any namespace.
    PendingPod(PendingPod),
}

impl Object {
    /// The kind of resource this object is.
    pub fn kind(&self) -> ResourceKind {
        match self {
            Object::Node(_) => ResourceKind::Node,
            Object::Pod(_) => ResourceKind::Pod,
            Object::Deployment(_) => ResourceKind::Deployment,
            Object::Lease(_) => ResourceKind::Lease,
            Object::Flux(f) => ResourceKind::Flux(f.key.kind),
            Object::Event(_) => ResourceKind::Event,
            Object::PendingPod(_) => ResourceKind::PendingPod,
        }
    }
}

// Trimmed objects convert into `Object`, so builders and tests can pass any of them.
impl From<Node> for Object {
    fn from(n: Node) -> Self {
        Object::Node(n)
    }
}
impl From<Pod> for Object {
    fn from(p: Pod) -> Self {
        Object::Pod(p)
    }
}
impl From<Deployment> for Object {
    fn from(d: Deployment) -> Self {
        Object::Deployment(d)
    }
}
impl From<Lease> for Object {
    fn from(l: Lease) -> Self {
        Object::Lease(l)
    }
}
impl From<FluxObject> for Object {
    fn from(f: FluxObject) -> Self {
        Object::Flux(f)
    }
}
impl From<KubeEvent> for Object {
    fn from(e: KubeEvent) -> Self {
        Object::Event(e)
    }
}
impl From<PendingPod> for Object {
    fn from(p: PendingPod) -> Self {
        Object::PendingPod(p)
    }
}

/// Identifies an object for deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectId {
    /// Node by name.
    Node(String),
    /// Pod by namespace and name.
    Pod(String, String),
    /// Deployment by namespace and name.
    Deployment(String, String),
    /// Lease by name.
    Lease(String),
    /// Flux object.
    Flux(FluxKey),
    /// Event by namespace and name.
    Event(String, String),
    /// Pending pod by namespace and name.
    PendingPod(String, String),
}

impl ObjectId {
    /// The kind of resource this identifies.
    pub fn kind(&self) -> ResourceKind {
        match self {
            ObjectId::Node(_) => ResourceKind::Node,
            ObjectId::Pod(..) => ResourceKind::Pod,
            ObjectId::Deployment(..) => ResourceKind::Deployment,
            ObjectId::Lease(_) => ResourceKind::Lease,
            ObjectId::Flux(k) => ResourceKind::Flux(k.kind),
            ObjectId::Event(..) => ResourceKind::Event,
            ObjectId::PendingPod(..) => ResourceKind::PendingPod,
        }
    }
}

/// One change seen in the cluster, stamped with when shardwatch saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterEvent {
    /// When the event was observed.
    pub at: Time,
    /// What happened.
    pub change: Change,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// An object was created or updated.
    Applied(Object),
    /// An object was deleted.
    Deleted(ObjectId),
    /// A full (re)list of one kind replaces everything held of it.
    Listed(ResourceKind, Vec<Object>),
    /// The visibility of a kind changed.
    Watch(ResourceKind, WatchState),
    /// Cluster identity, once known.
    Cluster(ClusterInfo),
}

/// Where shardwatch is looking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ClusterInfo {
    /// Kube context name.
    pub context: String,
    /// API server URL.
    pub server: String,
    /// Kubernetes version (`v1.34.4`).
    pub kubernetes_version: Option<String>,
    /// Flux version from the controllers' labels, if known.
    pub flux_version: Option<String>,
}
