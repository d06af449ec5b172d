//! The model's store: trimmed objects by key, updated incrementally per event.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::{BitOr, BitOrAssign};
use std::sync::Arc;

use serde::Serialize;

use super::event::{Change, ClusterEvent, ClusterInfo, Object, ObjectId, ResourceKind, WatchState};
use super::failover::FailoverTracker;
use super::graph_index::in_graph;
use super::objects::{
    Deployment, FluxKey, FluxKind, FluxObject, KubeEvent, Lease, Node, PendingPod, Pod, Time,
};
use super::timeline::{self, LogEntry};

/// Events kept per regarding object: the newest are what explain it, and a crash-looping
/// object must not fill memory with its history.
pub const EVENTS_PER_OBJECT: usize = 10;

/// How the model interprets what it sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelConfig {
    /// Namespace of the Flux controllers.
    pub flux_namespace: String,
    /// Label key that assigns objects and nodes to shards.
    pub shard_label: String,
    /// How many entries the event log keeps.
    pub log_capacity: usize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            flux_namespace: "flux-system".into(),
            shard_label: "sharding.fluxcd.io/key".into(),
            log_capacity: 500,
        }
    }
}

/// Everything shardwatch knows about the cluster. Pure: no I/O, no clock of its own.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Interpretation settings.
    pub config: ModelConfig,
    /// Cluster identity.
    pub cluster: ClusterInfo,
    /// Nodes by name.
    pub nodes: BTreeMap<String, Node>,
    /// Controller pods by name (Flux namespace only).
    pub pods: BTreeMap<String, Pod>,
    /// Controller Deployments by name (Flux namespace only).
    pub deployments: BTreeMap<String, Deployment>,
    /// Leases by name (Flux namespace only).
    pub leases: BTreeMap<String, Lease>,
    /// Flux objects by key.
    pub flux: BTreeMap<FluxKey, FluxObject>,
    /// Kubernetes Events by namespace/name, for cross-linking.
    pub kube_events: BTreeMap<(String, String), KubeEvent>,
    /// Event keys per `regarding` object (`Kind/namespace/name`), at most `EVENTS_PER_OBJECT` each.
    pub events_by_regarding: BTreeMap<String, BTreeSet<(String, String)>>,
    /// Pending pods in every namespace by namespace/name.
    pub pending_pods: BTreeMap<(String, String), PendingPod>,
    /// Visibility per watched kind.
    pub watches: BTreeMap<ResourceKind, WatchState>,
    /// What changed, newest last, bounded by `config.log_capacity`.
    pub log: VecDeque<Arc<LogEntry>>,
    /// Time of the newest event applied: the model's notion of "now" for ages.
    pub last_seen: Option<Time>,
    /// Bumped on every applied change, so views can cache by it.
    pub revision: u64,
    /// Failover incidents per shard, kept incrementally.
    pub failover: FailoverTracker,
    /// What changed since the views last caught up ([`super::views::Views`]).
    pub pending: Pending,
}

impl Model {
    /// An empty model with these settings.
    pub fn new(config: ModelConfig) -> Self {
        Model { config, ..Default::default() }
    }

    /// Applies one event. Work is proportional to the change, not to the cluster
    /// (a `Listed` costs the size of that list).
    pub fn apply(&mut self, event: ClusterEvent) {
        let at = event.at;
        // The kube watcher resumes a broken watch from where it was, without a relist: the
        // first change it delivers proves the kind is seen again.
        if let Some(kind) = delivered(&event.change) {
            if matches!(self.watches.get(&kind), Some(WatchState::Lost { .. })) {
                self.apply(ClusterEvent { at, change: Change::Watch(kind, WatchState::Live) });
            }
        }
        self.last_seen = Some(self.last_seen.map_or(at, |t| t.max(at)));
        self.revision += 1;
        let mut failover = std::mem::take(&mut self.failover);
        let touched = failover.before(self, &event.change, at);
        self.note(&event.change);
        match event.change {
            Change::Applied(obj) => self.upsert(obj, at),
            Change::Deleted(id) => self.delete(id, at),
            Change::Listed(kind, objs) => {
                if let Some(entry) =
                    timeline::watch_changed(self.watches.get(&kind), kind, &WatchState::Live, at)
                {
                    self.push_log(entry);
                }
                if kind == ResourceKind::Event {
                    for entry in timeline::listed_events(self, &objs, at) {
                        self.push_log(entry);
                    }
                }
                self.clear_kind(kind);
                for obj in objs {
                    self.insert_quiet(obj);
                }
                self.watches.insert(kind, WatchState::Live);
            }
            Change::Watch(kind, state) => {
                let state = outage_kept(self.watches.get(&kind), state);
                // A CRD removed takes its objects with it: nothing of the kind is left.
                if state == WatchState::NotInstalled {
                    self.clear_kind(kind);
                }
                if let Some(entry) = timeline::watch_changed(self.watches.get(&kind), kind, &state, at) {
                    self.push_log(entry);
                }
                self.watches.insert(kind, state);
            }
            Change::Cluster(info) => self.cluster = info,
        }
        failover.after(self, touched, at);
        self.failover = failover;
    }

    /// The visibility of a kind (Syncing when never reported).
    pub fn watch(&self, kind: ResourceKind) -> WatchState {
        self.watches.get(&kind).cloned().unwrap_or_default()
    }

    /// How many of the reported kinds are being listed (initially or again), of how many.
    pub fn list_progress(&self) -> ListProgress {
        let listing = self.watches.values().filter(|s| **s == WatchState::Syncing).count();
        ListProgress { listed: self.watches.len() - listing, of: self.watches.len() }
    }

    fn upsert(&mut self, obj: Object, at: Time) {
        let entries = timeline::diff(self, &obj, at);
        for e in entries {
            self.push_log(e);
        }
        self.insert_quiet(obj);
    }

    fn insert_quiet(&mut self, obj: Object) {
        match obj {
            Object::Node(n) => {
                self.nodes.insert(n.name.clone(), n);
            }
            Object::Pod(p) => {
                self.pods.insert(p.name.clone(), p);
            }
            Object::Deployment(d) => {
                self.deployments.insert(d.name.clone(), d);
            }
            Object::Lease(l) => {
                self.leases.insert(l.name.clone(), l);
            }
            Object::Flux(f) => {
                self.flux.insert(f.key.clone(), f);
            }
            Object::Event(e) => self.insert_event(e),
            Object::PendingPod(p) => {
                self.pending_pods.insert((p.namespace.clone(), p.name.clone()), p);
            }
        }
    }

    /// Keeps the event and its index entry, then drops the oldest events of the same
    /// object beyond `EVENTS_PER_OBJECT`.
    fn insert_event(&mut self, e: KubeEvent) {
        let id = (e.namespace.clone(), e.name.clone());
        let regarding = e.regarding.clone();
        self.remove_event(&id);
        self.events_by_regarding.entry(regarding.clone()).or_default().insert(id.clone());
        self.kube_events.insert(id, e);
        let Some(ids) = self.events_by_regarding.get(&regarding) else { return };
        if ids.len() <= EVENTS_PER_OBJECT {
            return;
        }
        let oldest = ids.iter().min_by_key(|id| self.kube_events.get(*id).and_then(|e| e.time)).cloned();
        if let Some(oldest) = oldest {
            self.remove_event(&oldest);
        }
    }

    fn remove_event(&mut self, id: &(String, String)) {
        if let Some(old) = self.kube_events.remove(id) {
            if let Some(ids) = self.events_by_regarding.get_mut(&old.regarding) {
                ids.remove(id);
                if ids.is_empty() {
                    self.events_by_regarding.remove(&old.regarding);
                }
            }
        }
    }

    fn delete(&mut self, id: ObjectId, at: Time) {
        if let Some(entry) = timeline::deleted(self, &id, at) {
            self.push_log(entry);
        }
        match id {
            ObjectId::Node(n) => {
                self.nodes.remove(&n);
            }
            ObjectId::Pod(_, n) => {
                self.pods.remove(&n);
            }
            ObjectId::Deployment(_, n) => {
                self.deployments.remove(&n);
            }
            ObjectId::Lease(n) => {
                self.leases.remove(&n);
            }
            ObjectId::Flux(k) => {
                self.flux.remove(&k);
            }
            ObjectId::Event(ns, n) => self.remove_event(&(ns, n)),
            ObjectId::PendingPod(ns, n) => {
                self.pending_pods.remove(&(ns, n));
            }
        }
    }

    fn clear_kind(&mut self, kind: ResourceKind) {
        match kind {
            ResourceKind::Node => self.nodes.clear(),
            ResourceKind::Pod => self.pods.clear(),
            ResourceKind::Deployment => self.deployments.clear(),
            ResourceKind::Lease => self.leases.clear(),
            ResourceKind::Event => {
                self.kube_events.clear();
                self.events_by_regarding.clear();
            }
            ResourceKind::PendingPod => self.pending_pods.clear(),
            ResourceKind::Flux(k) => self.flux.retain(|key, _| key.kind != k),
        }
    }

    /// Records which views `change` touches, before it is applied (an update's old
    /// `dependsOn` is still in the store, so a change of the graph's shape is seen).
    fn note(&mut self, change: &Change) {
        let p = &mut self.pending;
        p.sections |= Sections::FAILOVER | Sections::OVERALL;
        let kind = match change {
            Change::Applied(obj) => obj.kind(),
            Change::Deleted(id) => id.kind(),
            Change::Listed(kind, _) => {
                // A list makes its kind Live: the watch states are said again.
                p.sections |= Sections::CLUSTER;
                *kind
            }
            Change::Watch(kind, state) => {
                // What a panel may say about its data changed: every section says it again.
                // Orphans are judged only once Deployments are listed.
                p.sections = Sections::ALL;
                p.controllers |= *kind == ResourceKind::Deployment;
                p.rebuild |= matches!((kind, state), (ResourceKind::Flux(_), WatchState::NotInstalled));
                // NotInstalled empties the kind (`clear_kind`), whatever it is: the views
                // that read it start again (found by the fuzz property, for Pods).
                if *state == WatchState::NotInstalled {
                    p.controllers |= *kind == ResourceKind::Deployment;
                    p.placement.pods |= matches!(kind, ResourceKind::Pod | ResourceKind::Deployment);
                    p.placement.rebuild |= *kind == ResourceKind::Node;
                }
                return;
            }
            Change::Cluster(_) => {
                p.sections |= Sections::CLUSTER;
                return;
            }
        };
        p.sections |= match kind {
            // Shards read nodes only through their labels: the views redo them when those change.
            ResourceKind::Node => Sections::PLACEMENT,
            ResourceKind::Pod => Sections::SHARDS | Sections::PLACEMENT,
            ResourceKind::Deployment => {
                p.controllers = true;
                Sections::SHARDS | Sections::PLACEMENT | Sections::CLUSTER | Sections::FLUX
            }
            ResourceKind::Lease => Sections::SHARDS,
            ResourceKind::Event | ResourceKind::PendingPod => Sections::EXPLAIN,
            ResourceKind::Flux(_) => Sections::FLUX,
        };
        // A Kustomization or HelmRelease added, removed or re-pointed changes the graph's
        // shape (rebuilt); any other Flux change redoes that object's rows only.
        match change {
            Change::Applied(Object::Flux(f)) => {
                // A source that reads a source (a HelmChart) links readers to it: same rule.
                let shape = (in_graph(f.key.kind) || f.key.kind == FluxKind::HelmChart)
                    && self
                        .flux
                        .get(&f.key)
                        .is_none_or(|old| old.depends_on != f.depends_on || old.source_ref != f.source_ref);
                self.pending.rebuild |= shape;
                self.pending.touch(&f.key, self.flux.len());
            }
            Change::Deleted(ObjectId::Flux(k)) => {
                self.pending.rebuild |=
                    (in_graph(k.kind) || k.kind == FluxKind::HelmChart) && self.flux.contains_key(k);
                self.pending.touch(k, self.flux.len());
            }
            Change::Listed(ResourceKind::Flux(_), _) => self.pending.rebuild = true,
            Change::Applied(Object::Node(n)) => self.pending.placement.touch(&n.name, self.nodes.len()),
            Change::Deleted(ObjectId::Node(n)) => self.pending.placement.touch(n, self.nodes.len()),
            Change::Listed(ResourceKind::Node, _) => self.pending.placement.rebuild = true,
            _ if matches!(kind, ResourceKind::Pod | ResourceKind::Deployment) => {
                self.pending.placement.pods = true
            }
            _ => {}
        }
    }

    fn push_log(&mut self, entry: LogEntry) {
        self.pending.sections |= Sections::EVENTS;
        self.log.push_back(Arc::new(entry));
        while self.log.len() > self.config.log_capacity {
            self.log.pop_front();
        }
    }
}

/// The kind a change of objects was delivered by, if it is one.
fn delivered(change: &Change) -> Option<ResourceKind> {
    match change {
        Change::Applied(obj) => Some(obj.kind()),
        Change::Deleted(id) => Some(id.kind()),
        _ => None,
    }
}

/// A retry that fails again does not move the start of the outage: the earlier `since` stays.
fn outage_kept(old: Option<&WatchState>, new: WatchState) -> WatchState {
    match (old, new) {
        (Some(WatchState::Lost { since: first, .. }), WatchState::Lost { since, error }) => {
            WatchState::Lost { since: since.min(*first), error }
        }
        (_, new) => new,
    }
}

/// Progress of the lists: while any kind is listed (at start or after a relist), what the
/// model holds is partial and no verdict is drawn from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ListProgress {
    /// Kinds whose list has arrived, or whose list the API refused (forbidden, not installed).
    pub listed: usize,
    /// Kinds reported by the watchers.
    pub of: usize,
}

impl ListProgress {
    /// Whether some kind is still being listed.
    pub fn busy(self) -> bool {
        self.listed < self.of
    }
}

/// Sections of the snapshot, as bits: which ones a change makes stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sections(u16);

impl Sections {
    /// Nothing.
    pub const NONE: Sections = Sections(0);
    /// Shards and their controllers.
    pub const SHARDS: Sections = Sections(1);
    /// Nodes, pods and violations.
    pub const PLACEMENT: Sections = Sections(1 << 1);
    /// Flux objects: the graph and the assignment.
    pub const FLUX: Sections = Sections(1 << 2);
    /// Explanations of blocked objects.
    pub const EXPLAIN: Sections = Sections(1 << 3);
    /// The event log.
    pub const EVENTS: Sections = Sections(1 << 4);
    /// Failover incidents.
    pub const FAILOVER: Sections = Sections(1 << 5);
    /// The verdict.
    pub const OVERALL: Sections = Sections(1 << 6);
    /// Cluster identity and watch states.
    pub const CLUSTER: Sections = Sections(1 << 7);
    /// Everything.
    pub const ALL: Sections = Sections(u16::MAX);

    /// Both sets of bits.
    pub const fn union(self, other: Sections) -> Sections {
        Sections(self.0 | other.0)
    }

    /// Whether any of `other`'s bits are set.
    pub fn any(self, other: Sections) -> bool {
        self.0 & other.0 != 0
    }
}

impl BitOr for Sections {
    type Output = Sections;
    fn bitor(self, rhs: Sections) -> Sections {
        self.union(rhs)
    }
}

impl BitOrAssign for Sections {
    fn bitor_assign(&mut self, rhs: Sections) {
        *self = self.union(rhs);
    }
}

/// What changed for placement since the last update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlacementChanges {
    /// Nodes added, updated or deleted.
    pub nodes: BTreeSet<String>,
    /// Controller pods or Deployments changed: rows holding pods are judged again.
    pub pods: bool,
    /// Nodes were relisted, or too many changed to be worth doing one by one.
    pub rebuild: bool,
}

impl PlacementChanges {
    /// Notes one node; past a quarter of the store, one rebuild beats many row updates.
    pub fn touch(&mut self, name: &str, store: usize) {
        note_bounded(&mut self.nodes, &mut self.rebuild, || name.to_string(), store);
    }
}

/// What changed since the views last caught up: stale sections and the Flux objects to redo.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    /// Sections to recompute.
    pub sections: Sections,
    /// Flux objects added, updated or deleted (their rows only).
    pub flux: BTreeSet<FluxKey>,
    /// The graph's shape changed, or so much changed that rebuilding is cheaper.
    pub rebuild: bool,
    /// The controller Deployments changed: orphans are judged again.
    pub controllers: bool,
    /// Nodes and controller pods changed: their placement rows are judged again.
    pub placement: PlacementChanges,
}

impl Pending {
    /// Notes one Flux object; past a quarter of the store, one rebuild beats many updates
    /// (and the set stays bounded when nobody reads it).
    fn touch(&mut self, key: &FluxKey, store: usize) {
        note_bounded(&mut self.flux, &mut self.rebuild, || key.clone(), store);
    }
}

/// Adds a changed key to `set`, unless a rebuild is due anyway; past a quarter of the
/// store (`store` items), one rebuild beats many row updates, and the set stays bounded
/// when nobody reads it.
fn note_bounded<K: Ord>(set: &mut BTreeSet<K>, rebuild: &mut bool, key: impl FnOnce() -> K, store: usize) {
    if *rebuild {
        return;
    }
    if set.len() > store / 4 + 64 {
        set.clear();
        *rebuild = true;
    } else {
        set.insert(key());
    }
}
