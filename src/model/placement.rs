//! Nodes with the controller pods on them, and what is wrong with where pods run.

use serde::Serialize;

use super::store::Model;

/// A controller pod placed on (or waiting for) a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlacedPod {
    /// Pod name.
    pub name: String,
    /// Shard of its controller (`main` for unsharded).
    pub shard: Option<String>,
    /// Controller Deployment name.
    pub deployment: Option<String>,
    /// Phase.
    pub phase: String,
    /// Ready condition.
    pub ready: bool,
}

/// A node and its controller pods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeView {
    /// Node name.
    pub name: String,
    /// Its shard label value.
    pub shard: Option<String>,
    /// Ready condition (`None`: unknown).
    pub ready: Option<bool>,
    /// Cordoned.
    pub cordoned: bool,
    /// Taints as `key=value:Effect`.
    pub taints: Vec<String>,
    /// Controller pods on it.
    pub pods: Vec<PlacedPod>,
}

/// Something wrong with where shard pods run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// A shard pod on a node labelled for another shard (or none).
    OffShardNode {
        /// Pod.
        pod: String,
        /// The pod's shard.
        shard: String,
        /// The node it runs on.
        node: String,
        /// That node's shard label.
        node_shard: Option<String>,
    },
    /// Pods of two or more shards on one node (main excluded).
    SharedNode {
        /// Node.
        node: String,
        /// Shards found on it.
        shards: Vec<String>,
    },
    /// A pod the scheduler cannot place.
    Pending {
        /// Pod.
        pod: String,
        /// Its shard.
        shard: Option<String>,
        /// The scheduler's message.
        message: String,
    },
    /// A node holding a shard's pods is NotReady or cordoned.
    UnhealthyNode {
        /// Node.
        node: String,
        /// Shards with pods or labels on it.
        shards: Vec<String>,
        /// `NotReady`, `Unknown` or `cordoned`.
        reason: String,
    },
}

/// The placement panel's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlacementView {
    /// Nodes, by name.
    pub nodes: Vec<NodeView>,
    /// Controller pods bound to no node.
    pub unscheduled: Vec<PlacedPod>,
    /// What is wrong.
    pub violations: Vec<Violation>,
}

/// Computes placement and its violations.
pub fn placement(model: &Model) -> PlacementView {
    let _ = model;
    todo!("placement")
}
