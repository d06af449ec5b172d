//! The failover timeline: incidents opened, measured and closed from the events alone.

use chrono::Duration;

use super::now;
use crate::model::event::{Change, ClusterEvent, ObjectId};
use crate::model::failover::Incident;
use crate::model::fixture::*;
use crate::model::objects::{Deployment, FluxKey, Time};
use crate::model::shards::SHARDABLE;
use crate::model::snapshot::Snapshot;
use crate::model::store::Model;

fn at(secs: i64) -> Time {
    now() + Duration::seconds(secs)
}

fn shard_controllers(shard: &str) -> Vec<Deployment> {
    SHARDABLE.iter().map(|c| controller(c, Some(shard))).collect()
}

fn set_ready(model: &mut Model, t: Time, shard: &str, ready: u32) {
    for dep in shard_controllers(shard) {
        model.apply(applied(t, with_replicas(dep, ready)));
    }
}

fn incidents(model: &Model) -> Vec<Incident> {
    model.failover.incidents().cloned().collect()
}

fn objects_of(model: &Model, shard: &str) -> Vec<FluxKey> {
    model.flux.values().filter(|o| o.shard.as_deref() == Some(shard)).map(|o| o.key.clone()).collect()
}

/// worker2 fails at +10s, shard2's controllers report 0 ready at +50s.
fn worker2_fails() -> Model {
    let mut model = seed_stack(now());
    model.apply(applied(at(10), not_ready(node(WORKERS[1], Some("shard2")))));
    set_ready(&mut model, at(50), "shard2", 0);
    model
}

#[test]
fn a_failed_node_opens_one_incident_for_its_shard() {
    let model = worker2_fails();
    let all = incidents(&model);
    assert_eq!(all.len(), 1, "{all:#?}");
    let inc = &all[0];
    assert_eq!(inc.shard, "shard2");
    assert_eq!(inc.cause, "node shardwatch-worker2 NotReady");
    assert_eq!(inc.began, at(10));
    assert_eq!(inc.lost_ready_at, Some(at(50)));
    assert_eq!(inc.lost_leader_at, Some(at(10)), "the leaders' pods sit on the failed node");
    assert!(inc.is_open());
    assert_eq!(inc.recovery_secs(), None);
    let expected = objects_of(&model, "shard2");
    assert!(!expected.is_empty());
    assert_eq!(inc.waited, expected, "every shard2 object is orphaned meanwhile");

    let snap = Snapshot::of(&model, at(60));
    assert_eq!(snap.failover.len(), 1);
    assert!(snap.failover[0].open);
    assert_eq!(snap.failover[0].recovery_secs, None);
    let json = serde_json::to_value(&snap).unwrap_or_default();
    assert_eq!(json["failover"][0]["shard"], "shard2");
    assert_eq!(json["failover"][0]["open"], true);
}

#[test]
fn the_node_coming_back_closes_the_incident_with_its_time_to_recovery() {
    let mut model = worker2_fails();
    model.apply(applied(at(100), node(WORKERS[1], Some("shard2"))));
    assert!(incidents(&model)[0].is_open(), "controllers are not ready yet");
    set_ready(&mut model, at(130), "shard2", 1);
    let all = incidents(&model);
    assert_eq!(all.len(), 1);
    let inc = &all[0];
    assert_eq!(inc.recovered_at, Some(at(130)));
    assert_eq!(inc.recovery_secs(), Some(120));
    assert_eq!(inc.recovered_on, vec![WORKERS[1].to_string()]);

    let snap = Snapshot::of(&model, at(140));
    assert!(!snap.failover[0].open);
    assert_eq!(snap.failover[0].recovery_secs, Some(120));
}

#[test]
fn with_preferred_placement_the_recovery_names_the_node_it_moved_to() {
    let mut model = worker2_fails();
    // The old pods are evicted from the unreachable node (they stay Terminating there)...
    let old: Vec<_> =
        model.pods.values().filter(|p| p.node.as_deref() == Some(WORKERS[1])).cloned().collect();
    assert_eq!(old.len(), 3);
    for mut pod in old {
        pod.terminating = true;
        pod.ready = false;
        model.apply(applied(at(320), pod));
    }
    // ... and their replacements start on worker3.
    let mut replacements = Vec::new();
    for dep in shard_controllers("shard2") {
        let pod = pod_of(&dep, WORKERS[2], at(320));
        model.apply(applied(at(330), pod.clone()));
        replacements.push((dep, pod));
    }
    assert!(incidents(&model)[0].is_open());
    set_ready(&mut model, at(340), "shard2", 1);
    assert!(incidents(&model)[0].is_open(), "ready, but the Leases still name the dead pods");
    // The replacements take over the Leases, which ran out long ago.
    for (dep, pod) in &replacements {
        model.apply(applied(at(342), lease_of(dep, pod, at(342))));
    }
    let inc = &incidents(&model)[0];
    assert_eq!(inc.recovered_at, Some(at(342)));
    assert_eq!(inc.recovery_secs(), Some(332));
    assert_eq!(inc.recovered_on, vec![WORKERS[2].to_string()]);
}

#[test]
fn a_shard_whose_pods_are_back_waits_for_its_leaders_before_it_counts_as_recovered() {
    // The seed's real failure: the node returns, the evicted pods' replacements are Ready on
    // it, but each Lease still names a killed holder until its 35 s run out.
    let mut model = worker2_fails();
    let old: Vec<_> =
        model.pods.values().filter(|p| p.node.as_deref() == Some(WORKERS[1])).cloned().collect();
    for pod in &old {
        model.apply(ClusterEvent {
            at: at(60),
            change: Change::Deleted(ObjectId::Pod(NS.into(), pod.name.clone())),
        });
    }
    model.apply(applied(at(100), node(WORKERS[1], Some("shard2"))));
    let mut replacements = Vec::new();
    for dep in shard_controllers("shard2") {
        let pod = pod_of(&dep, WORKERS[1], at(100));
        model.apply(applied(at(101), pod.clone()));
        replacements.push((dep, pod));
    }
    set_ready(&mut model, at(102), "shard2", 1);
    let inc = &incidents(&model)[0];
    assert!(inc.is_open(), "no leader yet: {inc:?}");
    for (dep, pod) in &replacements {
        model.apply(applied(at(137), lease_of(dep, pod, at(137))));
    }
    let inc = &incidents(&model)[0];
    assert_eq!(inc.recovered_at, Some(at(137)), "recovered once led again");
    assert_eq!(inc.recovery_secs(), Some(127));
}

#[test]
fn a_leader_process_renewing_after_its_pod_is_gone_still_leads() {
    // Local world: a controller process outlives its kwok pod and keeps renewing.
    let mut model = seed_stack(now());
    renew_leases(&mut model, at(5));
    let dep = shard_controllers("shard1").remove(0);
    let lease = model
        .leases
        .values()
        .find(|l| l.holder.as_deref().is_some_and(|h| h.starts_with(&dep.name)))
        .cloned();
    let lease = lease.expect("a lease held by the shard1 source-controller pod");
    let holder_pod = lease.holder.as_deref().unwrap().split_once('_').unwrap().0.to_string();
    model.apply(ClusterEvent { at: at(10), change: Change::Deleted(ObjectId::Pod(NS.into(), holder_pod)) });
    model.apply(applied(at(11), pod_of(&dep, WORKERS[0], at(10))));
    model.apply(applied(at(12), super::super::objects::Lease { renewed: Some(at(12)), ..lease }));
    assert!(
        incidents(&model).iter().all(|i| !i.is_open()),
        "a renewing holder leads: {:?}",
        incidents(&model)
    );
}

#[test]
fn shards_that_never_lost_readiness_have_no_incident() {
    let mut model = worker2_fails();
    renew_leases(&mut model, at(55));
    set_ready(&mut model, at(60), "shard1", 1);
    assert!(incidents(&model).iter().all(|i| i.shard == "shard2"));
    let healthy = seed_stack(now());
    assert!(incidents(&healthy).is_empty());
    // A shard already down when first listed has no known beginning: no incident.
    let unplaced = flux_stack(now(), &SEED_SHARDS, &WORKERS[..2]);
    assert!(incidents(&unplaced).is_empty());
}

#[test]
fn a_deleted_pod_is_named_as_the_cause() {
    let mut model = seed_stack(now());
    let dep = controller("kustomize-controller", Some("shard1"));
    let pod = model.pods.values().find(|p| p.app.as_deref() == Some(dep.name.as_str())).cloned();
    let pod = pod.unwrap_or_else(|| pod_of(&dep, WORKERS[0], now()));
    model.apply(ClusterEvent {
        at: at(5),
        change: Change::Deleted(ObjectId::Pod(NS.into(), pod.name.clone())),
    });
    assert!(incidents(&model).is_empty(), "the Deployment still reports ready");
    model.apply(applied(at(6), with_replicas(dep.clone(), 0)));
    model.apply(applied(at(20), pod_of(&dep, WORKERS[0], at(6))));
    model.apply(applied(at(21), dep));
    let all = incidents(&model);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].cause, format!("pod {} deleted", pod.name));
    assert_eq!(all[0].began, at(6));
    assert_eq!(all[0].recovery_secs(), Some(15));
    assert_eq!(all[0].recovered_on, vec![WORKERS[0].to_string()]);
}

#[test]
fn only_the_last_incidents_are_kept() {
    let mut model = seed_stack(now());
    model.failover.capacity = 3;
    let dep = controller("helm-controller", Some("shard3"));
    for i in 0..5 {
        let down = Deployment { desired: 0, ..with_replicas(dep.clone(), 0) };
        model.apply(applied(at(i * 100), down));
        model.apply(applied(at(i * 100 + 30), dep.clone()));
    }
    let all = incidents(&model);
    assert_eq!(all.len(), 3);
    assert_eq!(all.iter().map(|i| i.began).collect::<Vec<_>>(), vec![at(200), at(300), at(400)]);
    assert!(all.iter().all(|i| i.cause == "helm-controller-shard3 scaled to 0"));
    assert!(all.iter().all(|i| i.recovery_secs() == Some(30)));
    let snap = Snapshot::of(&model, at(500));
    assert_eq!(snap.failover.first().map(|v| v.incident.began), Some(at(400)), "newest first");
}

#[test]
fn a_node_whose_ready_condition_turns_unknown_counts_as_down() {
    // The node-lifecycle controller reports a silent kubelet as Ready=Unknown, not False.
    let mut model = seed_stack(now());
    let mut silent = node(WORKERS[1], Some("shard2"));
    silent.ready = None;
    model.apply(applied(at(10), silent));
    let all = incidents(&model);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].cause, "node shardwatch-worker2 NotReady");
    assert_eq!(all[0].began, at(10));
}
