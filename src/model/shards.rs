//! Shards discovered from the controller Deployments, and each shard's health.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::discovery::{ControllerRef, controller_ref, shard_order, watch_selector};
use super::event::{ResourceKind, WatchState};
use super::objects::{Deployment, Lease, Pod, Time};
use super::store::Model;

/// Name of the shard made of the unsharded controllers.
pub const MAIN_SHARD: &str = "main";

/// The Flux controllers that can be sharded, in display order.
pub const SHARDABLE: [&str; 3] = ["source-controller", "kustomize-controller", "helm-controller"];

/// Lease duration client-go leader election uses when a Lease does not say (Flux's default).
pub const DEFAULT_LEASE_SECS: u32 = 35;

/// Health of one controller or one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Health {
    /// Every desired replica ready, a leader holds the lease.
    Healthy,
    /// Running but short of replicas, leaderless, or restarting.
    Degraded,
    /// No ready replica: nothing reconciles this shard's objects.
    Down,
    /// Not enough is visible to tell.
    Unknown,
}

/// One pod of a controller, as the shard matrix shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodSummary {
    /// Pod name.
    pub name: String,
    /// Node, if scheduled.
    pub node: Option<String>,
    /// Phase.
    pub phase: String,
    /// Ready condition.
    pub ready: bool,
    /// Restarts.
    pub restarts: u32,
}

/// One controller of one shard (`kustomize-controller` of `shard2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControllerHealth {
    /// Controller name without the shard suffix (`kustomize-controller`).
    pub controller: String,
    /// Deployment name (`kustomize-controller-shard2`).
    pub deployment: String,
    /// Desired replicas.
    pub desired: u32,
    /// Ready replicas.
    pub ready: u32,
    /// Available replicas.
    pub available: u32,
    /// Restarts summed over its pods.
    pub restarts: u32,
    /// Its pods.
    pub pods: Vec<PodSummary>,
    /// Leader pod name from the Lease holder, if any.
    pub leader: Option<String>,
    /// When the leader last renewed.
    pub leader_renewed: Option<Time>,
    /// Seconds since the last renewal at the snapshot's time.
    pub leader_age_secs: Option<i64>,
    /// Health verdict.
    pub health: Health,
    /// Why the health is not Healthy, in words (`0/1 ready`, `no leader`), for the UI and verdict.
    pub reason: Option<String>,
    /// Why its `--watch-label-selector` does not parse: the controller selects nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector_error: Option<String>,
}

/// One shard: its controllers and overall health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardView {
    /// Shard name (`shard1`, or `main`).
    pub name: String,
    /// The watch label selector its controllers run with.
    pub selector: Option<String>,
    /// Its controllers, in `SHARDABLE` order then any others.
    pub controllers: Vec<ControllerHealth>,
    /// Nodes whose shard label names this shard.
    pub nodes: Arc<Vec<String>>,
    /// Worst health of its controllers.
    pub health: Health,
}

/// How bad a health is when folding controllers into a shard: knowing something is
/// down or degraded outranks not knowing, and not knowing outranks healthy.
pub fn health_rank(h: Health) -> u8 {
    match h {
        Health::Healthy => 0,
        Health::Unknown => 1,
        Health::Degraded => 2,
        Health::Down => 3,
    }
}

/// The pod name in a Lease holder identity (`<pod>_<uuid>`).
fn holder_pod(holder: &str) -> &str {
    holder.split_once('_').map_or(holder, |(p, _)| p)
}

/// Whether `pod` has the shape of a pod of Deployment `deployment` (`<deployment>-<hash>-<id>`),
/// so a lease still held by a pod that is gone is attributed to the right shard.
fn looks_like_pod_of(pod: &str, deployment: &str) -> bool {
    let Some(rest) = pod.strip_prefix(deployment).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    let mut parts = rest.split('-');
    let ok =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()));
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

/// The leader of one controller Deployment, read from the Leases.
struct Leadership<'a> {
    lease: Option<&'a Lease>,
    /// Whether any lease exists for this controller, so a missing leader means something.
    leases_exist: bool,
}

fn leadership<'a>(model: &'a Model, controller: &str, deployment: &str, pods: &[&Pod]) -> Leadership<'a> {
    let prefix = format!("{controller}-leader-election");
    let mut leases_exist = false;
    let mut current = None;
    let mut former = None;
    for lease in
        model.leases.range(prefix.clone()..).map(|(_, l)| l).take_while(|l| l.name.starts_with(&prefix))
    {
        leases_exist = true;
        let Some(holder) = lease.holder.as_deref().filter(|h| !h.is_empty()) else { continue };
        let pod = holder_pod(holder);
        let newer = |best: &Option<&Lease>| best.is_none_or(|b| lease.renewed > b.renewed);
        if pods.iter().any(|p| p.name == pod) {
            if newer(&current) {
                current = Some(lease);
            }
        } else if looks_like_pod_of(pod, deployment) && newer(&former) {
            former = Some(lease);
        }
    }
    Leadership { lease: current.or(former), leases_exist }
}

fn controller_health(
    model: &Model,
    dep: &Deployment,
    controller: String,
    pods: &[&Pod],
    now: Time,
) -> ControllerHealth {
    let deployments_live = model.watch(ResourceKind::Deployment) == WatchState::Live;
    let leases_live = model.watch(ResourceKind::Lease) == WatchState::Live;
    let lead = leadership(model, &controller, &dep.name, pods);
    let leader = lead.lease.and_then(|l| l.holder.as_deref()).map(|h| holder_pod(h).to_string());
    let leader_renewed = lead.lease.and_then(|l| l.renewed);
    let leader_age_secs = leader_renewed.map(|t| (now - t).num_seconds().max(0));
    let duration = lead.lease.and_then(|l| l.duration_secs).unwrap_or(DEFAULT_LEASE_SECS);
    let selector_error = watch_selector(dep).err().map(|e| e.to_string());
    let (health, reason) = if !deployments_live {
        (Health::Unknown, Some("deployments not visible".to_string()))
    } else if dep.ready == 0 {
        (Health::Down, Some(format!("{}/{} ready", dep.ready, dep.desired)))
    } else if dep.ready < dep.desired {
        (Health::Degraded, Some(format!("{}/{} ready", dep.ready, dep.desired)))
    } else if let Some(e) = &selector_error {
        (Health::Degraded, Some(format!("watch label selector refused: {e}")))
    } else if leases_live && lead.leases_exist && leader.is_none() {
        (Health::Degraded, Some("no leader".to_string()))
    } else if let Some(age) = leader_age_secs.filter(|a| leases_live && *a > i64::from(duration)) {
        (Health::Degraded, Some(format!("leader lease not renewed for {age}s")))
    } else {
        (Health::Healthy, None)
    };
    ControllerHealth {
        controller,
        deployment: dep.name.clone(),
        desired: dep.desired,
        ready: dep.ready,
        available: dep.available,
        restarts: pods.iter().map(|p| p.restarts).fold(0u32, u32::saturating_add),
        pods: pods
            .iter()
            .map(|p| PodSummary {
                name: p.name.clone(),
                node: p.node.clone(),
                phase: p.phase.clone(),
                ready: p.ready,
                restarts: p.restarts,
            })
            .collect(),
        leader,
        leader_renewed,
        leader_age_secs,
        health,
        reason,
        selector_error,
    }
}

/// The names of the nodes labelled for each shard, in name order. Kept apart from the
/// shards' health because it changes only with Nodes, while health follows every Lease.
pub fn shard_nodes(model: &Model) -> HashMap<String, Arc<Vec<String>>> {
    let key = model.config.shard_label.as_str();
    group_shard_nodes(
        model.nodes.values().filter_map(|n| n.labels.get(key).map(|s| (n.name.as_str(), s.as_str()))),
    )
}

/// Groups `(node, shard)` pairs, given in node name order, by shard.
pub fn group_shard_nodes<'a>(
    labelled: impl Iterator<Item = (&'a str, &'a str)>,
) -> HashMap<String, Arc<Vec<String>>> {
    let mut by_shard: HashMap<String, Vec<String>> = HashMap::new();
    for (node, shard) in labelled {
        by_shard.entry(shard.to_string()).or_default().push(node.to_string());
    }
    by_shard.into_iter().map(|(s, n)| (s, Arc::new(n))).collect()
}

/// Discovers shards and computes their health at time `now`.
pub fn shards(model: &Model, now: Time) -> Vec<ShardView> {
    shards_on(model, now, &shard_nodes(model))
}

/// `shards`, with the nodes per shard given (see [`shard_nodes`]).
pub fn shards_on(
    model: &Model,
    now: Time,
    nodes_by_shard: &HashMap<String, Arc<Vec<String>>>,
) -> Vec<ShardView> {
    let key = model.config.shard_label.as_str();
    let mut pods_by_app: HashMap<&str, Vec<&Pod>> = HashMap::new();
    for pod in model.pods.values() {
        if let Some(app) = pod.app.as_deref() {
            pods_by_app.entry(app).or_default().push(pod);
        }
    }
    let mut by_shard: HashMap<String, Vec<(ControllerRef, &Deployment)>> = HashMap::new();
    for dep in model.deployments.values() {
        let r = controller_ref(dep, key);
        by_shard.entry(r.shard.clone()).or_default().push((r, dep));
    }
    let mut names: Vec<String> = by_shard.keys().cloned().collect();
    names.sort_by(|a, b| shard_order(a, b));
    let rank = |c: &str| SHARDABLE.iter().position(|s| *s == c).unwrap_or(SHARDABLE.len());
    names
        .into_iter()
        .map(|name| {
            let mut members = by_shard.remove(&name).unwrap_or_default();
            members.sort_by(|(a, da), (b, db)| {
                rank(&a.controller)
                    .cmp(&rank(&b.controller))
                    .then_with(|| a.controller.cmp(&b.controller))
                    .then_with(|| da.name.cmp(&db.name))
            });
            let selector = members.iter().find_map(|(_, d)| d.watch_label_selector.clone());
            let controllers: Vec<ControllerHealth> = members
                .into_iter()
                .map(|(r, dep)| {
                    let pods = pods_by_app.get(dep.name.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                    controller_health(model, dep, r.controller, pods, now)
                })
                .collect();
            let health = controllers
                .iter()
                .map(|c| c.health)
                .max_by_key(|h| health_rank(*h))
                .unwrap_or(Health::Unknown);
            let nodes = nodes_by_shard.get(name.as_str()).cloned().unwrap_or_default();
            ShardView { name, selector, controllers, nodes, health }
        })
        .collect()
}
