//! A realistic snapshot of a three-shard stack in trouble, built from plain values so
//! the panels can be tested before (and independently of) the model's views.
//!
//! The story: shardwatch-worker2 (shard2's node) went NotReady 100s ago; shard2's pods
//! there are not ready and its replacement kustomize-controller pod cannot be scheduled.
//! shard2's objects are therefore orphaned, the postgres-operator HelmRelease never
//! finishes, so infra-controllers fails its health check and everything above it waits.
//! A Kustomization is labelled for shard4, which has no controllers.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};

use crate::model::assignment::{AssignedObject, AssignmentView, Orphan, ShardAssignment};
use crate::model::event::{ClusterInfo, WatchState};
use crate::model::failover::{Incident, IncidentView};
use crate::model::flux_state::{ObjectState, StateDetail};
use crate::model::graph::{DependencyGraph, GraphNode, RootCause};
use crate::model::objects::{FluxKey, FluxKind, Time};
use crate::model::placement::{NodeView, PlacedPod, PlacementView, Violation};
use crate::model::shards::{ControllerHealth, Health, PodSummary, ShardView};
use crate::model::snapshot::{SNAPSHOT_VERSION, Snapshot};
use crate::model::timeline::{LogEntry, Severity};
use crate::model::verdict::{Overall, Verdict};

/// The sample's "now".
pub fn now() -> Time {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn ago(secs: i64) -> Time {
    now() - Duration::seconds(secs)
}

/// Every kind the cluster layer watches, all live.
pub fn live_watches() -> BTreeMap<String, WatchState> {
    ["nodes", "pods", "deployments", "leases", "events", "kustomizations", "helmreleases", "gitrepositories"]
        .into_iter()
        .map(|k| (k.to_string(), WatchState::Live))
        .collect()
}

const PENDING_MSG: &str = "0/4 nodes are available: 1 node(s) had untolerated taint \
    {node.kubernetes.io/unreachable: }, 3 node(s) didn't match Pod's node affinity/selector. \
    preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.";

const HEALTH_MSG: &str = "health check failed after 5m0s: timeout waiting for: \
    [Deployment/postgres-operator/postgres-operator status: 'InProgress']";

/// A controller as the table below lists it: name, pod hash, scheduled, ready, restarts.
type Row = (&'static str, &'static str, bool, bool, u32);

/// One controller with one pod; not ready means its lease went unrenewed for 97s.
fn controller(
    shard: &str,
    node: Option<&str>,
    (name, hash, scheduled, ready, restarts): Row,
) -> ControllerHealth {
    let deployment = if shard == "main" { name.to_string() } else { format!("{name}-{shard}") };
    let pod = format!("{deployment}-{hash}");
    let node = if scheduled { node } else { None };
    let health = match (ready, restarts) {
        (false, _) => Health::Down,
        (true, r) if r > 2 => Health::Degraded,
        _ => Health::Healthy,
    };
    let lease_age = if ready { 2 + restarts as i64 } else { 97 };
    // A Pending pod cannot hold the lease: its deleted predecessor still does.
    let leader = if scheduled { pod.clone() } else { format!("{deployment}-6d8f9b7c5-7qwmz") };
    ControllerHealth {
        controller: name.into(),
        deployment,
        desired: 1,
        ready: ready as u32,
        available: ready as u32,
        restarts,
        pods: vec![PodSummary {
            name: pod,
            node: node.map(Into::into),
            phase: if scheduled { "Running" } else { "Pending" }.into(),
            ready,
            restarts,
        }],
        leader: Some(leader),
        leader_renewed: Some(ago(lease_age)),
        leader_age_secs: Some(lease_age),
        reason: match health {
            Health::Down => Some("0/1 ready".into()),
            Health::Degraded => Some(format!("{restarts} restarts")),
            _ => None,
        },
        health,
        selector_error: None,
    }
}

fn shard(name: &str, node: Option<&str>, rows: &[Row]) -> ShardView {
    // main's controllers run on the control plane, which carries no shard label.
    let runs_on = if name == "main" { Some("shardwatch-control-plane") } else { node };
    let controllers: Vec<ControllerHealth> = rows.iter().map(|r| controller(name, runs_on, *r)).collect();
    let health = controllers.iter().map(|c| c.health).max().unwrap_or(Health::Unknown);
    let selector = if name == "main" {
        "!sharding.fluxcd.io/key".to_string()
    } else {
        format!("sharding.fluxcd.io/key in ({name})")
    };
    ShardView {
        name: name.into(),
        selector: Some(selector),
        controllers,
        nodes: Arc::new(node.map(|n| vec![n.to_string()]).unwrap_or_default()),
        health,
    }
}

fn shards() -> Vec<ShardView> {
    let (src, ks, helm) = ("source-controller", "kustomize-controller", "helm-controller");
    vec![
        shard(
            "main",
            None,
            &[
                (src, "6c7b9f5d8-4kx2p", true, true, 0),
                (ks, "5f8c7d9b6-q7m3z", true, true, 0),
                (helm, "7d4b8c6f5-h2n9w", true, true, 0),
                ("notification-controller", "6b5d8f7c9-r4t8v", true, true, 1),
            ],
        ),
        shard(
            "shard1",
            Some("shardwatch-worker"),
            &[
                (src, "58d9c7b6f-2xk4m", true, true, 0),
                (ks, "7b8c9d5f6-m3p7q", true, true, 0),
                (helm, "6f9d8c7b5-z8w2n", true, true, 0),
            ],
        ),
        shard(
            "shard2",
            Some("shardwatch-worker2"),
            &[
                (src, "5b7c8d9f4-k2x9p", true, false, 0),
                (ks, "6d8f9b7c5-x2bq7", false, false, 0),
                (helm, "7c9d5b8f6-t4r8s", true, false, 2),
            ],
        ),
        shard(
            "shard3",
            Some("shardwatch-worker3"),
            &[
                (src, "6b9c7d8f5-w5n2k", true, true, 0),
                (ks, "5d7f8c9b6-j8h4r", true, true, 1),
                (helm, "8d6f7c9b5-p9v3k", true, true, 4),
            ],
        ),
    ]
}

/// Placement derived from the shards: every pod on its node, the Pending one unscheduled.
fn placement(shards: &[ShardView]) -> PlacementView {
    let node = |name: &str, shard: Option<&str>, ready: bool, taints: &[&str]| NodeView {
        name: name.into(),
        shard: shard.map(Into::into),
        ready: Some(ready),
        cordoned: false,
        taints: taints.iter().map(|t| t.to_string()).collect(),
        pods: Vec::new(),
    };
    let mut nodes = vec![
        node("shardwatch-control-plane", None, true, &["node-role.kubernetes.io/control-plane:NoSchedule"]),
        node("shardwatch-worker", Some("shard1"), true, &[]),
        node(
            "shardwatch-worker2",
            Some("shard2"),
            false,
            &["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"],
        ),
        node("shardwatch-worker3", Some("shard3"), true, &[]),
    ];
    let mut unscheduled = Vec::new();
    for s in shards {
        for c in &s.controllers {
            for p in &c.pods {
                let placed = PlacedPod {
                    name: p.name.clone(),
                    shard: Some(s.name.clone()),
                    deployment: Some(c.deployment.clone()),
                    phase: p.phase.clone(),
                    ready: p.ready,
                };
                match nodes.iter_mut().find(|n| Some(&n.name) == p.node.as_ref()) {
                    Some(n) => n.pods.push(placed),
                    None => unscheduled.push(placed),
                }
            }
        }
    }
    let violations = vec![
        Violation::Pending {
            pod: "kustomize-controller-shard2-6d8f9b7c5-x2bq7".into(),
            shard: Some("shard2".into()),
            message: PENDING_MSG.into(),
        },
        Violation::UnhealthyNode {
            node: "shardwatch-worker2".into(),
            shards: vec!["shard2".into()],
            reason: "NotReady".into(),
        },
    ];
    PlacementView { nodes: nodes.into_iter().map(Arc::new).collect(), unscheduled, violations }
}

fn key(kind: FluxKind, namespace: &str, name: &str) -> FluxKey {
    FluxKey { kind, namespace: namespace.into(), name: name.into() }
}

fn ks(name: &str) -> FluxKey {
    key(FluxKind::Kustomization, "flux-system", name)
}

fn detail(state: ObjectState, reason: &str, message: &str, since: i64) -> StateDetail {
    StateDetail {
        state,
        reason: reason.into(),
        message: message.into(),
        since: Some(ago(since)),
        pending_reconcile: None,
    }
}

fn waiting_on(dep: &str) -> StateDetail {
    let msg = format!("dependency 'flux-system/{dep}' is not ready");
    detail(ObjectState::Waiting, "DependencyNotReady", &msg, 240)
}

fn failed() -> StateDetail {
    detail(ObjectState::Failed, "HealthCheckFailed", HEALTH_MSG, 252)
}

fn ready(since: i64) -> StateDetail {
    detail(ObjectState::Ready, "ReconciliationSucceeded", "Applied revision: main@sha1:4f2a9c1e", since)
}

fn progressing() -> StateDetail {
    detail(ObjectState::Progressing, "Progressing", "Running 'upgrade' action with timeout of 5m0s", 310)
}

fn suspended() -> StateDetail {
    detail(
        ObjectState::Suspended,
        "ReconciliationSucceeded",
        "Applied revision: main@sha1:91c3d7aa",
        86_400 * 3,
    )
}

fn unknown() -> StateDetail {
    StateDetail {
        state: ObjectState::Unknown,
        reason: Default::default(),
        message: Default::default(),
        since: None,
        pending_reconcile: None,
    }
}

const REV: &str = "main@sha1:4f2a9c1e";

fn graph() -> DependencyGraph {
    let root = RootCause {
        key: Some(ks("infra-controllers")),
        missing: None,
        state: ObjectState::Failed,
        reason: "HealthCheckFailed".into(),
        message: HEALTH_MSG.into(),
    };
    let node = |key: FluxKey, state: StateDetail, rev: Option<&str>, deps: &[&str], depth: usize| {
        let root_cause = match state.state {
            ObjectState::Waiting => Some(root.clone()),
            ObjectState::Failed | ObjectState::Progressing | ObjectState::Unknown => Some(RootCause {
                key: Some(key.clone()),
                missing: None,
                state: state.state,
                reason: state.reason.clone(),
                message: state.message.clone(),
            }),
            _ => None,
        };
        GraphNode {
            age_secs: state.since.map(|t| (now() - t).num_seconds()),
            since: state.since,
            key,
            state,
            revision: rev.map(Into::into),
            depends_on: deps.iter().map(|d| ks(d)).collect(),
            missing: Vec::new(),
            depth,
            root_cause,
        }
    };
    let hr = |ns: &str| key(FluxKind::HelmRelease, ns, ns);
    DependencyGraph::new(
        vec![
            node(ks("flux-system"), ready(10_800), Some(REV), &[], 0),
            node(ks("infra-sources"), ready(10_750), Some(REV), &[], 0),
            node(ks("monitoring"), suspended(), Some("main@sha1:91c3d7aa"), &[], 0),
            node(ks("tenant-x"), unknown(), None, &[], 0),
            node(hr("cert-manager"), ready(10_600), Some("1.16.2"), &[], 0),
            node(hr("postgres-operator"), progressing(), Some("1.14.0"), &[], 0),
            node(ks("infra-crds"), ready(10_700), Some(REV), &["infra-sources"], 1),
            node(ks("infra-controllers"), failed(), Some(REV), &["infra-crds"], 2),
            node(ks("infra-configs"), waiting_on("infra-controllers"), Some(REV), &["infra-controllers"], 3),
            node(ks("apps"), waiting_on("infra-configs"), Some("main@sha1:2b7e0d4c"), &["infra-configs"], 4),
        ],
        Vec::new(),
    )
}

fn assignment(graph: &DependencyGraph) -> AssignmentView {
    let obj = |key: FluxKey, shard: &str, orphan: Option<Orphan>| {
        let n = graph.nodes.iter().find(|n| n.key == key);
        Arc::new(AssignedObject {
            shard: shard.into(),
            state: n.map(|n| n.state.clone()).unwrap_or_else(|| ready(10_790)),
            age_secs: n.map_or(Some(10_790), |n| n.age_secs),
            since: n.map_or(Some(now() - Duration::seconds(10_790)), |n| n.since),
            revision: n.map_or(Some(REV.into()), |n| n.revision.clone()),
            orphan,
            conflict: Vec::new(),
            key,
        })
    };
    let shard = |name: &str, has_controllers: bool, objects: Vec<Arc<AssignedObject>>| ShardAssignment {
        shard: name.into(),
        has_controllers,
        objects: objects.into(),
    };
    let nr = Some(Orphan::ControllerNotReady);
    let pg = key(FluxKind::HelmRelease, "postgres-operator", "postgres-operator");
    let shards = vec![
        shard(
            "main",
            true,
            vec![
                obj(ks("flux-system"), "main", None),
                obj(key(FluxKind::GitRepository, "flux-system", "flux-system"), "main", None),
            ],
        ),
        shard(
            "shard1",
            true,
            vec![
                obj(ks("infra-crds"), "shard1", None),
                obj(ks("infra-sources"), "shard1", None),
                obj(key(FluxKind::HelmRelease, "cert-manager", "cert-manager"), "shard1", None),
                obj(key(FluxKind::HelmRepository, "flux-system", "jetstack"), "shard1", None),
            ],
        ),
        shard("shard2", true, vec![obj(ks("apps"), "shard2", nr), obj(pg.clone(), "shard2", nr)]),
        shard(
            "shard3",
            true,
            vec![
                obj(ks("infra-configs"), "shard3", None),
                obj(ks("infra-controllers"), "shard3", None),
                obj(ks("monitoring"), "shard3", None),
            ],
        ),
        shard("shard4", false, vec![obj(ks("tenant-x"), "shard4", Some(Orphan::NoController))]),
    ];
    let orphans = vec![
        obj(ks("apps"), "shard2", nr),
        obj(ks("tenant-x"), "shard4", Some(Orphan::NoController)),
        obj(pg, "shard2", nr),
    ];
    AssignmentView::new(shards, orphans)
}

fn events() -> Vec<LogEntry> {
    let e = |secs: i64, sev: Severity, subject: &str, message: &str| LogEntry {
        at: ago(secs),
        severity: sev,
        subject: subject.into(),
        message: message.into(),
    };
    use Severity::{Info, Warning};
    let pending = "pod/kustomize-controller-shard2-6d8f9b7c5-x2bq7";
    vec![
        e(12, Warning, "Kustomization/flux-system/infra-controllers", "Ready=False (HealthCheckFailed)"),
        e(
            38,
            Info,
            "lease/helm-controller-shard3-leader-election",
            "leader is now helm-controller-shard3-8d6f7c9b5-p9v3k",
        ),
        e(39, Warning, "pod/helm-controller-shard3-8d6f7c9b5-p9v3k", "restarted (4 in all)"),
        e(70, Warning, pending, &format!("unschedulable: {PENDING_MSG}")),
        e(71, Info, pending, "pod created (Pending)"),
        e(72, Warning, "pod/kustomize-controller-shard2-6d8f9b7c5-7qwmz", "pod deleted"),
        e(72, Warning, "deployment/kustomize-controller-shard2", "ready 0/1"),
        e(95, Warning, "pod/source-controller-shard2-5b7c8d9f4-k2x9p", "pod not Ready"),
        e(95, Warning, "pod/helm-controller-shard2-7c9d5b8f6-t4r8s", "pod not Ready"),
        e(100, Warning, "node/shardwatch-worker2", "node NotReady"),
        e(3_600, Info, "Kustomization/flux-system/apps", "Ready=True (ReconciliationSucceeded)"),
        e(10_800, Info, "watch/kustomizations", "watching"),
    ]
}

/// Two outages of shard2: one still open (worker2 NotReady) and an earlier one that recovered.
fn failover() -> Vec<IncidentView> {
    let view = |incident: Incident| IncidentView {
        recovery_secs: incident.recovery_secs(),
        open: incident.is_open(),
        incident,
    };
    vec![
        view(Incident {
            shard: "shard2".into(),
            began: ago(42),
            cause: "node shardwatch-worker2 NotReady".into(),
            lost_ready_at: Some(ago(31)),
            lost_leader_at: Some(ago(31)),
            recovered_at: None,
            recovered_on: Vec::new(),
            waited: vec![
                key(FluxKind::GitRepository, "flux-system", "infra"),
                ks("infra-controllers"),
                key(FluxKind::HelmRelease, "monitoring", "kube-prometheus-stack"),
            ],
        }),
        view(Incident {
            shard: "shard2".into(),
            began: ago(3_720),
            cause: "node shardwatch-worker2 NotReady".into(),
            lost_ready_at: Some(ago(3_708)),
            lost_leader_at: Some(ago(3_705)),
            recovered_at: Some(ago(3_600)),
            recovered_on: vec!["shardwatch-worker2".into()],
            waited: vec![ks("infra-controllers")],
        }),
    ]
}

/// The sample snapshot with a failover timeline: one open and one closed incident.
pub fn snapshot_with_failover() -> Snapshot {
    Snapshot { failover: failover(), ..snapshot() }
}

/// The whole sample snapshot.
pub fn snapshot() -> Snapshot {
    let shards = shards();
    let placement = placement(&shards);
    let dependencies = graph();
    let assignment = assignment(&dependencies);
    Snapshot {
        version: SNAPSHOT_VERSION,
        taken_at: now(),
        cluster: ClusterInfo {
            context: "kind-shardwatch".into(),
            server: "https://127.0.0.1:41235".into(),
            kubernetes_version: Some("v1.34.0".into()),
            flux_version: Some("v2.7.2".into()),
        },
        flux_namespace: "flux-system".into(),
        shard_label: "sharding.fluxcd.io/key".into(),
        watches: live_watches(),
        overall: Overall {
            verdict: Verdict::Failing,
            reasons: vec![
                "shard2 down: no ready kustomize-controller, source-controller, helm-controller".into(),
                "Kustomization/flux-system/infra-controllers failed: HealthCheckFailed".into(),
                "3 orphaned objects (shard2 not ready, shard4 has no controllers)".into(),
                "node shardwatch-worker2 NotReady".into(),
            ],
        },
        shards,
        placement: Arc::new(placement),
        dependencies: Arc::new(dependencies),
        assignment: Arc::new(assignment),
        events: Arc::new(events().into_iter().map(Arc::new).collect()),
        failover: Vec::new(),
        explanations: Arc::new(Vec::new()),
    }
}
