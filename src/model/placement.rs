//! Nodes with the controller pods on them, and what is wrong with where pods run.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::discovery::{controller_ref, shard_order};
use super::objects::{Deployment, Pod};
use super::shards::MAIN_SHARD;
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PlacementView {
    /// Nodes, by name (shared with the previous snapshot when unchanged).
    pub nodes: Vec<Arc<NodeView>>,
    /// Controller pods bound to no node.
    pub unscheduled: Vec<PlacedPod>,
    /// What is wrong.
    pub violations: Vec<Violation>,
}

/// The Deployment and shard a controller pod belongs to, through its `app` label. When the
/// Deployment is not (yet) known the shard is read from the app name alone, so placement
/// still makes sense while Deployments are syncing.
pub fn pod_owner(model: &Model, pod: &Pod) -> (Option<String>, Option<String>) {
    let Some(app) = pod.app.as_deref() else { return (None, None) };
    let key = model.config.shard_label.as_str();
    match model.deployments.get(app) {
        Some(dep) => (Some(dep.name.clone()), Some(controller_ref(dep, key).shard)),
        None => {
            let guess = Deployment { name: app.to_string(), ..Default::default() };
            (None, Some(controller_ref(&guess, key).shard))
        }
    }
}

fn placed(model: &Model, pod: &Pod) -> PlacedPod {
    let (deployment, shard) = pod_owner(model, pod);
    PlacedPod { name: pod.name.clone(), shard, deployment, phase: pod.phase.clone(), ready: pod.ready }
}

/// Whether pods of this Deployment are meant to sit on their shard's nodes: the Deployment
/// asks for it, or nodes are labelled for shards at all. Upstream sharding pins nothing, and
/// flagging every pod of an unpinned stack would be noise.
fn pinned(model: &Model, deployment: Option<&str>, any_node_labelled: bool) -> bool {
    let asks = deployment
        .and_then(|d| model.deployments.get(d))
        .is_some_and(|d| !d.required_node_shards.is_empty() || !d.preferred_node_shards.is_empty());
    asks || any_node_labelled
}

/// Controller pods grouped by the node they are bound to, with what placement makes of them.
pub(super) struct PodGroups<'a> {
    /// Pods by node name (bound pods only), in pod name order.
    pub by_node: BTreeMap<&'a str, Vec<(&'a Pod, PlacedPod)>>,
    /// Pods bound to no node.
    pub unscheduled: Vec<PlacedPod>,
    /// Pods the scheduler cannot place (or has not placed yet).
    pub pending: Vec<Violation>,
}

/// Groups the controller pods by node. Pods are few (the Flux namespace's), so this is
/// cheap next to anything that walks the nodes.
pub(super) fn pod_groups(model: &Model) -> PodGroups<'_> {
    let mut groups = PodGroups { by_node: BTreeMap::new(), unscheduled: Vec::new(), pending: Vec::new() };
    for pod in model.pods.values() {
        let p = placed(model, pod);
        let waiting_for_node = pod.node.is_none() && pod.phase == "Pending";
        if !pod.terminating && (pod.unschedulable_message.is_some() || waiting_for_node) {
            let message =
                pod.unschedulable_message.clone().unwrap_or_else(|| "not yet scheduled".to_string());
            groups.pending.push(Violation::Pending {
                pod: pod.name.clone(),
                shard: p.shard.clone(),
                message,
            });
        }
        match pod.node.as_deref() {
            Some(node) => groups.by_node.entry(node).or_default().push((pod, p)),
            None => groups.unscheduled.push(p),
        }
    }
    groups
}

/// Whether any node carries the shard label (then every shard pod is meant to be pinned).
pub(super) fn any_node_labelled(model: &Model) -> bool {
    let key = model.config.shard_label.as_str();
    model.nodes.values().any(|n| n.labels.contains_key(key))
}

/// One node's row of the panel and the violations found on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NodeRow {
    /// The row.
    pub view: Arc<NodeView>,
    /// The node is NotReady, Unknown or cordoned while it holds or is labelled for a shard.
    pub unhealthy: Vec<Violation>,
    /// Shard pods on it that belong elsewhere.
    pub off_shard: Vec<Violation>,
    /// Pods of several shards share it.
    pub shared: Option<Violation>,
}

impl NodeRow {
    /// Whether the node contributes any violation.
    pub fn flagged(&self) -> bool {
        !self.unhealthy.is_empty() || !self.off_shard.is_empty() || self.shared.is_some()
    }
}

/// Judges one node with the pods bound to it. A node the model does not know (pods bound
/// to a node whose Node is not visible) gets a row but is not judged.
pub(super) fn node_row(
    model: &Model,
    name: &str,
    pods: Vec<(&Pod, PlacedPod)>,
    any_node_labelled: bool,
) -> NodeRow {
    let key = model.config.shard_label.as_str();
    let known = model.nodes.get(name);
    let node_shard = known.and_then(|n| n.labels.get(key)).cloned();
    let (mut unhealthy, mut off_shard, mut shared) = (Vec::new(), Vec::new(), None);
    if let Some(node) = known {
        let mut held: Vec<String> = pods.iter().filter_map(|(_, p)| p.shard.clone()).collect();
        held.extend(node_shard.clone());
        held.sort_by(|a, b| shard_order(a, b));
        held.dedup();
        if !held.is_empty() {
            let mut reasons = Vec::new();
            match node.ready {
                Some(true) => {}
                Some(false) => reasons.push("NotReady"),
                None => reasons.push("Unknown"),
            }
            if node.unschedulable {
                reasons.push("cordoned");
            }
            for reason in reasons {
                unhealthy.push(Violation::UnhealthyNode {
                    node: name.to_string(),
                    shards: held.clone(),
                    reason: reason.to_string(),
                });
            }
        }
        let mut sharded: Vec<String> = Vec::new();
        for (pod, p) in pods.iter().filter(|(pod, _)| !pod.terminating) {
            let Some(shard) = p.shard.as_deref().filter(|s| *s != MAIN_SHARD) else { continue };
            sharded.push(shard.to_string());
            if node_shard.as_deref() != Some(shard)
                && pinned(model, p.deployment.as_deref(), any_node_labelled)
            {
                off_shard.push(Violation::OffShardNode {
                    pod: pod.name.clone(),
                    shard: shard.to_string(),
                    node: name.to_string(),
                    node_shard: node_shard.clone(),
                });
            }
        }
        sharded.sort_by(|a, b| shard_order(a, b));
        sharded.dedup();
        if sharded.len() > 1 {
            shared = Some(Violation::SharedNode { node: name.to_string(), shards: sharded });
        }
    }
    let view = NodeView {
        name: name.to_string(),
        shard: node_shard,
        ready: known.and_then(|n| n.ready),
        cordoned: known.is_some_and(|n| n.unschedulable),
        taints: known.map(|n| n.taints.clone()).unwrap_or_default(),
        pods: pods.into_iter().map(|(_, p)| p).collect(),
    };
    NodeRow { view: Arc::new(view), unhealthy, off_shard, shared }
}

/// The panel from its rows (all nodes, by name), the rows with violations (by name), and
/// the pods not on a node. Violations are grouped worst first: unhealthy nodes, Pending
/// pods, pods off their shard's node, then shared nodes.
pub(super) fn assemble<'a, I>(
    nodes: Vec<Arc<NodeView>>,
    flagged: I,
    unscheduled: Vec<PlacedPod>,
    pending: Vec<Violation>,
) -> PlacementView
where
    I: Iterator<Item = &'a NodeRow> + Clone,
{
    let mut violations: Vec<Violation> = flagged.clone().flat_map(|r| r.unhealthy.iter().cloned()).collect();
    violations.extend(pending);
    violations.extend(flagged.clone().flat_map(|r| r.off_shard.iter().cloned()));
    violations.extend(flagged.filter_map(|r| r.shared.clone()));
    PlacementView { nodes, unscheduled, violations }
}

/// Computes placement and its violations from scratch (the views keep it per node: see
/// [`super::placement_index::PlacementIndex`]).
pub fn placement(model: &Model) -> PlacementView {
    let any = any_node_labelled(model);
    let PodGroups { mut by_node, unscheduled, pending } = pod_groups(model);
    for name in model.nodes.keys() {
        by_node.entry(name.as_str()).or_default();
    }
    let rows: Vec<NodeRow> =
        by_node.into_iter().map(|(name, pods)| node_row(model, name, pods, any)).collect();
    let nodes = rows.iter().map(|r| r.view.clone()).collect();
    assemble(nodes, rows.iter().filter(|r| r.flagged()), unscheduled, pending)
}
