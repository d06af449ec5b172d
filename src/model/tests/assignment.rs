//! Which shard owns each Flux object, and the orphans nobody reconciles.

use super::{change, now, put};
use crate::model::assignment::{Orphan, assignment};
use crate::model::event::{Change, ObjectId, ResourceKind, WatchState};
use crate::model::fixture::*;
use crate::model::flux_state::ObjectState;
use crate::model::objects::FluxKind;

#[test]
fn objects_go_to_their_labelled_shard_and_unlabelled_to_main() {
    let view = assignment(&seed_stack(now()), now());
    let shards: Vec<&str> = view.shards.iter().map(|s| s.shard.as_str()).collect();
    assert_eq!(shards, ["main", "shard1", "shard2", "shard3"]);
    assert!(view.orphans.is_empty());
    let names =
        |i: usize| -> Vec<String> { view.shards[i].objects.iter().map(|o| o.key.name.to_string()).collect() };
    assert_eq!(names(0), ["flux-system", "flux-system"]);
    assert_eq!(
        names(2),
        ["infra-crds", "cert-manager", "infra-shard2", "jetstack", "cert-manager-cert-manager"]
    );
    let crds = &view.shards[2].objects[0];
    assert_eq!((crds.state.state, crds.age_secs), (ObjectState::Ready, Some(3 * 3600)));
    assert_eq!(crds.revision.as_deref(), Some(REVISION));
}

#[test]
fn labelled_for_a_shard_that_does_not_exist_is_orphaned() {
    let mut model = seed_stack(now());
    let mut tenants = kustomization(NS, "tenants", Some("shard4"), &[]);
    tenants.created = Some(ago(now(), 120));
    put(&mut model, tenants);
    put(&mut model, flux_object(FluxKind::GitRepository, NS, "tenants", Some("shard4")));
    let view = assignment(&model, now());
    let last = view.shards.last().map(|s| (s.shard.as_str(), s.has_controllers, s.objects.len()));
    assert_eq!(last, Some(("shard4", false, 2)));
    let orphans: Vec<(FluxKind, Option<Orphan>)> =
        view.orphans.iter().map(|o| (o.key.kind, o.orphan)).collect();
    assert_eq!(
        orphans,
        [
            (FluxKind::Kustomization, Some(Orphan::NoController)),
            (FluxKind::GitRepository, Some(Orphan::NoController))
        ]
    );
    assert_eq!(view.orphans[0].age_secs, Some(120), "never reconciled: Unknown since creation");
}

#[test]
fn a_helm_release_on_a_shard_with_only_a_source_controller_is_orphaned() {
    let mut model = flux_stack(now(), &[], &WORKERS[..1]);
    put(&mut model, controller("source-controller", Some("edge")));
    put(&mut model, with_ready(helm_release("web", "frontend", Some("edge"), &[]), ago(now(), 60)));
    put(&mut model, flux_object(FluxKind::HelmRepository, NS, "bitnami", Some("edge")));
    let view = assignment(&model, now());
    let edge = view.shards.iter().find(|s| s.shard == "edge");
    assert!(edge.is_some_and(|s| s.has_controllers));
    assert_eq!(view.orphans.len(), 1);
    assert_eq!(
        (view.orphans[0].key.name.as_ref(), view.orphans[0].orphan),
        ("frontend", Some(Orphan::NoController))
    );
}

#[test]
fn objects_of_a_shard_whose_controller_has_no_ready_replica() {
    let mut model = seed_stack(now());
    let down = with_replicas(model.deployments["kustomize-controller-shard3"].clone(), 0);
    put(&mut model, down);
    let view = assignment(&model, now());
    let orphaned: Vec<(&str, Option<Orphan>)> =
        view.orphans.iter().map(|o| (o.key.name.as_ref(), o.orphan)).collect();
    // infra-controllers is shard3's only Kustomization; its stale Ready=True is not believed.
    assert_eq!(orphaned, [("infra-controllers", Some(Orphan::ControllerNotReady))]);
    assert_eq!(view.orphans[0].state.state, ObjectState::Ready);
}

#[test]
fn a_deleted_controller_orphans_its_objects_as_no_controller() {
    let mut model = seed_stack(now());
    change(&mut model, Change::Deleted(ObjectId::Deployment(NS.into(), "helm-controller-shard3".into())));
    let view = assignment(&model, now());
    assert_eq!(view.orphans.len(), 1);
    assert_eq!(&*view.orphans[0].key.name, "postgres-operator");
    assert_eq!(view.orphans[0].orphan, Some(Orphan::NoController));
}

#[test]
fn orphans_are_not_judged_before_deployments_are_listed() {
    let mut model = seed_stack(now());
    put(&mut model, kustomization(NS, "tenants", Some("shard4"), &[]));
    change(&mut model, Change::Watch(ResourceKind::Deployment, WatchState::Forbidden("no RBAC".into())));
    assert!(assignment(&model, now()).orphans.is_empty());
    let lost = WatchState::Lost { since: now(), error: "connection reset".into() };
    change(&mut model, Change::Watch(ResourceKind::Deployment, lost));
    assert_eq!(assignment(&model, now()).orphans.len(), 1, "data as of the loss still counts");
}

#[test]
fn label_values_without_controllers_follow_discovered_shards_in_natural_order() {
    let mut model = seed_stack(now());
    for s in ["shard10", "shard4", "blue"] {
        put(&mut model, kustomization(NS, &format!("k-{s}"), Some(s), &[]));
    }
    let view = assignment(&model, now());
    let shards: Vec<&str> = view.shards.iter().map(|s| s.shard.as_str()).collect();
    assert_eq!(shards, ["main", "shard1", "shard2", "shard3", "blue", "shard4", "shard10"]);
    let keys: Vec<&str> = view.orphans.iter().map(|o| o.key.name.as_ref()).collect();
    assert_eq!(keys, ["k-blue", "k-shard10", "k-shard4"], "orphans sorted by key");
}
