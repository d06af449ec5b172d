//! Which Flux objects each shard owns, and the orphans nobody reconciles.

use std::sync::Arc;

use serde::Serialize;

use super::assignment_index::AssignmentIndex;
use super::flux_state::StateDetail;
use super::objects::{FluxKey, Text, Time};
use super::store::Model;

/// Why an object is orphaned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Orphan {
    /// No controller of its kind selects it (by its watch label selector).
    NoController,
    /// Its controller has no ready replica: its status may be stale.
    ControllerNotReady,
}

/// One Flux object with its owner and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignedObject {
    /// The object.
    pub key: FluxKey,
    /// The shard whose controller selects it (with no such controller, the shard its label names, `main` when unlabelled).
    pub shard: String,
    /// Its state.
    pub state: StateDetail,
    /// Seconds in this state at the snapshot's time, if known (see [`AssignmentView::stamp`]).
    pub age_secs: Option<i64>,
    /// When it entered this state, if known: ages are computed from it when drawn.
    #[serde(skip)]
    pub since: Option<Time>,
    /// Revision, if any.
    pub revision: Option<Text>,
    /// Set when nothing live reconciles it.
    pub orphan: Option<Orphan>,
    /// Other shards whose controller also selects it: two controllers reconcile it at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflict: Vec<String>,
}

/// The objects of one shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardAssignment {
    /// Shard name.
    pub shard: String,
    /// Whether controllers exist for this shard.
    pub has_controllers: bool,
    /// Its objects, by key: a persistent vector shared with the index, so a changed row
    /// costs a path copy, not a copy of the shard.
    pub objects: imbl::Vector<Arc<AssignedObject>>,
}

/// The assignment panel's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AssignmentView {
    /// Per shard, discovered shards first then label values with no controller.
    pub shards: Vec<ShardAssignment>,
    /// Every orphaned object, by key.
    pub orphans: Arc<Vec<Arc<AssignedObject>>>,
    /// The objects neither Ready nor Suspended, in shard then key order: what verdicts and
    /// explanations read, kept so they never walk every object.
    #[serde(skip)]
    pub unready: Arc<Vec<Arc<AssignedObject>>>,
}

/// Whether an object counts as not ready (neither Ready nor Suspended).
pub fn unready(o: &AssignedObject) -> bool {
    super::graph::blocks(o.state.state)
}

/// Computes the assignment from scratch at time `now`, ages filled in.
pub fn assignment(model: &Model, now: Time) -> AssignmentView {
    let mut view = AssignmentIndex::build(model).view().as_ref().clone();
    view.stamp(now);
    view
}

impl AssignmentView {
    /// A view of these shards (in display order) and orphans.
    pub fn new(shards: Vec<ShardAssignment>, orphans: Vec<Arc<AssignedObject>>) -> AssignmentView {
        let unready = shards.iter().flat_map(|s| s.objects.iter()).filter(|o| unready(o)).cloned().collect();
        AssignmentView { shards, orphans: Arc::new(orphans), unready: Arc::new(unready) }
    }

    /// Fills every object's `age_secs` for time `now` from when it entered its state.
    pub fn stamp(&mut self, now: Time) {
        let rows = self
            .shards
            .iter_mut()
            .flat_map(|s| s.objects.iter_mut())
            .chain(Arc::make_mut(&mut self.orphans).iter_mut())
            .chain(Arc::make_mut(&mut self.unready).iter_mut());
        for o in rows {
            let age = o.since.map(|t| (now - t).num_seconds().max(0));
            if o.age_secs != age {
                Arc::make_mut(o).age_secs = age;
            }
        }
    }
}
