//! The overall verdict for a healthy stack and for each class of trouble.

use super::{change, now, put};
use crate::model::event::{Change, ObjectId, ResourceKind, WatchState};
use crate::model::fixture::*;
use crate::model::objects::{FluxKind, Pod};
use crate::model::store::Model;
use crate::model::verdict::{Overall, Verdict, human_duration};
use crate::model::{ModelConfig, Snapshot};

fn judge(model: &Model) -> Overall {
    Snapshot::of(model, now()).overall
}

#[test]
fn a_healthy_seed_stack_is_healthy_with_no_reasons() {
    assert_eq!(judge(&seed_stack(now())), Overall { verdict: Verdict::Healthy, reasons: vec![] });
}

#[test]
fn unknown_before_deployments_and_nodes_are_live() {
    let o = judge(&Model::new(ModelConfig::default()));
    assert_eq!(o.verdict, Verdict::Unknown);
    assert_eq!(o.reasons, ["deployments: not listed yet", "nodes: not listed yet"]);
    let mut model = seed_stack(now());
    change(&mut model, Change::Watch(ResourceKind::Node, WatchState::Forbidden("nodes is forbidden".into())));
    assert_eq!(judge(&model).reasons, ["nodes: forbidden: nodes is forbidden"]);
}

#[test]
fn unknown_when_no_flux_controllers_are_found() {
    let model = model_from(now(), vec![node(WORKERS[0], None).into(), plain_controller("coredns").into()]);
    let o = judge(&model);
    assert_eq!(
        (o.verdict, o.reasons),
        (Verdict::Unknown, vec!["Flux controllers not found in flux-system".into()])
    );
}

#[test]
fn failing_when_a_shard_controller_is_down() {
    let mut model = seed_stack(now());
    let down = with_replicas(model.deployments["kustomize-controller-shard2"].clone(), 0);
    put(&mut model, down);
    let o = judge(&model);
    assert_eq!(o.verdict, Verdict::Failing);
    assert_eq!(o.reasons[0], "shard2: kustomize-controller-shard2 has 0/1 ready");
    assert!(
        o.reasons.contains(&"1 object orphaned (kustomize-controller of shard2 has no ready replica)".into())
    );
}

#[test]
fn failing_when_an_object_failed() {
    let mut model = seed_stack(now());
    let k = model.flux.values().find(|o| &*o.key.name == "infra-configs").cloned();
    let Some(k) = k else { panic!("seed has infra-configs") };
    put(&mut model, with_failed(k, "HealthCheckFailed", "health check failed after 5m0s", now()));
    let o = judge(&model);
    assert_eq!(o.verdict, Verdict::Failing);
    assert_eq!(o.reasons, ["Kustomization flux-system/infra-configs failed: HealthCheckFailed"]);
}

#[test]
fn failing_when_objects_are_orphaned() {
    let mut model = seed_stack(now());
    put(&mut model, kustomization(NS, "tenants", Some("shard4"), &[]));
    put(&mut model, kustomization(NS, "tenants-b", Some("shard4"), &[]));
    let o = judge(&model);
    assert_eq!(
        (o.verdict, o.reasons),
        (Verdict::Failing, vec!["2 objects orphaned (shard4 has no controller)".into()])
    );
}

#[test]
fn degraded_when_a_controller_is_leaderless() {
    let mut model = seed_stack(now());
    let name = lease_name("source-controller", Some("!sharding.fluxcd.io/key"));
    change(&mut model, Change::Deleted(ObjectId::Lease(name)));
    let o = judge(&model);
    assert_eq!(
        (o.verdict, o.reasons),
        (Verdict::Degraded, vec!["main: source-controller has no leader".into()])
    );
}

#[test]
fn degraded_for_a_placement_violation() {
    let mut model = seed_stack(now());
    let p = model.pods.values().find(|p| p.app.as_deref() == Some("helm-controller-shard3")).cloned();
    let Some(p) = p else { panic!("seed has the pod") };
    put(&mut model, Pod { node: Some(WORKERS[0].into()), ..p.clone() });
    let o = judge(&model);
    assert_eq!(o.verdict, Verdict::Degraded);
    assert_eq!(
        o.reasons,
        [
            format!("shard3: pod {} runs on shardwatch-worker (shard1)", p.name),
            "node shardwatch-worker runs shards shard1, shard3".to_string(),
        ]
    );
}

#[test]
fn degraded_when_an_object_waits_for_long_but_not_when_briefly() {
    let mut model = seed_stack(now());
    let k = model.flux.values().find(|o| &*o.key.name == "infra-configs").cloned();
    let Some(k) = k else { panic!("seed has infra-configs") };
    put(&mut model, with_progressing(k.clone(), ago(now(), 120)));
    assert_eq!(judge(&model).verdict, Verdict::Healthy, "2m of progress is normal");
    put(&mut model, with_progressing(k, ago(now(), 3600)));
    let o = judge(&model);
    assert_eq!(o.verdict, Verdict::Degraded);
    assert_eq!(o.reasons, ["Kustomization flux-system/infra-configs Progressing for 1h (Progressing)"]);
}

#[test]
fn a_long_wait_names_its_root_cause() {
    let mut model = seed_stack(now());
    let get = |m: &Model, n: &str| m.flux.values().find(|o| &*o.key.name == n).cloned();
    let (Some(crds), Some(ctl)) = (get(&model, "infra-crds"), get(&model, "infra-controllers")) else {
        panic!("seed chain")
    };
    put(&mut model, with_suspended(crds));
    put(&mut model, with_waiting(ctl, ago(now(), 1200)));
    let o = judge(&model);
    assert_eq!(o.verdict, Verdict::Degraded);
    assert_eq!(
        o.reasons,
        [
            "Kustomization flux-system/infra-controllers Waiting for 20m (root cause: Kustomization flux-system/infra-crds: Suspended)"
        ]
    );
}

#[test]
fn degraded_when_a_watch_is_lost_but_not_for_a_kind_flux_was_installed_without() {
    let mut model = seed_stack(now());
    let lost = WatchState::Lost { since: ago(now(), 30), error: "connection reset by peer".into() };
    change(&mut model, Change::Watch(ResourceKind::Lease, lost));
    // source-controller still serves its other kinds: no Bucket CRD is a choice, not a fault.
    change(&mut model, Change::Watch(ResourceKind::Flux(FluxKind::Bucket), WatchState::NotInstalled));
    let o = judge(&model);
    assert_eq!(o.verdict, Verdict::Degraded);
    assert_eq!(o.reasons, ["leases: connection lost since 11:59:30: connection reset by peer"]);
}

#[test]
fn a_flux_without_helm_controller_is_healthy() {
    let mut model = seed_stack(now());
    let helm: Vec<String> =
        model.deployments.keys().filter(|d| d.starts_with("helm-controller")).cloned().collect();
    for d in helm {
        change(&mut model, Change::Deleted(ObjectId::Deployment(NS.into(), d)));
    }
    let pods: Vec<String> = model.pods.keys().filter(|p| p.starts_with("helm-controller")).cloned().collect();
    for p in pods {
        change(&mut model, Change::Deleted(ObjectId::Pod(NS.into(), p)));
    }
    change(&mut model, Change::Watch(ResourceKind::Flux(FluxKind::HelmRelease), WatchState::NotInstalled));
    assert!(!model.flux.keys().any(|k| k.kind == FluxKind::HelmRelease), "a removed CRD leaves no objects");
    let o = judge(&model);
    assert_eq!((o.verdict, o.reasons), (Verdict::Healthy, vec![]));
}

#[test]
fn a_controller_running_with_none_of_its_crds_is_degraded() {
    let mut model = seed_stack(now());
    change(&mut model, Change::Watch(ResourceKind::Flux(FluxKind::HelmRelease), WatchState::NotInstalled));
    let o = judge(&model);
    assert_eq!(o.verdict, Verdict::Degraded);
    assert_eq!(o.reasons, ["helm-controller runs but no CRD of its kinds is installed (HelmRelease)"]);
}

#[test]
fn reasons_are_capped_per_class() {
    let mut model = seed_stack(now());
    for i in 0..25 {
        let k = kustomization(NS, &format!("app-{i:02}"), Some("shard1"), &[]);
        put(&mut model, with_failed(k, "BuildFailed", "kustomize build failed", now()));
    }
    let o = judge(&model);
    assert_eq!(o.reasons.len(), 11);
    assert_eq!(o.reasons[10], "... and 15 more failed objects");
}

#[test]
fn durations_read_like_people_write_them() {
    let cases =
        [(0, "0s"), (59, "59s"), (60, "1m"), (95, "1m35s"), (3600, "1h"), (3720, "1h2m"), (90_000, "1d1h")];
    for (secs, text) in cases {
        assert_eq!(human_duration(secs), text);
    }
    assert_eq!(human_duration(-5), "0s");
}

#[test]
fn a_missing_source_degrades_at_once_without_the_grace_for_progress() {
    let mut model = seed_stack(now());
    let fresh =
        with_source(kustomization(NS, "infra", Some("shard1"), &[]), "GitRepository/flux-system/nowhere");
    put(&mut model, fresh);
    let o = judge(&model);
    assert_eq!(o.verdict, Verdict::Degraded, "{:?}", o.reasons);
    assert_eq!(
        o.reasons,
        [
            "Kustomization flux-system/infra blocked: SourceNotFound: waiting for its source: GitRepository/flux-system/nowhere does not exist"
        ]
    );
}
