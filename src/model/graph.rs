//! The `dependsOn` graph of Kustomizations and HelmReleases, and the root cause at
//! the bottom of every blocked chain.

use serde::Serialize;

use super::flux_state::{ObjectState, StateDetail};
use super::objects::{DependencyRef, FluxKey, Time};
use super::store::Model;

/// What blocks a chain, found at its bottom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootCause {
    /// The first not-ready object that is not itself waiting (None: a missing dependency).
    pub key: Option<FluxKey>,
    /// Set when the bottom of the chain is a dependency that does not exist.
    pub missing: Option<DependencyRef>,
    /// Its state (Unknown for a missing one).
    pub state: ObjectState,
    /// Its reason.
    pub reason: String,
    /// Its message.
    pub message: String,
}

/// One object in the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphNode {
    /// The object.
    pub key: FluxKey,
    /// Its state.
    pub state: StateDetail,
    /// Seconds in this state at the snapshot's time, if known.
    pub age_secs: Option<i64>,
    /// Revision, if any.
    pub revision: Option<String>,
    /// Dependencies that exist.
    pub depends_on: Vec<FluxKey>,
    /// Dependencies that do not exist.
    pub missing: Vec<DependencyRef>,
    /// Longest path to a node with no dependencies (0 for roots); cycles count as 0.
    pub depth: usize,
    /// For a blocked object (not Ready): what is at the bottom.
    pub root_cause: Option<RootCause>,
}

/// The dependency graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependencyGraph {
    /// Nodes ordered by depth, then key: dependencies before dependents.
    pub nodes: Vec<GraphNode>,
    /// Each cycle once, as the keys along it.
    pub cycles: Vec<Vec<FluxKey>>,
}

/// Builds the graph at time `now`.
pub fn dependency_graph(model: &Model, now: Time) -> DependencyGraph {
    let _ = (model, now);
    todo!("graph")
}
