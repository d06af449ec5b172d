//! Shard discovery (names, annotation, selector), controller health and leaders.

use std::cmp::Ordering;

use super::{change, now, put};
use crate::model::discovery::{controller_ref, natural_cmp, shard_order};
use crate::model::event::{Change, ObjectId, ResourceKind, WatchState};
use crate::model::fixture::*;
use crate::model::objects::Deployment;
use crate::model::shards::{Health, MAIN_SHARD, shards};

fn dep(name: &str) -> Deployment {
    Deployment { namespace: NS.into(), name: name.into(), desired: 1, ready: 1, ..Default::default() }
}

fn refs(d: &Deployment) -> (String, String) {
    let r = controller_ref(d, SHARD_LABEL);
    (r.controller, r.shard)
}

fn pair(c: &str, s: &str) -> (String, String) {
    (c.to_string(), s.to_string())
}

#[test]
fn shard_from_name_suffix_alone() {
    assert_eq!(refs(&dep("kustomize-controller-shard7")), pair("kustomize-controller", "shard7"));
    assert_eq!(refs(&dep("source-controller")), pair("source-controller", MAIN_SHARD));
    assert_eq!(refs(&dep("notification-controller")), pair("notification-controller", MAIN_SHARD));
}

#[test]
fn shard_from_role_annotation_on_a_controller_flux_does_not_shard_upstream() {
    let mut d = dep("image-reflector-controller-eu");
    d.shard_role = Some("shard".into());
    d.component = Some("image-reflector-controller".into());
    assert_eq!(refs(&d), pair("image-reflector-controller", "eu"));
    // Without the annotation the same name is an unsharded controller.
    d.shard_role = None;
    assert_eq!(refs(&d), pair("image-reflector-controller", MAIN_SHARD));
}

#[test]
fn selector_is_more_authoritative_than_the_name() {
    let mut d = dep("kustomize-controller-blue");
    d.watch_label_selector = Some(format!("{SHARD_LABEL}=tenant-a"));
    d.component = Some("kustomize-controller".into());
    assert_eq!(refs(&d), pair("kustomize-controller", "tenant-a"));
    d.watch_label_selector = Some(format!("{SHARD_LABEL} in (tenant-b)"));
    assert_eq!(refs(&d).1, "tenant-b");
    d.watch_label_selector = Some(format!("app.kubernetes.io/part-of=flux,{SHARD_LABEL}==tenant-c"));
    assert_eq!(refs(&d).1, "tenant-c");
    // `!key` is the main controller, whatever its name says.
    d.watch_label_selector = Some(format!("!{SHARD_LABEL}"));
    assert_eq!(refs(&d), pair("kustomize-controller", MAIN_SHARD));
    // A selector about other labels says nothing: the name decides.
    d.watch_label_selector = Some("team=payments".into());
    assert_eq!(refs(&d).1, "blue");
}

#[test]
fn a_custom_shard_label_key_is_honoured() {
    let mut d = dep("helm-controller");
    d.watch_label_selector = Some("example.com/shard=s1".into());
    assert_eq!(controller_ref(&d, "example.com/shard").shard, "s1");
    assert_eq!(controller_ref(&d, SHARD_LABEL).shard, MAIN_SHARD);
}

#[test]
fn odd_names_and_selectors_never_panic() {
    for name in ["", "-", "kustomize-controller-", "shard", "é-controller-ü", "helm-controller--"] {
        let sels = [None, Some(""), Some("!"), Some("="), Some("in ("), Some(",,,"), Some("k in ()")];
        let more = [
            Some("sharding.fluxcd.io/key in ()"),
            Some("sharding.fluxcd.io/key="),
            Some("!sharding.fluxcd.io/key,"),
        ];
        for sel in sels.into_iter().chain(more) {
            let mut d = dep(name);
            d.shard_role = Some("shard".into());
            d.watch_label_selector = sel.map(str::to_string);
            let r = controller_ref(&d, SHARD_LABEL);
            assert!(!r.shard.is_empty() || name.is_empty(), "{name:?} {sel:?} -> {r:?}");
        }
    }
}

#[test]
fn natural_order_puts_shard2_before_shard10_and_main_first() {
    assert_eq!(natural_cmp("shard2", "shard10"), Ordering::Less);
    assert_eq!(natural_cmp("shard010", "shard9"), Ordering::Greater);
    assert_eq!(natural_cmp("a", "a1"), Ordering::Less);
    let mut names = vec!["shard10", "main", "shard2", "eu-west", "shard1"];
    names.sort_by(|a, b| shard_order(a, b));
    assert_eq!(names, ["main", "eu-west", "shard1", "shard2", "shard10"]);
}

#[test]
fn seed_stack_has_main_and_three_shards_with_their_nodes() {
    let view = shards(&seed_stack(now()), now());
    let names: Vec<&str> = view.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["main", "shard1", "shard2", "shard3"]);
    let main = &view[0];
    let ctls: Vec<&str> = main.controllers.iter().map(|c| c.controller.as_str()).collect();
    assert_eq!(
        ctls,
        ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"]
    );
    assert_eq!(main.selector.as_deref(), Some("!sharding.fluxcd.io/key"));
    assert_eq!(view[2].selector.as_deref(), Some("sharding.fluxcd.io/key=shard2"));
    assert_eq!(*view[2].nodes, ["shardwatch-worker2"]);
    assert!(view.iter().all(|s| s.health == Health::Healthy), "{view:#?}");
    let k2 = &view[2].controllers[1];
    assert_eq!(k2.deployment, "kustomize-controller-shard2");
    assert_eq!(k2.pods.len(), 1);
    assert_eq!(k2.leader.as_deref(), Some(k2.pods[0].name.as_str()));
    assert_eq!(k2.leader_age_secs, Some(2));
}

#[test]
fn any_number_of_shards_in_natural_order() {
    let names: Vec<String> = (1..=12).map(|i| format!("shard{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let view = shards(&flux_stack(now(), &refs, &[]), now());
    assert_eq!(view.len(), 13);
    assert_eq!(view[2].name, "shard2");
    assert_eq!(view[10].name, "shard10");
    // No worker for them: every shard pod is Pending and every shard is Down.
    assert!(view[1..].iter().all(|s| s.health == Health::Down));
    assert_eq!(view[0].health, Health::Healthy);
}

#[test]
fn leader_is_matched_by_holder_pod_not_by_lease_name_alone() {
    let model = seed_stack(now());
    let view = shards(&model, now());
    let leaders: Vec<String> =
        view.iter().flat_map(|s| &s.controllers).filter_map(|c| c.leader.clone()).collect();
    assert_eq!(leaders.len(), 13, "every controller has its own leader");
    for c in view.iter().flat_map(|s| &s.controllers) {
        assert!(c.leader.as_deref().is_some_and(|l| l.starts_with(&c.deployment)), "{c:?}");
    }
}

#[test]
fn leaderless_controller_is_degraded_when_leases_exist() {
    let mut model = seed_stack(now());
    let name = lease_name("helm-controller", Some("sharding.fluxcd.io/key=shard3"));
    change(&mut model, Change::Deleted(ObjectId::Lease(name)));
    let view = shards(&model, now());
    let h3 = &view[3].controllers[2];
    assert_eq!((h3.leader.as_ref(), h3.health), (None, Health::Degraded));
    assert_eq!(h3.reason.as_deref(), Some("no leader"));
    assert_eq!(view[3].health, Health::Degraded);
    // With no Leases at all (leader election off, or not visible) nobody is blamed.
    let mut bare = seed_stack(now());
    change(&mut bare, Change::Listed(ResourceKind::Lease, vec![]));
    assert!(shards(&bare, now()).iter().all(|s| s.health == Health::Healthy));
}

#[test]
fn expired_leader_renewal_is_degraded_and_reported_with_its_age() {
    let mut model = seed_stack(now());
    let name = lease_name("source-controller", Some("sharding.fluxcd.io/key=shard1"));
    let mut lease = model.leases[&name].clone();
    lease.renewed = Some(ago(now(), 50));
    put(&mut model, lease);
    let c = &shards(&model, now())[1].controllers[0];
    assert_eq!((c.leader_age_secs, c.health), (Some(50), Health::Degraded));
    assert_eq!(c.reason.as_deref(), Some("leader lease not renewed for 50s"));
}

#[test]
fn a_lease_still_held_by_a_vanished_pod_is_attributed_to_its_deployment() {
    let mut model = seed_stack(now());
    let view = shards(&model, now());
    let old = view[1].controllers[1].pods[0].name.clone();
    change(&mut model, Change::Deleted(ObjectId::Pod(NS.into(), old.clone())));
    let c = &shards(&model, now())[1].controllers[1];
    assert_eq!(c.leader.as_deref(), Some(old.as_str()));
    assert!(c.pods.is_empty());
}

#[test]
fn replicas_decide_down_and_degraded_and_scaled_to_zero_is_down() {
    let mut model = seed_stack(now());
    let mut d = model.deployments["kustomize-controller-shard1"].clone();
    d.desired = 2;
    put(&mut model, d.clone());
    assert_eq!(shards(&model, now())[1].controllers[1].health, Health::Degraded);
    put(&mut model, Deployment { desired: 0, ready: 0, available: 0, ..d });
    let view = shards(&model, now());
    assert_eq!(view[1].controllers[1].health, Health::Down);
    assert_eq!(view[1].health, Health::Down, "worst controller wins");
}

#[test]
fn restarts_are_summed_over_pods() {
    let mut model = seed_stack(now());
    let pod = model.pods.values().find(|p| p.app.as_deref() == Some("helm-controller")).cloned();
    let Some(pod) = pod else { panic!("fixture has a helm-controller pod") };
    put(&mut model, crate::model::objects::Pod { restarts: 3, ..pod.clone() });
    let dep = model.deployments["helm-controller"].clone();
    put(&mut model, crate::model::objects::Pod { restarts: 2, ..pod_of(&dep, WORKERS[0], ago(now(), 10)) });
    let c = &shards(&model, now())[0].controllers[2];
    assert_eq!((c.pods.len(), c.restarts), (2, 5));
}

#[test]
fn unknown_until_deployments_are_live() {
    let mut model = seed_stack(now());
    change(&mut model, Change::Watch(ResourceKind::Deployment, WatchState::Syncing));
    let view = shards(&model, now());
    assert!(view.iter().all(|s| s.health == Health::Unknown));
}
