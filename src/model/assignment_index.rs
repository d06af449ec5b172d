//! Which shard owns each Flux object, kept up to date incrementally: an object's change
//! touches its own row (its owners are evaluated again only when its labels changed); a
//! change of the controllers' readiness re-judges orphans, a change of their selectors
//! assigns everything again.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::assignment::{AssignedObject, AssignmentView, Orphan, ShardAssignment, unready};
use super::discovery::{controller_ref, shard_order, watch_selector};
use super::event::{ResourceKind, WatchState};
use super::flux_state::object_state;
use super::graph::state_since;
use super::objects::{FluxKey, FluxObject, Text};
use super::selector::Selector;
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
    /// Who watches what: per controller, each shard's selector (`None` watches everything),
    /// in Deployment name order.
    /// A selector the controller would refuse watches nothing and is left out.
    watchers: BTreeMap<String, Vec<(String, Option<Selector>)>>,
    /// The shard label key (the one label a Flux object keeps apart).
    label: String,
}

impl Controllers {
    fn of(model: &Model) -> Controllers {
        let key = model.config.shard_label.as_str();
        let judge =
            matches!(model.watch(ResourceKind::Deployment), WatchState::Live | WatchState::Lost { .. });
        let mut ready: HashMap<String, HashMap<String, u32>> = HashMap::new();
        let mut discovered: Vec<String> = Vec::new();
        let mut watchers: BTreeMap<String, Vec<(String, Option<Selector>)>> = BTreeMap::new();
        for dep in model.deployments.values() {
            let r = controller_ref(dep, key);
            discovered.push(r.shard.clone());
            if let Ok(selector) = watch_selector(dep) {
                watchers.entry(r.controller.clone()).or_default().push((r.shard.clone(), selector));
            }
            let slot = ready.entry(r.shard).or_default().entry(r.controller).or_default();
            *slot = slot.saturating_add(dep.ready);
        }
        discovered.sort_by(|a, b| shard_order(a, b));
        discovered.dedup();
        Controllers { judge, ready, discovered, watchers, label: key.to_string() }
    }

    /// The shards whose controller of the object's kind selects it, in shard order.
    fn owners(&self, obj: &FluxObject) -> Vec<String> {
        let Some(watchers) = self.watchers.get(obj.key.kind.controller()) else { return Vec::new() };
        let mut owners: Vec<String> = watchers
            .iter()
            .filter(|(_, sel)| sel.as_ref().is_none_or(|s| s.matches(|k| obj.label(k, &self.label))))
            .map(|(shard, _)| shard.clone())
            .collect();
        owners.sort_by(|a, b| shard_order(a, b));
        owners.dedup();
        owners
    }

    /// Nothing selects it, or nothing that selects it has a ready replica.
    fn orphan(&self, owners: &[String], obj: &FluxKey) -> Option<Orphan> {
        if !self.judge {
            return None;
        }
        if owners.is_empty() {
            return Some(Orphan::NoController);
        }
        let ready: u32 = owners
            .iter()
            .filter_map(|s| self.ready.get(s.as_str()).and_then(|c| c.get(obj.kind.controller())))
            .fold(0u32, |a, r| a.saturating_add(*r));
        (ready == 0).then_some(Orphan::ControllerNotReady)
    }
}

/// What an object's owners were judged from: its labels, kept so a status change (same
/// labels) reuses them instead of evaluating every selector again.
#[derive(Debug, Clone, Default)]
struct Judged {
    shard_label: Option<String>,
    labels: Vec<(Text, Text)>,
    owners: Vec<String>,
}

/// The shard a row is listed under: the one its label names when that shard's controller
/// selects it, else the first that does; with no owner, the label's shard (`main` when unlabelled).
fn primary(obj: &FluxObject, owners: &[String]) -> String {
    let named = obj.shard.as_deref().unwrap_or(MAIN_SHARD);
    if owners.is_empty() || owners.iter().any(|o| o == named) { named.to_string() } else { owners[0].clone() }
}

/// Rows by shard and the orphans, kept between changes.
#[derive(Debug, Clone, Default)]
pub struct AssignmentIndex {
    controllers: Controllers,
    by_shard: HashMap<String, BTreeMap<FluxKey, Arc<AssignedObject>>>,
    shard_of: HashMap<FluxKey, String>,
    judged: HashMap<FluxKey, Judged>,
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
            if now.watchers != self.controllers.watchers || now.label != self.controllers.label {
                // Who selects what changed: every object may move.
                *self = AssignmentIndex::build(model);
                return;
            }
            if now != self.controllers {
                self.controllers = now;
                self.rejudge();
            }
        }
        for key in changed {
            match model.flux.get(key) {
                Some(obj) => {
                    let shard = self.judge_owners(obj);
                    if self.shard_of.get(key).is_some_and(|s| *s == shard) {
                        self.replace(obj, &shard);
                    } else {
                        self.remove(key);
                        self.insert(obj);
                    }
                }
                None => {
                    self.remove(key);
                    self.judged.remove(key);
                }
            }
        }
        self.materialize();
    }

    /// Files the object's owners (evaluating the selectors only when its labels changed)
    /// and returns the shard it is listed under.
    fn judge_owners(&mut self, obj: &FluxObject) -> String {
        let same =
            self.judged.get(&obj.key).is_some_and(|j| j.shard_label == obj.shard && j.labels == obj.labels);
        if !same {
            let owners = self.controllers.owners(obj);
            self.judged.insert(
                obj.key.clone(),
                Judged { shard_label: obj.shard.clone(), labels: obj.labels.clone(), owners },
            );
        }
        primary(obj, self.owners_of(&obj.key))
    }

    fn owners_of(&self, key: &FluxKey) -> &[String] {
        self.judged.get(key).map(|j| j.owners.as_slice()).unwrap_or_default()
    }

    fn row(&self, obj: &FluxObject, shard: &str) -> Arc<AssignedObject> {
        let state = object_state(obj);
        let owners = self.owners_of(&obj.key);
        Arc::new(AssignedObject {
            key: obj.key.clone(),
            shard: shard.to_string(),
            age_secs: None,
            since: state_since(obj, &state),
            state,
            revision: obj.revision.clone(),
            orphan: self.controllers.orphan(owners, &obj.key),
            conflict: owners.iter().filter(|o| *o != shard).cloned().collect(),
        })
    }

    fn insert(&mut self, obj: &FluxObject) {
        let shard = self.judge_owners(obj);
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
        for rows in self.by_shard.values_mut() {
            for row in rows.values_mut() {
                let owners = self.judged.get(&row.key).map(|j| j.owners.as_slice()).unwrap_or_default();
                let orphan = self.controllers.orphan(owners, &row.key);
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
