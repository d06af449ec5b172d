//! Explanations: health-check targets parsed from Flux's messages, the Pending pods and
//! Warning events below them, missing CRDs, HelmRelease releases, honesty about watches
//! that cannot be seen, and the one-line cause.

use super::{change, now, put};
use crate::model::event::{Change, ObjectId, ResourceKind, WatchState};
use crate::model::explain::{MAX_CHAIN, Outcome, explain, health_check_targets, missing_kinds, release_of};
use crate::model::fixture::*;
use crate::model::flux_state::ObjectState;
use crate::model::objects::{ContainerWaiting, FluxKey, FluxKind, FluxObject, KubeEvent, Owner, PendingPod};
use crate::model::snapshot::Snapshot;
use crate::model::store::{EVENTS_PER_OBJECT, Model};

const DEMO_NS: &str = "shardwatch-demo";
const POD: &str = "never-scheduled-6d4f9b7c8-x2k9p";
const AFFINITY: &str = "0/4 nodes are available: 1 node(s) had untolerated taint \
    {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match Pod's node affinity/selector. \
    preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.";
const HEALTH: &str = "health check failed after 30.004512378s: timeout waiting for: \
    [Deployment/shardwatch-demo/never-scheduled status: 'InProgress']";

fn ks_key(name: &str) -> FluxKey {
    FluxKey { kind: FluxKind::Kustomization, namespace: NS.into(), name: name.into() }
}

fn unschedulable_pod() -> PendingPod {
    PendingPod {
        namespace: DEMO_NS.into(),
        name: POD.into(),
        owner: Some(Owner { kind: "Deployment".into(), name: "never-scheduled".into() }),
        unscheduled_reason: Some("Unschedulable".into()),
        unscheduled_message: Some(AFFINITY.into()),
        app_name: Some("never-scheduled".into()),
        created: Some(ago(now(), 90)),
        ..PendingPod::default()
    }
}

fn warning(name: &str, regarding: &str, reason: &str, note: &str, secs_ago: i64, count: u32) -> KubeEvent {
    KubeEvent {
        namespace: DEMO_NS.into(),
        name: name.into(),
        time: Some(ago(now(), secs_ago)),
        type_: "Warning".into(),
        reason: reason.into(),
        note: note.into(),
        regarding: regarding.into(),
        count,
    }
}

/// The stuck scenario: demo-stuck failed its health check on a Deployment whose pod cannot
/// schedule; demo-after-stuck waits on it.
fn stuck(extra: Vec<crate::model::Object>) -> Model {
    let stuck = with_failed(
        kustomization(NS, "demo-stuck", Some("shard3"), &[]),
        "HealthCheckFailed",
        HEALTH,
        ago(now(), 60),
    );
    let after =
        with_waiting(kustomization(NS, "demo-after-stuck", Some("shard3"), &["demo-stuck"]), ago(now(), 55));
    let mut objects: Vec<crate::model::Object> = vec![
        with_ready(flux_object(FluxKind::GitRepository, NS, "flux-system", None), ago(now(), 600)).into(),
        stuck.into(),
        after.into(),
    ];
    objects.extend(extra);
    model_from(ago(now(), 120), objects)
}

#[test]
fn parses_kustomize_controller_health_check_messages() {
    let t = health_check_targets(HEALTH);
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].kind.as_str(), t[0].namespace.as_str(), t[0].name.as_str()),
        ("Deployment", DEMO_NS, "never-scheduled")
    );
    assert_eq!((t[0].status.as_str(), t[0].detail.as_str()), ("InProgress", ""));

    // Several targets, a cluster-scoped one, and a kstatus error after the status.
    let many = "failed early due to stalled resources: [Deployment/cert-manager/cert-manager-webhook \
                status: 'Failed': Progress deadline exceeded, CustomResourceDefinition/clusterissuers.cert-manager.io \
                status: 'InProgress', StatefulSet/db/pg status: 'InProgress']";
    let t = health_check_targets(many);
    let ids: Vec<String> = t.iter().map(|w| w.id()).collect();
    assert_eq!(
        ids,
        [
            "Deployment/cert-manager/cert-manager-webhook",
            "CustomResourceDefinition/clusterissuers.cert-manager.io",
            "StatefulSet/db/pg"
        ]
    );
    assert_eq!((t[0].status.as_str(), t[0].detail.as_str()), ("Failed", "Progress deadline exceeded"));
    assert_eq!(t[2].detail, "");
    assert!(health_check_targets("Applied revision: main@sha1:4f3c").is_empty());
}

#[test]
fn parses_missing_kinds_from_apply_errors() {
    let m = "ClusterIssuer/letsencrypt dry-run failed: no matches for kind \"ClusterIssuer\" in version \
             \"cert-manager.io/v1\"\nCertificate/x dry-run failed: no matches for kind \"Certificate\" in version \
             \"cert-manager.io/v1\"";
    let kinds: Vec<(String, String)> = missing_kinds(m).into_iter().map(|k| (k.kind, k.version)).collect();
    assert_eq!(
        kinds,
        [
            ("ClusterIssuer".to_string(), "cert-manager.io/v1".to_string()),
            ("Certificate".to_string(), "cert-manager.io/v1".to_string())
        ]
    );
}

#[test]
fn a_waiting_dependent_is_explained_down_to_the_unschedulable_pod() {
    let pod_event = warning("ev1", &format!("Pod/{DEMO_NS}/{POD}"), "FailedScheduling", AFFINITY, 30, 3);
    let own_event = KubeEvent {
        namespace: NS.into(),
        ..warning("ev2", "Kustomization/flux-system/demo-stuck", "HealthCheckFailed", HEALTH, 60, 1)
    };
    let m = stuck(vec![unschedulable_pod().into(), pod_event.into(), own_event.into()]);
    let e = explain(&m, &ks_key("demo-after-stuck"), now());

    assert_eq!(e.outcome, Outcome::NotReady);
    assert_eq!(e.state.as_ref().map(|s| s.state), Some(ObjectState::Waiting));
    let chain: Vec<(&str, ObjectState)> =
        e.chain.iter().map(|l| (l.key.name.as_ref(), l.state.state)).collect();
    assert_eq!(chain, [("demo-after-stuck", ObjectState::Waiting), ("demo-stuck", ObjectState::Failed)]);
    assert_eq!(e.root_cause.as_ref().and_then(|r| r.key.clone()), Some(ks_key("demo-stuck")));
    assert_eq!(e.waits_for_of, Some(ks_key("demo-stuck")));
    assert_eq!(e.cause, format!("pod {DEMO_NS}/{POD} Pending: Unschedulable: {AFFINITY}"));

    let target = &e.waits_for[0];
    assert_eq!(target.id(), "Deployment/shardwatch-demo/never-scheduled");
    assert_eq!(target.pods.len(), 1);
    let pod = &target.pods[0];
    assert_eq!((pod.reason.as_str(), pod.age_secs), ("Unschedulable", Some(90)));
    assert_eq!(pod.events.len(), 1);
    assert_eq!((pod.events[0].reason.as_str(), pod.events[0].count), ("FailedScheduling", 3));
    assert!(e.blind.is_empty(), "{:?}", e.blind);

    // The failed object itself: its own conditions and events, the same cause.
    let f = explain(&m, &ks_key("demo-stuck"), now());
    assert_eq!(f.chain.len(), 1);
    assert_eq!(f.cause, e.cause);
    let ready = f.conditions.iter().find(|c| c.type_ == "Ready").expect("Ready condition");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str(), ready.age_secs),
        ("False", "HealthCheckFailed", Some(60))
    );
    assert_eq!(f.events.iter().map(|e| e.reason.as_str()).collect::<Vec<_>>(), ["HealthCheckFailed"]);
}

#[test]
fn an_image_that_never_pulls_is_the_cause() {
    let pod = PendingPod {
        node: Some("shardwatch-worker3".into()),
        unscheduled_reason: None,
        unscheduled_message: None,
        waiting: vec![ContainerWaiting {
            container: "pause".into(),
            reason: "ImagePullBackOff".into(),
            message: "Back-off pulling image \"registry.invalid/pause:nope\"".into(),
        }],
        ..unschedulable_pod()
    };
    let rs_event = warning(
        "ev3",
        "ReplicaSet/shardwatch-demo/never-scheduled-6d4f9b7c8",
        "FailedCreate",
        "quota",
        10,
        1,
    );
    let e = explain(&stuck(vec![pod.into(), rs_event.into()]), &ks_key("demo-stuck"), now());
    assert_eq!(
        e.cause,
        format!(
            "pod {DEMO_NS}/{POD} Pending: ImagePullBackOff: container pause: Back-off pulling image \"registry.invalid/pause:nope\""
        )
    );
    // The Deployment's ReplicaSet events are the Deployment's too.
    assert_eq!(e.waits_for[0].events.iter().map(|e| e.reason.as_str()).collect::<Vec<_>>(), ["FailedCreate"]);
}

#[test]
fn a_missing_crd_is_named() {
    let msg = "ClusterIssuer/letsencrypt dry-run failed: no matches for kind \"ClusterIssuer\" in version \"cert-manager.io/v1\"";
    let k = with_failed(
        kustomization(NS, "infra-configs", None, &[]),
        "ReconciliationFailed",
        msg,
        ago(now(), 30),
    );
    let m = model_from(now(), vec![k.into()]);
    let e = explain(&m, &ks_key("infra-configs"), now());
    assert_eq!(e.missing_kinds.len(), 1);
    assert_eq!(e.cause, "CRD not installed or not established: no kind ClusterIssuer in cert-manager.io/v1");

    // A CRD the health check waits for, not yet Established.
    let msg = "health check failed after 1m0s: timeout waiting for: \
               [CustomResourceDefinition/clusterissuers.cert-manager.io status: 'InProgress']";
    let k = with_failed(kustomization(NS, "infra-crds", None, &[]), "HealthCheckFailed", msg, ago(now(), 30));
    let e = explain(&model_from(now(), vec![k.into()]), &ks_key("infra-crds"), now());
    assert_eq!(e.cause, "CRD clusterissuers.cert-manager.io not established (status: InProgress)");
}

#[test]
fn a_helm_release_is_explained_by_its_release_pods() {
    let msg = "Helm install failed for release cert-manager/cert-manager with chart cert-manager@v1.16.2: \
               context deadline exceeded";
    let hr = with_failed(
        helm_release("cert-manager", "cert-manager", Some("shard2"), &[]),
        "InstallFailed",
        msg,
        ago(now(), 20),
    );
    let pod = PendingPod {
        namespace: "cert-manager".into(),
        name: "cert-manager-webhook-78cb4cf989-w7rjq".into(),
        owner: Some(Owner { kind: "Deployment".into(), name: "cert-manager-webhook".into() }),
        instance: Some("cert-manager".into()),
        ..unschedulable_pod()
    };
    let other = PendingPod { name: "unrelated".into(), instance: Some("other".into()), ..pod.clone() };
    let m = model_from(now(), vec![hr.clone().into(), pod.into(), other.into()]);
    let e = explain(&m, &hr.key, now());
    assert_eq!(e.waits_for.len(), 1);
    assert_eq!(e.waits_for[0].kind, "HelmRelease");
    assert_eq!(
        e.waits_for[0].pods.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["cert-manager-webhook-78cb4cf989-w7rjq"]
    );
    assert!(
        e.cause.starts_with("pod cert-manager/cert-manager-webhook-78cb4cf989-w7rjq Pending: Unschedulable"),
        "{}",
        e.cause
    );

    // helm-controller's release naming.
    let mut named = hr.clone();
    assert_eq!(release_of(&named), ("cert-manager".to_string(), "cert-manager".to_string()));
    named.target_namespace = Some("tools".into());
    assert_eq!(release_of(&named), ("tools".to_string(), "tools-cert-manager".to_string()));
    named.release_name = Some("cm".into());
    assert_eq!(release_of(&named), ("tools".to_string(), "cm".to_string()));
}

#[test]
fn forbidden_pod_and_event_watches_are_said_not_hidden() {
    let mut m = stuck(vec![]);
    change(
        &mut m,
        Change::Watch(ResourceKind::PendingPod, WatchState::Forbidden("pods is forbidden".into())),
    );
    let since = ago(now(), 5);
    change(
        &mut m,
        Change::Watch(ResourceKind::Event, WatchState::Lost { since, error: "connection reset".into() }),
    );
    let e = explain(&m, &ks_key("demo-after-stuck"), now());
    assert_eq!(
        e.blind,
        [
            "pending pods: forbidden (no permission to list them): cannot see why the workloads it waits for do not run",
            "events: connection lost (connection reset), data may be stale: no events to show"
        ]
    );
    // With no pod to blame, the waited-for Deployment is the deepest cause.
    assert_eq!(e.cause, "Deployment/shardwatch-demo/never-scheduled is InProgress");
    assert_eq!(e.outcome, Outcome::NotReady);
}

#[test]
fn ready_missing_and_unlistable_objects() {
    let m = seed_stack(now());
    let e = explain(&m, &ks_key("infra-configs"), now());
    assert_eq!((e.outcome, e.cause.as_str()), (Outcome::Ready, "Ready"));
    assert!(e.waits_for.is_empty() && e.root_cause.is_none());

    let e = explain(&m, &ks_key("nope"), now());
    assert_eq!((e.found, e.outcome), (false, Outcome::Unknown));
    assert_eq!(e.cause, "Kustomization/flux-system/nope not found");

    let mut m = Model::default();
    change(
        &mut m,
        Change::Watch(ResourceKind::Flux(FluxKind::Kustomization), WatchState::Forbidden("no".into())),
    );
    let e = explain(&m, &ks_key("demo"), now());
    assert_eq!(e.outcome, Outcome::Unknown);
    assert!(e.cause.contains("kustomizations: forbidden"), "{}", e.cause);
}

#[test]
fn missing_dependency_and_long_chains() {
    let lonely = with_waiting(kustomization(NS, "apps", None, &["gone"]), ago(now(), 10));
    let e = explain(&model_from(now(), vec![lonely.into()]), &ks_key("apps"), now());
    assert_eq!(e.cause, "dependency flux-system/gone does not exist");

    let n = MAX_CHAIN + 5;
    let objects: Vec<FluxObject> = (0..n)
        .map(|i| {
            let deps: Vec<String> = if i + 1 < n { vec![format!("k{}", i + 1)] } else { Vec::new() };
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            let k = kustomization(NS, &format!("k{i}"), None, &deps);
            if i + 1 < n {
                with_waiting(k, ago(now(), 10))
            } else {
                with_failed(k, "BuildFailed", "kustomize build failed", ago(now(), 10))
            }
        })
        .collect();
    let e = explain(&model_from(now(), objects.into_iter().map(Into::into).collect()), &ks_key("k0"), now());
    assert_eq!((e.chain.len(), e.chain_truncated), (MAX_CHAIN, true));
    // The graph still names the real root cause below the cut.
    assert!(
        e.cause.starts_with(&format!("Kustomization/flux-system/k{} Failed: BuildFailed", n - 1)),
        "{}",
        e.cause
    );
}

#[test]
fn events_are_capped_per_object_and_pending_pods_follow_the_watch() {
    let mut m = stuck(vec![]);
    let regarding = format!("Pod/{DEMO_NS}/{POD}");
    for i in 0..(EVENTS_PER_OBJECT + 5) {
        put(&mut m, warning(&format!("e{i:02}"), &regarding, "FailedScheduling", "x", 100 - i as i64, 1));
    }
    put(&mut m, warning("other", "Pod/shardwatch-demo/other", "BackOff", "y", 1, 1));
    assert_eq!(m.events_by_regarding[&regarding].len(), EVENTS_PER_OBJECT);
    assert_eq!(m.kube_events.len(), EVENTS_PER_OBJECT + 1);
    // The oldest went first.
    assert!(!m.kube_events.contains_key(&(DEMO_NS.to_string(), "e00".to_string())));
    assert!(m.kube_events.contains_key(&(DEMO_NS.to_string(), format!("e{:02}", EVENTS_PER_OBJECT + 4))));
    change(&mut m, Change::Deleted(ObjectId::Event(DEMO_NS.into(), "other".into())));
    assert!(!m.events_by_regarding.contains_key("Pod/shardwatch-demo/other"));

    put(&mut m, unschedulable_pod());
    assert_eq!(m.pending_pods.len(), 1);
    // The pod is scheduled and runs: it no longer matches status.phase=Pending, the API deletes it.
    change(&mut m, Change::Deleted(ObjectId::PendingPod(DEMO_NS.into(), POD.into())));
    assert!(m.pending_pods.is_empty());
    let e = explain(&m, &ks_key("demo-stuck"), now());
    assert!(e.waits_for[0].pods.is_empty());
}

#[test]
fn snapshot_explains_every_blocked_object_and_keeps_json_version_1() {
    let m = stuck(vec![unschedulable_pod().into()]);
    let snap = Snapshot::of(&m, now());
    let keys: Vec<&str> = snap.explanations.iter().map(|e| e.key.name.as_ref()).collect();
    assert_eq!(keys, ["demo-after-stuck", "demo-stuck"]);
    let json = serde_json::to_value(&snap).expect("json");
    assert_eq!(json["version"], 1);
    assert_eq!(json["watches"]["pending pods"], "Live");
    let first = &json["explanations"][0];
    assert_eq!(first["outcome"], "not_ready");
    assert_eq!(first["waits_for"][0]["pods"][0]["reason"], "Unschedulable");
    assert_eq!(first["conditions"][0]["type"], "Ready");

    // The demo: infra-controllers' webhook pod is the cause of infra-configs and apps waiting.
    let demo = Snapshot::of(&demo_model(now()), now());
    let apps = demo.explanations.iter().find(|e| &*e.key.name == "apps").expect("apps explained");
    assert!(apps.cause.starts_with("pod cert-manager/cert-manager-webhook-"), "{}", apps.cause);
    assert_eq!(apps.chain.len(), 3);
}
