//! Which Flux objects each shard owns, and the orphans nobody reconciles.

use std::collections::HashMap;

use serde::Serialize;

use super::discovery::{controller_ref, shard_order};
use super::event::{ResourceKind, WatchState};
use super::flux_state::{StateDetail, object_state, state_age_secs};
use super::objects::{FluxKey, Time};
use super::shards::MAIN_SHARD;
use super::store::Model;

/// Why an object is orphaned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Orphan {
    /// Labelled for a shard that has no controller for its kind.
    NoController,
    /// Its controller has no ready replica: its status may be stale.
    ControllerNotReady,
}

/// One Flux object with its owner and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignedObject {
    /// The object.
    pub key: FluxKey,
    /// Its shard (`main` when unlabelled).
    pub shard: String,
    /// Its state.
    pub state: StateDetail,
    /// Seconds in this state at the snapshot's time, if known.
    pub age_secs: Option<i64>,
    /// Revision, if any.
    pub revision: Option<String>,
    /// Set when nothing live reconciles it.
    pub orphan: Option<Orphan>,
}

/// The objects of one shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardAssignment {
    /// Shard name.
    pub shard: String,
    /// Whether controllers exist for this shard.
    pub has_controllers: bool,
    /// Its objects, by key.
    pub objects: Vec<AssignedObject>,
}

/// The assignment panel's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentView {
    /// Per shard, discovered shards first then label values with no controller.
    pub shards: Vec<ShardAssignment>,
    /// Every orphaned object, by key.
    pub orphans: Vec<AssignedObject>,
}

/// Computes the assignment at time `now`. Orphans are only judged once Deployments have been
/// listed (Live, or Lost with data as of then): before that every object would look orphaned.
pub fn assignment(model: &Model, now: Time) -> AssignmentView {
    let key = model.config.shard_label.as_str();
    let judge = matches!(model.watch(ResourceKind::Deployment), WatchState::Live | WatchState::Lost { .. });
    let mut ready: HashMap<(String, String), u32> = HashMap::new();
    let mut discovered: Vec<String> = Vec::new();
    for dep in model.deployments.values() {
        let r = controller_ref(dep, key);
        discovered.push(r.shard.clone());
        let slot = ready.entry((r.shard, r.controller)).or_default();
        *slot = slot.saturating_add(dep.ready);
    }
    discovered.sort_by(|a, b| shard_order(a, b));
    discovered.dedup();

    let mut by_shard: HashMap<String, Vec<AssignedObject>> = HashMap::new();
    let mut orphans = Vec::new();
    for obj in model.flux.values() {
        let shard = obj.shard.clone().unwrap_or_else(|| MAIN_SHARD.to_string());
        let state = object_state(obj);
        let orphan = if judge {
            match ready.get(&(shard.clone(), obj.key.kind.controller().to_string())) {
                None => Some(Orphan::NoController),
                Some(0) => Some(Orphan::ControllerNotReady),
                Some(_) => None,
            }
        } else {
            None
        };
        let assigned = AssignedObject {
            key: obj.key.clone(),
            shard: shard.clone(),
            age_secs: state_age_secs(obj, &state, now),
            state,
            revision: obj.revision.clone(),
            orphan,
        };
        if orphan.is_some() {
            orphans.push(assigned.clone());
        }
        by_shard.entry(shard).or_default().push(assigned);
    }
    let mut labelled_only: Vec<String> =
        by_shard.keys().filter(|s| !discovered.contains(s)).cloned().collect();
    labelled_only.sort_by(|a, b| shard_order(a, b));
    let shards = discovered
        .iter()
        .map(|s| (s, true))
        .chain(labelled_only.iter().map(|s| (s, false)))
        .map(|(s, has_controllers)| ShardAssignment {
            shard: s.clone(),
            has_controllers,
            objects: by_shard.remove(s).unwrap_or_default(),
        })
        .collect();
    AssignmentView { shards, orphans }
}
