//! Which shard owns each Flux object, kept up to date incrementally: an object's change
//! touches its own row; a change of the controllers (Deployments) re-judges orphans.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::assignment::{AssignedObject, AssignmentView, Orphan, ShardAssignment, unready};
use super::discovery::{controller_ref, shard_order};
use super::event::{ResourceKind, WatchState};
use super::flux_state::object_state;
use super::graph::state_since;
use super::objects::{FluxKey, FluxObject};
use super::shards::MAIN_SHARD;
use super::store::Model;

/// What the controllers say about ownership: ready replicas per (shard, controller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Controllers {
    /// Orphans are only judged once Deployments have been listed (Live, or Lost with data
    /// as of then): before that every object would look orphaned.
    judge: bool,
    /// Ready replicas by shard, then controller (looked up by `&str`: no allocation per row).
    ready: HashMap<String, HashMap<String, u32>>,
    /// Shards with Deployments, in display order.
    discovered: Vec<String>,
}

impl Controllers {
    fn of(model: &Model) -> Controllers {
        let key = model.config.shard_label.as_str();
        let judge =
            matches!(model.watch(ResourceKind::Deployment), WatchState::Live | WatchState::Lost { .. });
        let mut ready: HashMap<String, HashMap<String, u32>> = HashMap::new();
        let mut discovered: Vec<String> = Vec::new();
        for dep in model.deployments.values() {
            let r = controller_ref(dep, key);
            discovered.push(r.shard.clone());
            let slot = ready.entry(r.shard).or_default().entry(r.controller).or_default();
            *slot = slot.saturating_add(dep.ready);
        }
        discovered.sort_by(|a, b| shard_order(a, b));
        discovered.dedup();
        Controllers { judge, ready, discovered }
    }

    fn orphan(&self, shard: &str, obj: &FluxKey) -> Option<Orphan> {
        if !self.judge {
            return None;
        }
        match self.ready.get(shard).and_then(|c| c.get(obj.kind.controller())) {
            None => Some(Orphan::NoController),
            Some(0) => Some(Orphan::ControllerNotReady),
            Some(_) => None,
        }
    }
}

/// Rows by shard and the orphans, kept between changes.
#[derive(Debug, Clone, Default)]
pub struct AssignmentIndex {
    controllers: Controllers,
    by_shard: HashMap<String, BTreeMap<FluxKey, Arc<AssignedObject>>>,
    shard_of: HashMap<FluxKey, String>,
    orphans: BTreeMap<FluxKey, Arc<AssignedObject>>,
    /// The orphans as last collected (a big cluster can have thousands), or None when
    /// they changed since.
    orphans_collected: Option<Arc<Vec<Arc<AssignedObject>>>>,
    unready: BTreeMap<FluxKey, Arc<AssignedObject>>,
    /// Each shard's rows as last collected; a shard is collected again only when touched.
    collected: HashMap<String, imbl::Vector<Arc<AssignedObject>>>,
    view: Arc<AssignmentView>,
}

impl AssignmentIndex {
    /// Builds every row from the model.
    pub fn build(model: &Model) -> AssignmentIndex {
        let mut index = AssignmentIndex { controllers: Controllers::of(model), ..Default::default() };
        for obj in model.flux.values() {
            index.insert(obj);
        }
        index.materialize();
        index
    }

    /// The assignment as of the last build or update; cheap to clone.
    pub fn view(&self) -> Arc<AssignmentView> {
        self.view.clone()
    }

    /// Applies changes: `changed` Flux objects (added, updated or deleted) get their rows
    /// redone; when `controllers_changed`, every row's orphan verdict is checked again.
    pub fn update(&mut self, model: &Model, changed: &BTreeSet<FluxKey>, controllers_changed: bool) {
        if controllers_changed {
            let now = Controllers::of(model);
            if now != self.controllers {
                self.controllers = now;
                self.rejudge();
            }
        }
        for key in changed {
            match model.flux.get(key) {
                Some(obj) if self.shard_of.get(key).is_some_and(|s| *s == shard_of(obj)) => {
                    let shard = shard_of(obj);
                    self.replace(obj, &shard);
                }
                Some(obj) => {
                    self.remove(key);
                    self.insert(obj);
                }
                None => self.remove(key),
            }
        }
        self.materialize();
    }

    fn row(&self, obj: &FluxObject, shard: &str) -> Arc<AssignedObject> {
        let state = object_state(obj);
        Arc::new(AssignedObject {
            key: obj.key.clone(),
            shard: shard.to_string(),
            age_secs: None,
            since: state_since(obj, &state),
            state,
            revision: obj.revision.clone(),
            orphan: self.controllers.orphan(shard, &obj.key),
        })
    }

    fn insert(&mut self, obj: &FluxObject) {
        let shard = shard_of(obj);
        let row = self.row(obj, &shard);
        self.judge(&row);
        self.collected.remove(&shard);
        self.shard_of.insert(obj.key.clone(), shard.clone());
        self.by_shard.entry(shard).or_default().insert(obj.key.clone(), row);
    }

    /// A new version of a row that stays in its shard: the shard's collected rows are a
    /// persistent vector, so the row is swapped in place (a path copy), not re-collected.
    fn replace(&mut self, obj: &FluxObject, shard: &str) {
        let row = self.row(obj, shard);
        if self.orphans.remove(&obj.key).is_some() {
            self.orphans_collected = None;
        }
        self.unready.remove(&obj.key);
        self.judge(&row);
        if let Some(rows) = self.collected.get_mut(shard) {
            match rows.binary_search_by(|r| r.key.cmp(&obj.key)) {
                Ok(i) => {
                    rows.set(i, row.clone());
                }
                Err(_) => {
                    self.collected.remove(shard);
                }
            }
        }
        self.by_shard.entry(shard.to_string()).or_default().insert(obj.key.clone(), row);
    }

    /// Files the row among the orphans and the not-ready rows, as it deserves.
    fn judge(&mut self, row: &Arc<AssignedObject>) {
        if row.orphan.is_some() {
            self.orphans.insert(row.key.clone(), row.clone());
            self.orphans_collected = None;
        }
        if unready(row) {
            self.unready.insert(row.key.clone(), row.clone());
        }
    }

    fn remove(&mut self, key: &FluxKey) {
        if self.orphans.remove(key).is_some() {
            self.orphans_collected = None;
        }
        self.unready.remove(key);
        let Some(shard) = self.shard_of.remove(key) else { return };
        self.collected.remove(&shard);
        if let Some(rows) = self.by_shard.get_mut(&shard) {
            rows.remove(key);
            if rows.is_empty() {
                self.by_shard.remove(&shard);
            }
        }
    }

    /// Orphan verdicts after the controllers changed; a row is copied only when its verdict moved.
    fn rejudge(&mut self) {
        self.orphans.clear();
        self.orphans_collected = None;
        self.collected.clear();
        for (shard, rows) in &mut self.by_shard {
            for row in rows.values_mut() {
                let orphan = self.controllers.orphan(shard, &row.key);
                if row.orphan != orphan {
                    Arc::make_mut(row).orphan = orphan;
                }
                if orphan.is_some() {
                    self.orphans.insert(row.key.clone(), row.clone());
                }
                if unready(row) {
                    self.unready.insert(row.key.clone(), row.clone());
                }
            }
        }
    }

    /// The view: discovered shards first, then label values with no controller, each with
    /// its rows in key order. Only shards touched since the last view are collected again;
    /// the not-ready rows are few and listed anew, the orphans when they changed.
    fn materialize(&mut self) {
        let discovered = &self.controllers.discovered;
        let mut labelled_only: Vec<&String> =
            self.by_shard.keys().filter(|s| !discovered.contains(s)).collect();
        labelled_only.sort_by(|a, b| shard_order(a, b));
        let order: Vec<(String, bool)> = discovered
            .iter()
            .map(|s| (s.clone(), true))
            .chain(labelled_only.into_iter().map(|s| (s.clone(), false)))
            .collect();
        let mut shards = Vec::with_capacity(order.len());
        for (s, has_controllers) in &order {
            let objects = match self.collected.get(s) {
                Some(rows) => rows.clone(),
                None => {
                    let rows: imbl::Vector<_> =
                        self.by_shard.get(s).map(|r| r.values().cloned().collect()).unwrap_or_default();
                    self.collected.insert(s.clone(), rows.clone());
                    rows
                }
            };
            shards.push(ShardAssignment { shard: s.clone(), has_controllers: *has_controllers, objects });
        }
        let rank: HashMap<&str, usize> =
            order.iter().enumerate().map(|(i, (s, _))| (s.as_str(), i)).collect();
        let mut unready: Vec<Arc<AssignedObject>> = self.unready.values().cloned().collect();
        unready.sort_by_key(|o| rank.get(o.shard.as_str()).copied().unwrap_or(usize::MAX));
        let orphans = self
            .orphans_collected
            .get_or_insert_with(|| Arc::new(self.orphans.values().cloned().collect()))
            .clone();
        self.view = Arc::new(AssignmentView { shards, orphans, unready: Arc::new(unready) });
    }
}

/// The shard an object's label names (`main` when unlabelled).
fn shard_of(obj: &FluxObject) -> String {
    obj.shard.clone().unwrap_or_else(|| MAIN_SHARD.to_string())
}
