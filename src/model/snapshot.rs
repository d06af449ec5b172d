//! Everything the panels and `snapshot -o json` show, computed from the model at once.
//!
//! The UI renders only from a `Snapshot`, never from API types; the headless commands
//! print the same value, so the screen and the JSON cannot disagree.

use std::collections::BTreeMap;

use serde::Serialize;

use super::assignment::{AssignmentView, assignment};
use super::event::{ClusterInfo, WatchState};
use super::explain::{Explanation, explanations};
use super::failover::IncidentView;
use super::graph::{DependencyGraph, dependency_graph};
use super::objects::Time;
use super::placement::{PlacementView, placement};
use super::shards::{ShardView, shards};
use super::store::Model;
use super::timeline::LogEntry;
use super::verdict::{Overall, overall};

/// Format version of the JSON; bumped on any incompatible change.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The whole dashboard's content at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// JSON format version.
    pub version: u32,
    /// When it was taken.
    pub taken_at: Time,
    /// Cluster identity.
    pub cluster: ClusterInfo,
    /// Flux namespace watched.
    pub flux_namespace: String,
    /// Shard label key.
    pub shard_label: String,
    /// Visibility per watched kind (`nodes`, `kustomizations`, ...).
    pub watches: BTreeMap<String, WatchState>,
    /// Overall verdict.
    pub overall: Overall,
    /// Shards with their controllers.
    pub shards: Vec<ShardView>,
    /// Nodes, pods and violations.
    pub placement: PlacementView,
    /// Dependency graph with root causes.
    pub dependencies: DependencyGraph,
    /// Objects per shard and the orphans.
    pub assignment: AssignmentView,
    /// Recent changes, newest first.
    pub events: Vec<LogEntry>,
    /// Failover incidents per shard, newest first.
    pub failover: Vec<IncidentView>,
    /// Why each Flux object that is neither Ready nor Suspended is so, in key order.
    pub explanations: Vec<Explanation>,
}

impl Snapshot {
    /// Computes every view from the model at time `now`.
    pub fn of(model: &Model, now: Time) -> Snapshot {
        let shards = shards(model, now);
        let placement = placement(model);
        let dependencies = dependency_graph(model, now);
        let assignment = assignment(model, now);
        let overall = overall(model, &shards, &placement, &dependencies, &assignment);
        let explanations = explanations(model, &dependencies, now);
        Snapshot {
            version: SNAPSHOT_VERSION,
            taken_at: now,
            cluster: ClusterInfo {
                // The API does not say which Flux is installed; its Deployments' labels do.
                flux_version: model
                    .cluster
                    .flux_version
                    .clone()
                    .or_else(|| model.deployments.values().find_map(|d| d.flux_version.clone())),
                ..model.cluster.clone()
            },
            flux_namespace: model.config.flux_namespace.clone(),
            shard_label: model.config.shard_label.clone(),
            watches: model.watches.iter().map(|(k, v)| (k.label().to_string(), v.clone())).collect(),
            overall,
            shards,
            placement,
            dependencies,
            assignment,
            events: model.log.iter().rev().cloned().collect(),
            failover: model.failover.views(),
            explanations,
        }
    }
}
