//! The fixtures themselves: the seed stack's shape and the demo's story.

use super::now;
use crate::model::Snapshot;
use crate::model::assignment::Orphan;
use crate::model::event::WatchState;
use crate::model::fixture::*;
use crate::model::flux_state::ObjectState;
use crate::model::placement::Violation;
use crate::model::shards::Health;
use crate::model::verdict::Verdict;

#[test]
fn seed_stack_has_the_thirteen_deployments_of_three_shards() {
    let model = seed_stack(now());
    assert_eq!(model.deployments.len(), 13);
    assert_eq!(model.pods.len(), 13);
    assert_eq!(model.leases.len(), 13);
    assert!(model.deployments.contains_key("notification-controller"));
    assert!(model.deployments.contains_key("source-controller-shard3"));
    assert_eq!(model.nodes[WORKERS[1]].labels.get(SHARD_LABEL).map(String::as_str), Some("shard2"));
    assert!(model.watches.values().all(|w| *w == WatchState::Live));
    assert_eq!(model.last_seen, Some(ago(now(), 2)));
}

#[test]
fn flux_stack_labels_the_infra_chain_round_robin() {
    let model = flux_stack(now(), &["a", "b"], &["n1", "n2"]);
    let shard = |name: &str| model.flux.values().find(|o| &*o.key.name == name).and_then(|o| o.shard.clone());
    assert_eq!(shard("infra-sources").as_deref(), Some("a"));
    assert_eq!(shard("infra-crds").as_deref(), Some("b"));
    assert_eq!(shard("infra-controllers").as_deref(), Some("a"));
    assert_eq!(shard("postgres-operator").as_deref(), Some("a"));
    assert_eq!(model.deployments.len(), 3 * 3 + 1);
}

#[test]
fn pod_names_are_stable_and_change_with_creation_time() {
    let dep = controller("kustomize-controller", Some("shard1"));
    let a = pod_of(&dep, WORKERS[0], now());
    assert_eq!(a.name, pod_of(&dep, WORKERS[0], now()).name);
    assert_ne!(a.name, pod_of(&dep, WORKERS[0], ago(now(), 1)).name);
    let rest = a.name.strip_prefix("kustomize-controller-shard1-").unwrap_or_default();
    assert_eq!(rest.split('-').map(str::len).collect::<Vec<_>>(), [10, 5]);
}

#[test]
fn demo_model_tells_its_story() {
    let snap = Snapshot::of(&demo_model(now()), now());
    assert_eq!(snap.overall.verdict, Verdict::Failing);
    let healths: Vec<(&str, Health)> = snap.shards.iter().map(|s| (s.name.as_str(), s.health)).collect();
    assert_eq!(
        healths,
        [
            ("main", Health::Healthy),
            ("shard1", Health::Healthy),
            ("shard2", Health::Down),
            ("shard3", Health::Healthy)
        ]
    );
    let v = &snap.placement.violations;
    assert!(
        matches!(&v[0], Violation::UnhealthyNode { node, reason, .. } if node == WORKERS[1] && reason == "NotReady")
    );
    assert!(
        matches!(&v[1], Violation::Pending { message, .. } if message.contains("node.kubernetes.io/unreachable"))
    );
    assert_eq!(v.len(), 2);

    let apps = snap.dependencies.nodes.iter().find(|n| &*n.key.name == "apps");
    let cause = apps.and_then(|n| n.root_cause.clone());
    assert_eq!(
        cause.map(|c| (c.key.map(|k| k.name), c.reason)),
        Some((Some("infra-controllers".into()), "HealthCheckFailed".into()))
    );
    let states: Vec<(&str, ObjectState)> = snap
        .assignment
        .shards
        .iter()
        .flat_map(|s| s.objects.iter())
        .filter(|o| o.state.state != ObjectState::Ready)
        .map(|o| (o.key.name.as_ref(), o.state.state))
        .collect();
    assert_eq!(
        states,
        [
            ("infra-configs", ObjectState::Waiting),
            ("monitoring", ObjectState::Suspended),
            ("infra-shard2", ObjectState::Stale),
            ("apps", ObjectState::Waiting),
            ("infra-controllers", ObjectState::Failed),
            ("tenants", ObjectState::Unknown),
        ]
    );
    let tenants = snap.assignment.orphans.iter().find(|o| &*o.key.name == "tenants");
    assert_eq!(tenants.map(|o| (o.shard.as_str(), o.orphan)), Some(("shard4", Some(Orphan::NoController))));
    assert!(snap.overall.reasons.contains(&"1 object orphaned (shard4 has no controller)".to_string()));
}

#[test]
fn demo_model_log_covers_the_failover_newest_first_in_snapshots() {
    let snap = Snapshot::of(&demo_model(now()), now());
    let has = |subject: &str, message: &str| {
        snap.events.iter().any(|e| e.subject.starts_with(subject) && e.message.starts_with(message))
    };
    assert!(has("node/shardwatch-worker2", "node NotReady"));
    assert!(has("deployment/kustomize-controller-shard2", "ready 0/1"));
    assert!(has("pod/kustomize-controller-shard2-", "unschedulable: 0/4 nodes are available"));
    assert!(has("lease/helm-controller-leader-election-", "leader is now helm-controller-"));
    assert!(has("Kustomization/flux-system/infra-controllers", "Ready=False (HealthCheckFailed)"));
    assert!(snap.events.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
}
