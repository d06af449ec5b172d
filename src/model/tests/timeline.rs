//! The event log: bounded, and saying what happened in words.

use super::{now, put};
use crate::model::event::{Change, ClusterEvent, ObjectId};
use crate::model::fixture::*;
use crate::model::objects::Pod;
use crate::model::store::Model;
use crate::model::timeline::Severity;

fn messages(model: &Model) -> Vec<(String, String)> {
    model.log.iter().map(|e| (e.subject.clone(), e.message.clone())).collect()
}

#[test]
fn the_log_is_bounded_and_keeps_the_newest() {
    let mut model = seed_stack(now());
    model.config.log_capacity = 5;
    for i in 0..12 {
        put(&mut model, node(&format!("extra-{i:02}"), None));
    }
    assert_eq!(model.log.len(), 5);
    let subjects: Vec<&str> = model.log.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["node/extra-07", "node/extra-08", "node/extra-09", "node/extra-10", "node/extra-11"]
    );
}

#[test]
fn a_listing_logs_nothing_but_later_changes_do() {
    let mut model = seed_stack(now());
    assert!(model.log.is_empty(), "{:?}", model.log);
    put(&mut model, not_ready(node(WORKERS[1], Some("shard2"))));
    let e = model.log.back().cloned();
    let Some(e) = e else { panic!("an entry") };
    assert_eq!(
        (e.subject.as_str(), e.message.as_str(), e.severity),
        ("node/shardwatch-worker2", "node NotReady", Severity::Warning)
    );
}

#[test]
fn a_rescheduled_pod_is_logged_from_deletion_to_its_new_node() {
    let mut model = seed_stack(now());
    let old = model.pods.values().find(|p| p.app.as_deref() == Some("helm-controller-shard2")).cloned();
    let Some(old) = old else { panic!("seed pod") };
    model.apply(ClusterEvent {
        at: now(),
        change: Change::Deleted(ObjectId::Pod(NS.into(), old.name.clone())),
    });
    let dep = model.deployments["helm-controller-shard2"].clone();
    let fresh = pod_of(&dep, WORKERS[2], now());
    put(&mut model, Pod { node: None, phase: "Pending".into(), ready: false, ..fresh.clone() });
    put(&mut model, Pod { phase: "Running".into(), ..fresh.clone() });
    assert_eq!(
        messages(&model),
        [
            (format!("pod/{}", old.name), "pod deleted".to_string()),
            (format!("pod/{}", fresh.name), "pod created (Pending)".to_string()),
            (format!("pod/{}", fresh.name), "scheduled on shardwatch-worker3".to_string()),
            (format!("pod/{}", fresh.name), "pod Ready".to_string()),
        ]
    );
}

#[test]
fn a_leader_change_and_a_failed_kustomization_are_logged() {
    let mut model = seed_stack(now());
    let dep = model.deployments["kustomize-controller-shard1"].clone();
    let new_pod = pod_of(&dep, WORKERS[0], now());
    put(&mut model, lease_of(&dep, &new_pod, now()));
    let k = model.flux.values().find(|o| &*o.key.name == "infra-sources").cloned();
    let Some(k) = k else { panic!("seed has infra-sources") };
    put(&mut model, with_failed(k, "ArtifactFailed", "artifact not found", now()));
    let log = messages(&model);
    assert_eq!(log.len(), 2);
    assert!(log[0].0.starts_with("lease/kustomize-controller-leader-election-"));
    assert!(log[0].1.starts_with(&format!("leader is now {}_", new_pod.name)));
    assert_eq!(
        log[1],
        ("Kustomization/flux-system/infra-sources".into(), "Ready=False (ArtifactFailed)".into())
    );
}
