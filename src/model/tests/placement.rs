//! Where controller pods run, and each kind of placement violation.

use super::{change, now, put};
use crate::model::event::{Change, ObjectId, ResourceKind};
use crate::model::fixture::*;
use crate::model::objects::Pod;
use crate::model::placement::{Violation, placement, pod_owner};
use crate::model::store::Model;

fn pod(model: &Model, deployment: &str) -> Pod {
    let found = model.pods.values().find(|p| p.app.as_deref() == Some(deployment)).cloned();
    found.unwrap_or_else(|| panic!("fixture has a pod of {deployment}"))
}

#[test]
fn seed_stack_places_every_pod_on_its_node_without_violations() {
    let view = placement(&seed_stack(now()));
    let names: Vec<&str> = view.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, [CONTROL_PLANE, WORKERS[0], WORKERS[1], WORKERS[2]]);
    assert_eq!(view.violations, []);
    assert!(view.unscheduled.is_empty());
    let w2 = &view.nodes[2];
    assert_eq!(w2.shard.as_deref(), Some("shard2"));
    assert_eq!(w2.pods.len(), 3);
    assert!(w2.pods.iter().all(|p| p.shard.as_deref() == Some("shard2")));
    // Main pods share shard1's worker: main is not a shard that can collide.
    assert_eq!(view.nodes[1].pods.len(), 7);
}

#[test]
fn pod_shard_comes_from_its_deployment_or_its_app_name() {
    let model = seed_stack(now());
    let p = pod(&model, "helm-controller-shard3");
    assert_eq!(pod_owner(&model, &p), (Some("helm-controller-shard3".into()), Some("shard3".into())));
    let orphan = Pod { app: Some("source-controller-shard9".into()), ..p.clone() };
    assert_eq!(pod_owner(&model, &orphan), (None, Some("shard9".into())));
    assert_eq!(pod_owner(&model, &Pod { app: None, ..p }), (None, None));
}

#[test]
fn off_shard_node_after_a_preferred_affinity_failover() {
    let mut model = seed_stack(now());
    let moved = Pod { node: Some(WORKERS[2].into()), ..pod(&model, "kustomize-controller-shard2") };
    put(&mut model, moved.clone());
    let v = placement(&model).violations;
    assert!(v.contains(&Violation::OffShardNode {
        pod: moved.name.clone(),
        shard: "shard2".into(),
        node: WORKERS[2].into(),
        node_shard: Some("shard3".into()),
    }));
    assert!(v.contains(&Violation::SharedNode {
        node: WORKERS[2].into(),
        shards: vec!["shard2".into(), "shard3".into()]
    }));
    assert_eq!(v.len(), 2, "{v:#?}");
}

#[test]
fn off_shard_node_on_an_unlabelled_node() {
    let mut model = seed_stack(now());
    let moved = Pod { node: Some(CONTROL_PLANE.into()), ..pod(&model, "source-controller-shard1") };
    put(&mut model, moved.clone());
    let v = placement(&model).violations;
    assert_eq!(
        v,
        [Violation::OffShardNode {
            pod: moved.name,
            shard: "shard1".into(),
            node: CONTROL_PLANE.into(),
            node_shard: None,
        }]
    );
}

#[test]
fn unpinned_upstream_sharding_is_not_off_shard() {
    // Flux's own recipe pins nothing: no shard node labels, no affinity.
    let mut model = seed_stack(now());
    for name in WORKERS {
        put(&mut model, node(name, None));
    }
    for mut d in model.deployments.values().cloned().collect::<Vec<_>>() {
        d.required_node_shards.clear();
        put(&mut model, d);
    }
    let v = placement(&model).violations;
    // Shards still share nodes with nobody: each worker holds only its own shard.
    assert_eq!(v, []);
}

#[test]
fn pending_with_the_schedulers_message_and_pending_not_yet_scheduled() {
    let mut model = seed_stack(now());
    let dep = model.deployments["helm-controller-shard1"].clone();
    let stuck =
        pending(pod_of(&dep, WORKERS[0], ago(now(), 30)), "0/4 nodes are available: 4 Insufficient cpu.");
    put(&mut model, stuck.clone());
    let fresh = Pod { node: None, phase: "Pending".into(), ready: false, ..pod_of(&dep, WORKERS[0], now()) };
    put(&mut model, fresh.clone());
    let view = placement(&model);
    assert_eq!(view.unscheduled.len(), 2);
    assert!(view.violations.contains(&Violation::Pending {
        pod: stuck.name,
        shard: Some("shard1".into()),
        message: "0/4 nodes are available: 4 Insufficient cpu.".into(),
    }));
    assert!(view.violations.contains(&Violation::Pending {
        pod: fresh.name,
        shard: Some("shard1".into()),
        message: "not yet scheduled".into(),
    }));
}

#[test]
fn unhealthy_node_not_ready_unknown_and_cordoned() {
    let mut model = seed_stack(now());
    put(&mut model, not_ready(node(WORKERS[1], Some("shard2"))));
    let mut unknown = node(WORKERS[2], Some("shard3"));
    unknown.ready = None;
    put(&mut model, unknown);
    let mut cordoned = node(WORKERS[0], Some("shard1"));
    cordoned.unschedulable = true;
    put(&mut model, cordoned);
    let v = placement(&model).violations;
    let unhealthy = |node: &str, shards: &[&str], reason: &str| Violation::UnhealthyNode {
        node: node.into(),
        shards: shards.iter().map(|s| s.to_string()).collect(),
        reason: reason.into(),
    };
    assert_eq!(
        v,
        [
            unhealthy(WORKERS[0], &["main", "shard1"], "cordoned"),
            unhealthy(WORKERS[1], &["shard2"], "NotReady"),
            unhealthy(WORKERS[2], &["shard3"], "Unknown"),
        ]
    );
}

#[test]
fn a_not_ready_node_without_shard_pods_or_label_is_not_a_violation() {
    let mut model = seed_stack(now());
    put(&mut model, not_ready(control_plane(CONTROL_PLANE)));
    assert_eq!(placement(&model).violations, []);
}

#[test]
fn a_labelled_node_that_lost_its_pods_is_still_watched() {
    let mut model = seed_stack(now());
    for p in
        model.pods.values().filter(|p| p.node.as_deref() == Some(WORKERS[2])).cloned().collect::<Vec<_>>()
    {
        change(&mut model, Change::Deleted(ObjectId::Pod(NS.into(), p.name)));
    }
    put(&mut model, not_ready(node(WORKERS[2], Some("shard3"))));
    let v = placement(&model).violations;
    assert!(
        matches!(&v[..], [Violation::UnhealthyNode { node, shards, .. }] if node == WORKERS[2] && shards == &["shard3"])
    );
}

#[test]
fn terminating_pods_are_listed_but_not_judged() {
    let mut model = seed_stack(now());
    let leaving = Pod {
        node: Some(WORKERS[2].into()),
        terminating: true,
        ..pod(&model, "kustomize-controller-shard2")
    };
    put(&mut model, leaving.clone());
    let view = placement(&model);
    assert_eq!(view.violations, []);
    assert!(view.nodes[3].pods.iter().any(|p| p.name == leaving.name));
}

#[test]
fn pods_on_an_invisible_node_are_listed_not_judged() {
    let mut model = seed_stack(now());
    change(&mut model, Change::Listed(ResourceKind::Node, vec![]));
    let view = placement(&model);
    assert_eq!(view.nodes.len(), 3, "the workers that hold pods, synthesised");
    assert!(view.nodes.iter().all(|n| n.ready.is_none() && n.shard.is_none()));
    assert_eq!(view.violations, []);
}
