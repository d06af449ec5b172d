//! The overall verdict: healthy, degraded or failing, with the reasons.

use serde::Serialize;

use super::assignment::AssignmentView;
use super::graph::DependencyGraph;
use super::placement::PlacementView;
use super::shards::ShardView;
use super::store::Model;

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// All shards healthy, no violations, every object Ready or Suspended.
    Healthy,
    /// Something needs attention but reconciliation goes on.
    Degraded,
    /// A shard is down, objects failed or are orphaned.
    Failing,
    /// Not enough is visible to tell (nothing listed yet, forbidden, no Flux).
    Unknown,
}

/// The verdict with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overall {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, one line each, worst first.
    pub reasons: Vec<String>,
}

/// Judges the whole from the computed views.
pub fn overall(
    model: &Model,
    shards: &[ShardView],
    placement: &PlacementView,
    graph: &DependencyGraph,
    assignment: &AssignmentView,
) -> Overall {
    let _ = (model, shards, placement, graph, assignment);
    todo!("verdict")
}
