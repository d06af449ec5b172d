//! Everything the panels and `snapshot -o json` show, computed from the model at once.
//!
//! The UI renders only from a `Snapshot`, never from API types; the headless commands
//! print the same value, so the screen and the JSON cannot disagree.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::assignment::AssignmentView;
use super::assignment_index::AssignmentIndex;
use super::event::{ClusterInfo, WatchState};
use super::explain::{Explanation, explanations};
use super::failover::IncidentView;
use super::graph::DependencyGraph;
use super::graph_index::GraphIndex;
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
    pub placement: Arc<PlacementView>,
    /// Dependency graph with root causes.
    pub dependencies: Arc<DependencyGraph>,
    /// Objects per shard and the orphans.
    pub assignment: Arc<AssignmentView>,
    /// Recent changes, newest first.
    pub events: Arc<Vec<Arc<LogEntry>>>,
    /// Failover incidents per shard, newest first.
    pub failover: Vec<IncidentView>,
    /// Why each Flux object that is neither Ready nor Suspended is so, in key order.
    pub explanations: Arc<Vec<Explanation>>,
}

impl Snapshot {
    /// Computes every view from scratch at time `now`, ages filled in. The dashboard keeps
    /// its snapshot up to date with [`super::views::Views`] instead; this is the reference
    /// it must always equal.
    pub fn of(model: &Model, now: Time) -> Snapshot {
        let dependencies = GraphIndex::build(model).view();
        let assignment = AssignmentIndex::build(model).view();
        let mut snap = Snapshot::assemble(model, dependencies, assignment, Arc::new(placement(model)), now);
        snap.stamp(now);
        snap
    }

    /// Every section computed from the model, with the graph and assignment given.
    pub(super) fn assemble(
        model: &Model,
        dependencies: Arc<DependencyGraph>,
        assignment: Arc<AssignmentView>,
        placement: Arc<PlacementView>,
        now: Time,
    ) -> Snapshot {
        let shards = shards(model, now);
        let overall = overall(model, &shards, &placement, &dependencies, &assignment, now);
        let explanations = explanations(model, &dependencies, &assignment, now);
        Snapshot {
            version: SNAPSHOT_VERSION,
            taken_at: now,
            cluster: cluster_info(model),
            flux_namespace: model.config.flux_namespace.clone(),
            shard_label: model.config.shard_label.clone(),
            watches: watches(model),
            overall,
            shards,
            placement,
            dependencies,
            assignment,
            events: Arc::new(events(model)),
            failover: model.failover.views(),
            explanations: Arc::new(explanations),
        }
    }

    /// Fills the ages of the graph's and the assignment's rows for time `now` (the
    /// dashboard computes them when it draws a row; printed snapshots carry them).
    pub fn stamp(&mut self, now: Time) {
        self.taken_at = now;
        Arc::make_mut(&mut self.dependencies).stamp(now);
        Arc::make_mut(&mut self.assignment).stamp(now);
    }
}

/// Cluster identity; the API does not say which Flux is installed, its Deployments' labels do.
pub(super) fn cluster_info(model: &Model) -> ClusterInfo {
    ClusterInfo {
        flux_version: model
            .cluster
            .flux_version
            .clone()
            .or_else(|| model.deployments.values().find_map(|d| d.flux_version.clone())),
        ..model.cluster.clone()
    }
}

/// Visibility per watched kind, by label.
pub(super) fn watches(model: &Model) -> BTreeMap<String, WatchState> {
    model.watches.iter().map(|(k, v)| (k.label().to_string(), v.clone())).collect()
}

/// The event log, newest first.
pub(super) fn events(model: &Model) -> Vec<Arc<LogEntry>> {
    model.log.iter().rev().cloned().collect()
}
