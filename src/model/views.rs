//! The snapshot kept up to date incrementally, for the dashboard and `snapshot --follow`.
//!
//! `Model::apply` notes which sections each event touches ([`super::store::Pending`]);
//! [`Views::refresh`] recomputes only those, and within the graph and the assignment
//! only the rows of the objects that changed (and the root causes that hang on them).
//! Sections are shared (`Arc`), so an unchanged one costs a pointer. The clock moves
//! nothing here: rows keep when they entered their state and the UI turns that into an
//! age when it draws a visible row; only the small time-dependent sections (shard
//! leaders, explanations, failover, the verdict's slow objects) follow [`Views::tick`].
//!
//! `Snapshot::of` computes the same from scratch; tests check the two always agree.

use std::collections::HashMap;
use std::sync::Arc;

use super::assignment_index::AssignmentIndex;
use super::explain::explanations;
use super::graph_index::GraphIndex;
use super::objects::Time;
use super::placement_index::PlacementIndex;
use super::shards::shards_on;
use super::snapshot::{Snapshot, cluster_info, events, watches};
use super::store::{Model, Pending, Sections};
use super::verdict::{ObjectReasons, object_reasons, overall_with};

/// The incrementally maintained views and the last snapshot made from them.
#[derive(Debug, Clone, Default)]
pub struct Views {
    graph: GraphIndex,
    assignment: AssignmentIndex,
    placement: PlacementIndex,
    last: Option<Snapshot>,
    /// Sections the clock makes stale (set by `tick`).
    timed: Sections,
    /// Nodes per shard, redone only when Nodes change.
    shard_nodes: HashMap<String, Arc<Vec<String>>>,
    /// The verdict's reasons from the Flux objects, and the shard names they were made with.
    reasons: Option<(Vec<String>, ObjectReasons)>,
}

/// Sections whose content depends on the time, not only on the model.
const TIMED: Sections =
    Sections::SHARDS.union(Sections::EXPLAIN).union(Sections::FAILOVER).union(Sections::OVERALL);

impl Views {
    /// Empty views; the first refresh builds everything.
    pub fn new() -> Views {
        Views::default()
    }

    /// Whether a refresh would recompute anything.
    pub fn stale(&self, model: &Model) -> bool {
        self.last.is_none() || model.pending.sections != Sections::NONE || self.timed != Sections::NONE
    }

    /// The clock moved: the time-dependent sections are recomputed at the next refresh.
    pub fn tick(&mut self) {
        self.timed = TIMED;
    }

    /// Catches up with what the model noted since the last call and returns the snapshot
    /// at `now`. Rows' `age_secs` are left unset (see [`Snapshot::stamp`]).
    pub fn refresh(&mut self, model: &mut Model, now: Time) -> Snapshot {
        let pending = std::mem::take(&mut model.pending);
        let model = &*model;
        let Some(mut snap) = self.last.take() else {
            self.graph = GraphIndex::build(model);
            self.assignment = AssignmentIndex::build(model);
            self.placement = PlacementIndex::build(model);
            self.timed = Sections::NONE;
            self.shard_nodes = self.placement.shard_nodes();
            self.reasons = None;
            let snap = Snapshot::assemble(
                model,
                self.graph.view(),
                self.assignment.view(),
                self.placement.view(),
                now,
            );
            self.last = Some(snap.clone());
            return snap;
        };
        let ticked = self.timed != Sections::NONE;
        let mut dirty = pending.sections | std::mem::take(&mut self.timed);
        self.catch_up_flux(model, &pending);
        if dirty.any(Sections::CLUSTER) {
            snap.cluster = cluster_info(model);
            snap.watches = watches(model);
        }
        if dirty.any(Sections::PLACEMENT) {
            if self.placement.update(model, &pending.placement) {
                self.shard_nodes = self.placement.shard_nodes();
                dirty |= Sections::SHARDS;
            }
            snap.placement = self.placement.view();
        }
        if dirty.any(Sections::SHARDS) {
            snap.shards = shards_on(model, now, &self.shard_nodes);
        }
        if dirty.any(Sections::FLUX) {
            snap.dependencies = self.graph.view();
            snap.assignment = self.assignment.view();
        }
        if dirty.any(Sections::FLUX | Sections::EXPLAIN) {
            snap.explanations = Arc::new(explanations(model, &snap.dependencies, &snap.assignment, now));
        }
        if dirty.any(Sections::EVENTS) {
            snap.events = Arc::new(events(model));
        }
        if dirty.any(Sections::FAILOVER) {
            snap.failover = model.failover.views();
        }
        if dirty != Sections::NONE {
            let names: Vec<String> = snap.shards.iter().map(|s| s.name.clone()).collect();
            let reasons = match self.reasons.take() {
                Some((made_with, r)) if !ticked && !dirty.any(Sections::FLUX) && made_with == names => r,
                _ => object_reasons(&snap.shards, &snap.dependencies, &snap.assignment, now),
            };
            snap.overall = overall_with(model, &snap.shards, &snap.placement, &reasons);
            self.reasons = Some((names, reasons));
        }
        snap.taken_at = now;
        self.last = Some(snap.clone());
        snap
    }

    /// The graph and the assignment: rebuilt when their shape changed, else row by row.
    fn catch_up_flux(&mut self, model: &Model, pending: &Pending) {
        if pending.rebuild {
            self.graph = GraphIndex::build(model);
            self.assignment = AssignmentIndex::build(model);
            return;
        }
        if !pending.flux.is_empty() {
            self.graph.update(model, &pending.flux);
        }
        if !pending.flux.is_empty() || pending.controllers {
            self.assignment.update(model, &pending.flux, pending.controllers);
        }
    }
}
