//! The failover timeline: per shard, when an outage began, when the shard lost readiness and
//! its leader, when and where it came back, and which Flux objects waited meanwhile.
//!
//! Kept incrementally by `Model::apply`: the tracker holds small indexes (Deployment → shard,
//! pods per node, Lease per Deployment, Flux objects per shard) so each event re-judges only
//! the shard(s) it touches, at a cost proportional to that shard, never to the cluster.

use std::collections::{BTreeSet, HashMap, VecDeque};

use chrono::Duration;
use serde::Serialize;

use super::discovery::controller_ref;
use super::event::{Change, Object, ObjectId, ResourceKind};
use super::flux_state::{ObjectState, object_state};
use super::objects::{FluxKey, Time};
use super::shards::DEFAULT_LEASE_SECS;
use super::store::Model;

/// How many incidents the tracker keeps by default (oldest dropped first).
pub const KEPT_INCIDENTS: usize = 50;

/// How long a pod deletion stays a plausible cause of an outage that opens after it.
const HINT_SECS: i64 = 120;

/// One outage of one shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// Shard name.
    pub shard: String,
    /// When it began (the first event that made the shard unhealthy).
    pub began: Time,
    /// What started it, in words (`node shardwatch-worker2 NotReady`, `pod x deleted`, ...).
    pub cause: String,
    /// When some controller of the shard first had fewer ready replicas than desired.
    pub lost_ready_at: Option<Time>,
    /// When some controller of the shard first had no live leader.
    pub lost_leader_at: Option<Time>,
    /// When every controller was ready again; None while open.
    pub recovered_at: Option<Time>,
    /// Nodes of the shard's ready pods after recovery.
    pub recovered_on: Vec<String>,
    /// Objects of the shard (by label) that were not Ready or were orphaned meanwhile, by key.
    pub waited: Vec<FluxKey>,
}

impl Incident {
    /// Seconds from the beginning to the recovery, once recovered.
    pub fn recovery_secs(&self) -> Option<i64> {
        self.recovered_at.map(|r| (r - self.began).num_seconds())
    }

    /// Whether the shard has not recovered yet.
    pub fn is_open(&self) -> bool {
        self.recovered_at.is_none()
    }
}

/// An incident as the snapshot shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentView {
    /// The incident.
    #[serde(flatten)]
    pub incident: Incident,
    /// Time to recovery in seconds, once recovered.
    pub recovery_secs: Option<i64>,
    /// Whether it is still going on.
    pub open: bool,
}

/// What one event touched, read before the store changes.
#[derive(Debug, Default)]
pub struct Touched {
    shards: BTreeSet<String>,
    /// Whether the shards' objects should be swept for waiting ones.
    sweep: bool,
    /// A Flux object that changed, to check alone.
    flux: Option<FluxKey>,
}

/// The failover timeline and the indexes that keep it cheap.
#[derive(Debug, Clone)]
pub struct FailoverTracker {
    /// How many incidents to keep.
    pub capacity: usize,
    incidents: VecDeque<Incident>,
    /// Last judged health per shard (true = every controller ready, no pod on a NotReady node).
    healthy: HashMap<String, bool>,
    dep_shard: HashMap<String, String>,
    shard_deps: HashMap<String, BTreeSet<String>>,
    pod_node: HashMap<String, String>,
    node_pods: HashMap<String, BTreeSet<String>>,
    dep_lease: HashMap<String, String>,
    shard_flux: HashMap<String, BTreeSet<FluxKey>>,
    /// A recent pod deletion per shard, as a likely cause.
    hint: HashMap<String, (String, Time)>,
}

impl Default for FailoverTracker {
    fn default() -> Self {
        FailoverTracker {
            capacity: KEPT_INCIDENTS,
            incidents: VecDeque::new(),
            healthy: HashMap::new(),
            dep_shard: HashMap::new(),
            shard_deps: HashMap::new(),
            pod_node: HashMap::new(),
            node_pods: HashMap::new(),
            dep_lease: HashMap::new(),
            shard_flux: HashMap::new(),
            hint: HashMap::new(),
        }
    }
}

/// The Deployment a pod name belongs to (`<deployment>-<hash>-<id>`).
fn dep_of_pod(pod: &str) -> Option<&str> {
    let mut parts = pod.rsplitn(3, '-');
    let (_, _, dep) = (parts.next()?, parts.next()?, parts.next()?);
    Some(dep)
}

/// The pod name in a Lease holder identity (`<pod>_<uuid>`).
fn holder_pod(holder: &str) -> &str {
    holder.split_once('_').map_or(holder, |(p, _)| p)
}

/// What one shard looks like now.
struct ShardState {
    /// `deployment ready/desired` for each controller short of replicas (or scaled to 0).
    short: Vec<String>,
    /// Deployments scaled to 0.
    scaled_to_zero: Vec<String>,
    /// NotReady nodes holding a live pod of the shard.
    bad_nodes: BTreeSet<String>,
    /// Whether every controller with a known Lease has a live leader.
    leader_ok: bool,
    /// Deployments whose Lease has no live leader.
    leaderless: Vec<String>,
    /// Controllers (without shard suffix) with no ready replica.
    zero_ready: BTreeSet<String>,
    /// Controllers of the shard.
    controllers: BTreeSet<String>,
    /// Nodes of the ready pods.
    ready_nodes: BTreeSet<String>,
}

impl ShardState {
    /// Every controller ready on a live node and, where it elects a leader, led: a shard
    /// whose pods are back but whose Lease still names a dead holder reconciles nothing yet.
    fn ok(&self) -> bool {
        self.short.is_empty() && self.bad_nodes.is_empty() && self.leader_ok
    }
}

impl FailoverTracker {
    /// Incidents, oldest first.
    pub fn incidents(&self) -> impl DoubleEndedIterator<Item = &Incident> {
        self.incidents.iter()
    }

    /// The snapshot's view: newest first.
    pub fn views(&self) -> Vec<IncidentView> {
        self.incidents
            .iter()
            .rev()
            .map(|i| IncidentView {
                incident: i.clone(),
                recovery_secs: i.recovery_secs(),
                open: i.is_open(),
            })
            .collect()
    }

    fn shard_of_pod<'a>(&'a self, model: &'a Model, pod: &str) -> Option<&'a String> {
        let app = model.pods.get(pod).and_then(|p| p.app.as_deref()).or_else(|| dep_of_pod(pod))?;
        self.dep_shard.get(app)
    }

    fn index_pod(&mut self, name: &str, node: Option<&str>) {
        if let Some(old) = self.pod_node.remove(name) {
            if let Some(set) = self.node_pods.get_mut(&old) {
                set.remove(name);
            }
        }
        if let Some(n) = node {
            self.pod_node.insert(name.to_string(), n.to_string());
            self.node_pods.entry(n.to_string()).or_default().insert(name.to_string());
        }
    }

    fn index_dep(&mut self, name: &str, shard: Option<String>) -> Option<String> {
        let old = self.dep_shard.remove(name);
        if let Some(o) = &old {
            if let Some(set) = self.shard_deps.get_mut(o) {
                set.remove(name);
            }
        }
        if let Some(s) = shard {
            self.dep_shard.insert(name.to_string(), s.clone());
            self.shard_deps.entry(s).or_default().insert(name.to_string());
        }
        old
    }

    fn index_lease(&mut self, lease: &str, holder: Option<&str>) {
        if let Some(dep) = holder.map(holder_pod).and_then(dep_of_pod) {
            self.dep_lease.insert(dep.to_string(), lease.to_string());
        }
    }

    fn index_flux(&mut self, key: &FluxKey, old: Option<&str>, new: Option<&str>) {
        if let Some(set) = old.and_then(|o| self.shard_flux.get_mut(o)) {
            set.remove(key);
        }
        if let Some(s) = new {
            self.shard_flux.entry(s.to_string()).or_default().insert(key.clone());
        }
    }

    /// Reads what `change` touches and updates the indexes; call before the store applies it.
    pub fn before(&mut self, model: &Model, change: &Change, at: Time) -> Touched {
        let mut t = Touched::default();
        let label = model.config.shard_label.as_str();
        let flux_shard =
            |s: &Option<String>| s.clone().unwrap_or_else(|| super::shards::MAIN_SHARD.to_string());
        match change {
            Change::Applied(Object::Deployment(d)) => {
                let r = controller_ref(d, label);
                if let Some(old) = self.index_dep(&d.name, Some(r.shard.clone())) {
                    t.shards.insert(old);
                }
                t.shards.insert(r.shard);
                t.sweep = true;
            }
            Change::Deleted(ObjectId::Deployment(_, name)) => {
                if let Some(old) = self.index_dep(name, None) {
                    t.shards.insert(old);
                }
                t.sweep = true;
            }
            Change::Applied(Object::Pod(p)) => {
                self.index_pod(&p.name, p.node.as_deref());
                if let Some(s) = p.app.as_deref().and_then(|a| self.dep_shard.get(a)) {
                    t.shards.insert(s.clone());
                }
            }
            Change::Deleted(ObjectId::Pod(_, name)) => {
                if let Some(s) = self.shard_of_pod(model, name).cloned() {
                    self.hint.insert(s.clone(), (format!("pod {name} deleted"), at));
                    t.shards.insert(s);
                }
                self.index_pod(name, None);
            }
            Change::Applied(Object::Node(n)) => {
                let old = model.nodes.get(&n.name).and_then(|o| o.labels.get(label));
                t.shards.extend(old.cloned());
                t.shards.extend(n.labels.get(label).cloned());
                self.node_touches(model, &n.name, &mut t);
            }
            Change::Deleted(ObjectId::Node(name)) => {
                t.shards.extend(model.nodes.get(name).and_then(|o| o.labels.get(label)).cloned());
                self.node_touches(model, name, &mut t);
            }
            Change::Applied(Object::Lease(l)) => {
                let old = model.leases.get(&l.name).and_then(|o| o.holder.as_deref());
                for holder in [old, l.holder.as_deref()].into_iter().flatten() {
                    if let Some(s) = dep_of_pod(holder_pod(holder)).and_then(|d| self.dep_shard.get(d)) {
                        t.shards.insert(s.clone());
                    }
                }
                self.index_lease(&l.name, l.holder.as_deref());
            }
            Change::Deleted(ObjectId::Lease(name)) => {
                let old = model.leases.get(name).and_then(|o| o.holder.as_deref());
                if let Some(s) = old.map(holder_pod).and_then(dep_of_pod).and_then(|d| self.dep_shard.get(d))
                {
                    t.shards.insert(s.clone());
                }
                self.dep_lease.retain(|_, l| l != name);
            }
            Change::Applied(Object::Flux(f)) => {
                let old = model.flux.get(&f.key).map(|o| flux_shard(&o.shard));
                self.index_flux(&f.key, old.as_deref(), Some(&flux_shard(&f.shard)));
                t.flux = Some(f.key.clone());
            }
            Change::Deleted(ObjectId::Flux(k)) => {
                let old = model.flux.get(k).map(|o| flux_shard(&o.shard));
                self.index_flux(k, old.as_deref(), None);
            }
            Change::Listed(kind, objs) => {
                // A list costs its size; every shard is re-judged.
                match kind {
                    ResourceKind::Deployment => {
                        self.dep_shard.clear();
                        self.shard_deps.clear();
                    }
                    ResourceKind::Pod => {
                        self.pod_node.clear();
                        self.node_pods.clear();
                    }
                    ResourceKind::Lease => self.dep_lease.clear(),
                    ResourceKind::Flux(k) => {
                        for set in self.shard_flux.values_mut() {
                            set.retain(|key| key.kind != *k);
                        }
                    }
                    _ => {}
                }
                for obj in objs {
                    match obj {
                        Object::Deployment(d) => {
                            self.index_dep(&d.name, Some(controller_ref(d, label).shard));
                        }
                        Object::Pod(p) => self.index_pod(&p.name, p.node.as_deref()),
                        Object::Lease(l) => self.index_lease(&l.name, l.holder.as_deref()),
                        Object::Flux(f) => self.index_flux(&f.key, None, Some(&flux_shard(&f.shard))),
                        _ => {}
                    }
                }
                t.shards.extend(self.healthy.keys().cloned());
                t.shards.extend(self.shard_deps.keys().cloned());
                t.sweep = true;
            }
            _ => {}
        }
        t
    }

    fn node_touches(&self, model: &Model, node: &str, t: &mut Touched) {
        for pod in self.node_pods.get(node).into_iter().flatten() {
            if let Some(s) = self.shard_of_pod(model, pod) {
                t.shards.insert(s.clone());
            }
        }
    }

    /// Re-judges the touched shards; call after the store applied the change.
    pub fn after(&mut self, model: &Model, touched: Touched, at: Time) {
        for shard in &touched.shards {
            self.judge(model, shard, at, touched.sweep);
        }
        if let Some(key) = touched.flux {
            self.check_object(model, &key);
        }
    }

    fn state(&self, model: &Model, shard: &str, at: Time) -> ShardState {
        let label = model.config.shard_label.as_str();
        let mut st = ShardState {
            short: Vec::new(),
            scaled_to_zero: Vec::new(),
            bad_nodes: BTreeSet::new(),
            leader_ok: true,
            leaderless: Vec::new(),
            zero_ready: BTreeSet::new(),
            controllers: BTreeSet::new(),
            ready_nodes: BTreeSet::new(),
        };
        let mut ready_by_controller: HashMap<String, u32> = HashMap::new();
        let node_down = |n: &str| model.nodes.get(n).is_some_and(|n| n.ready != Some(true));
        for name in self.shard_deps.get(shard).into_iter().flatten() {
            let Some(dep) = model.deployments.get(name) else { continue };
            let controller = controller_ref(dep, label).controller;
            st.controllers.insert(controller.clone());
            *ready_by_controller.entry(controller).or_default() += dep.ready;
            if dep.desired == 0 {
                st.scaled_to_zero.push(dep.name.clone());
            }
            if dep.desired == 0 || dep.ready < dep.desired {
                st.short.push(format!("{} {}/{} ready", dep.name, dep.ready, dep.desired));
            }
            let prefix = format!("{}-", dep.name);
            let pods = model.pods.range(prefix.clone()..).take_while(|(n, _)| n.starts_with(&prefix));
            for (_, pod) in
                pods.filter(|(_, p)| p.app.as_deref() == Some(dep.name.as_str()) && !p.terminating)
            {
                let Some(node) = pod.node.as_deref() else { continue };
                if node_down(node) {
                    st.bad_nodes.insert(node.to_string());
                } else if pod.ready {
                    st.ready_nodes.insert(node.to_string());
                }
            }
            if let Some(lease) = self.dep_lease.get(name).and_then(|l| model.leases.get(l)) {
                let holder = lease.holder.as_deref().filter(|h| !h.is_empty());
                let pod = holder.map(holder_pod).and_then(|p| model.pods.get(p));
                let on_down_node = pod.is_some_and(|p| p.node.as_deref().is_some_and(node_down));
                let pod_live =
                    pod.is_some_and(|p| p.ready && p.app.as_deref() == Some(name.as_str()) && !on_down_node);
                // A holder still renewing leads even when its pod is gone from the API (a
                // process outliving its pod); a holder that stopped renewing leads until its
                // Lease runs out, and only then can a replacement take over.
                let duration =
                    Duration::seconds(i64::from(lease.duration_secs.unwrap_or(DEFAULT_LEASE_SECS)));
                let renewing = holder.is_some() && lease.renewed.is_some_and(|r| at - r <= duration);
                if !(pod_live || (renewing && pod.is_none())) {
                    st.leader_ok = false;
                    st.leaderless.push(name.clone());
                }
            }
        }
        st.zero_ready = ready_by_controller.into_iter().filter(|(_, r)| *r == 0).map(|(c, _)| c).collect();
        st
    }

    fn open_index(&self, shard: &str) -> Option<usize> {
        self.incidents.iter().rposition(|i| i.shard == shard && i.is_open())
    }

    fn judge(&mut self, model: &Model, shard: &str, at: Time, sweep: bool) {
        if self.shard_deps.get(shard).is_none_or(BTreeSet::is_empty) {
            self.healthy.remove(shard);
            return;
        }
        let st = self.state(model, shard, at);
        let ok = st.ok();
        let was = self.healthy.insert(shard.to_string(), ok);
        let mut open = self.open_index(shard);
        let mut opened = false;
        if !ok && open.is_none() && was == Some(true) {
            let hint = self.hint.remove(shard).filter(|(_, t)| at - *t <= Duration::seconds(HINT_SECS));
            let cause = if let Some(node) = st.bad_nodes.iter().next() {
                format!("node {node} NotReady")
            } else if let Some((h, _)) = hint {
                h
            } else if let Some(dep) = st.scaled_to_zero.first() {
                format!("{dep} scaled to 0")
            } else {
                st.short
                    .first()
                    .cloned()
                    .or_else(|| st.leaderless.first().map(|d| format!("{d} has no live leader")))
                    .unwrap_or_else(|| "unhealthy".into())
            };
            self.incidents.push_back(Incident {
                shard: shard.to_string(),
                began: at,
                cause,
                lost_ready_at: None,
                lost_leader_at: None,
                recovered_at: None,
                recovered_on: Vec::new(),
                waited: Vec::new(),
            });
            while self.incidents.len() > self.capacity.max(1) {
                self.incidents.pop_front();
            }
            open = Some(self.incidents.len() - 1);
            opened = true;
        }
        let Some(idx) = open else { return };
        let inc = &mut self.incidents[idx];
        if ok {
            inc.recovered_at = Some(at);
            inc.recovered_on = st.ready_nodes.into_iter().collect();
            return;
        }
        if inc.lost_ready_at.is_none() && !st.short.is_empty() {
            inc.lost_ready_at = Some(at);
        }
        if inc.lost_leader_at.is_none() && !st.leader_ok {
            inc.lost_leader_at = Some(at);
        }
        if sweep || opened {
            for key in self.shard_flux.get(shard).into_iter().flatten() {
                let Some(obj) = model.flux.get(key) else { continue };
                let controller = key.kind.controller();
                let orphaned = st.zero_ready.contains(controller) || !st.controllers.contains(controller);
                if orphaned || waiting(object_state(obj).state) {
                    add_waited(&mut inc.waited, key);
                }
            }
        }
    }

    /// One Flux object changed: if its shard has an open incident and it is not Ready, it waited.
    fn check_object(&mut self, model: &Model, key: &FluxKey) {
        let Some(obj) = model.flux.get(key) else { return };
        let shard = obj.shard.as_deref().unwrap_or(super::shards::MAIN_SHARD);
        let Some(idx) = self.open_index(shard) else { return };
        if waiting(object_state(obj).state) {
            add_waited(&mut self.incidents[idx].waited, key);
        }
    }
}

fn waiting(state: ObjectState) -> bool {
    !matches!(state, ObjectState::Ready | ObjectState::Suspended)
}

fn add_waited(waited: &mut Vec<FluxKey>, key: &FluxKey) {
    if let Err(pos) = waited.binary_search(key) {
        waited.insert(pos, key.clone());
    }
}
