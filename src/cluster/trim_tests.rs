//! The trimmers fed API objects as the API server returns them (tests/fixtures/api/), for
//! every watched kind and Flux API version, including objects missing optional fields.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment as KDeployment;
use k8s_openapi::api::coordination::v1::Lease as KLease;
use k8s_openapi::api::core::v1::{Node as KNode, Pod as KPod};
use k8s_openapi::api::events::v1::Event as KEvent;
use kube::api::DynamicObject;
use serde::de::DeserializeOwned;

use super::*;

const SHARD_LABEL: &str = "sharding.fluxcd.io/key";

/// Reads a recorded API object.
fn fixture<T: DeserializeOwned>(name: &str) -> T {
    let path = format!("{}/tests/fixtures/api/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not a valid object: {e}"))
}

fn at(rfc3339: &str) -> Time {
    chrono::DateTime::parse_from_rfc3339(rfc3339).expect("a time").with_timezone(&chrono::Utc)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn flux_fixture(kind: FluxKind, name: &str) -> FluxObject {
    let object: DynamicObject = fixture(name);
    // The watch reads each kind at the API version the model names; the fixture must match it.
    assert_eq!(
        object.types.as_ref().map(|t| t.api_version.as_str()),
        Some(kind.api_version()),
        "{name} is recorded at the API version shardwatch watches"
    );
    flux(kind, &object, SHARD_LABEL)
}

fn condition(type_: &str, status: &str, reason: &str, message: &str, when: &str) -> Condition {
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        last_transition: Some(at(when)),
    }
}

#[test]
fn a_node_keeps_labels_readiness_cordon_and_taints() {
    let n = node(&fixture::<KNode>("node.json"));
    assert_eq!(
        n,
        Node {
            name: "shardwatch-worker2".into(),
            labels: labels(&[
                ("beta.kubernetes.io/arch", "amd64"),
                ("kubernetes.io/hostname", "shardwatch-worker2"),
                ("sharding.fluxcd.io/key", "shard2"),
                ("type", "kwok"),
            ]),
            // Ready=Unknown: the node controller no longer hears from it.
            ready: None,
            unschedulable: true,
            taints: vec![
                "node.kubernetes.io/unreachable:NoSchedule".into(),
                "dedicated=flux:NoExecute".into(),
                "node.kubernetes.io/unschedulable:NoSchedule".into(),
            ],
        }
    );
}

#[test]
fn a_node_without_labels_status_or_spec_fields_is_still_a_node() {
    let n = node(&fixture::<KNode>("node-bare.json"));
    assert_eq!(n, Node { name: "fresh-node".into(), ..Node::default() });
    assert_eq!(n.ready, None, "no Ready condition: not known, not false");
}

#[test]
fn a_node_ready_condition_true_or_false_is_read() {
    let mut k: KNode = fixture("node.json");
    let conditions = k.status.as_mut().and_then(|s| s.conditions.as_mut()).expect("conditions");
    conditions[1].status = "True".into();
    assert_eq!(node(&k).ready, Some(true));
    k.status.as_mut().and_then(|s| s.conditions.as_mut()).expect("conditions")[1].status = "False".into();
    assert_eq!(node(&k).ready, Some(false));
}

#[test]
fn a_running_controller_pod_keeps_placement_readiness_and_restarts() {
    let p = pod(&fixture::<KPod>("pod.json"));
    assert_eq!(
        p,
        Pod {
            namespace: "flux-system".into(),
            name: "kustomize-controller-shard2-7d9f8b6c4d-x2x7q".into(),
            app: Some("kustomize-controller-shard2".into()),
            node: Some("shardwatch-worker2".into()),
            phase: "Running".into(),
            ready: true,
            restarts: 2,
            unschedulable_message: None,
            terminating: false,
            created: Some(at("2026-11-30T04:20:31Z")),
        }
    );
}

#[test]
fn a_pod_without_status_or_labels_is_unknown_and_not_ready() {
    let p = pod(&fixture::<KPod>("pod-bare.json"));
    assert_eq!(
        p,
        Pod {
            namespace: "flux-system".into(),
            name: "just-created".into(),
            phase: "Unknown".into(),
            ..Pod::default()
        }
    );
}

#[test]
fn a_pod_being_deleted_is_terminating() {
    let p = pod(&fixture::<KPod>("pod-terminating.json"));
    assert!(p.terminating);
    assert!(!p.ready, "Ready=False");
    assert_eq!(p.node.as_deref(), Some("shardwatch-control-plane"));
    assert_eq!(p.restarts, 0);
}

#[test]
fn an_unschedulable_pod_says_why_as_a_pod_and_as_a_pending_pod() {
    let k: KPod = fixture("pod-pending-unschedulable.json");
    let message = "0/4 nodes are available: 4 node(s) didn't match Pod's node affinity/selector. \
                   preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.";
    let p = pod(&k);
    assert_eq!(p.phase, "Pending");
    assert_eq!(p.unschedulable_message.as_deref(), Some(message));
    assert_eq!(p.node, None);
    assert_eq!(
        pending_pod(&k),
        PendingPod {
            namespace: "demo".into(),
            name: "demo-stuck-6b7c8d9f5b-p4q8r".into(),
            // The ReplicaSet's name minus the pod-template-hash: the Deployment health checks name.
            owner: Some(Owner { kind: "Deployment".into(), name: "demo-stuck".into() }),
            node: None,
            unscheduled_reason: Some("Unschedulable".into()),
            unscheduled_message: Some(message.into()),
            waiting: vec![],
            instance: None,
            app_name: None,
            created: Some(at("2026-11-30T05:10:00Z")),
        }
    );
}

#[test]
fn a_pending_pod_whose_image_does_not_pull_names_the_container() {
    let p = pending_pod(&fixture::<KPod>("pod-pending-image.json"));
    assert_eq!(
        p,
        PendingPod {
            namespace: "postgres".into(),
            name: "postgres-operator-0".into(),
            owner: Some(Owner { kind: "StatefulSet".into(), name: "postgres-operator".into() }),
            node: Some("shardwatch-worker".into()),
            unscheduled_reason: None,
            unscheduled_message: None,
            // Init containers first, as they run first.
            waiting: vec![
                ContainerWaiting {
                    container: "migrate".into(),
                    reason: "ImagePullBackOff".into(),
                    message: "Back-off pulling image \"example.invalid/migrate:1\"".into(),
                },
                ContainerWaiting {
                    container: "operator".into(),
                    reason: "PodInitializing".into(),
                    message: String::new(),
                },
            ],
            instance: Some("postgres-operator".into()),
            app_name: Some("postgres-operator".into()),
            created: Some(at("2026-11-30T05:12:00Z")),
        }
    );
}

#[test]
fn a_pending_pod_without_status_labels_or_owner_is_kept() {
    let p = pending_pod(&fixture::<KPod>("pod-bare.json"));
    assert_eq!(
        p,
        PendingPod { namespace: "flux-system".into(), name: "just-created".into(), ..PendingPod::default() }
    );
}

#[test]
fn a_shard_deployment_keeps_its_selector_affinity_and_replica_counts() {
    let d = deployment(&fixture::<KDeployment>("deployment.json"), SHARD_LABEL);
    assert_eq!(
        d,
        Deployment {
            namespace: "flux-system".into(),
            name: "kustomize-controller-shard2".into(),
            component: Some("kustomize-controller".into()),
            flux_version: Some("v2.7.3".into()),
            shard_role: Some("shard".into()),
            watch_label_selector: Some("sharding.fluxcd.io/key=shard2".into()),
            // Only `In` expressions on the shard label: kubernetes.io/os and NotIn are not placement.
            required_node_shards: vec!["shard2".into()],
            preferred_node_shards: vec!["shard3".into()],
            desired: 2,
            ready: 1,
            available: 1,
            updated: 2,
        }
    );
    // Another shard label key sees no shard placement at all.
    let other = deployment(&fixture::<KDeployment>("deployment.json"), "example.com/shard");
    assert!(other.required_node_shards.is_empty() && other.preferred_node_shards.is_empty());
}

#[test]
fn a_deployment_without_replicas_status_or_labels_wants_one_replica() {
    let d = deployment(&fixture::<KDeployment>("deployment-bare.json"), SHARD_LABEL);
    assert_eq!(
        d,
        Deployment {
            namespace: "flux-system".into(),
            name: "notification-controller".into(),
            // The API defaults spec.replicas to 1; a missing value means the same.
            desired: 1,
            ..Deployment::default()
        }
    );
}

#[test]
fn a_lease_keeps_holder_renewal_and_duration() {
    let l = lease(&fixture::<KLease>("lease.json"));
    assert_eq!(
        l,
        Lease {
            name: "kustomize-controller-leader-election-shard2".into(),
            holder: Some(
                "kustomize-controller-shard2-7d9f8b6c4d-x2x7q_0b4c5d6e-7f80-4912-a3b4-c5d6e7f8091a".into()
            ),
            // MicroTime: the microseconds survive.
            renewed: Some(at("2026-11-30T05:12:33.482915Z")),
            duration_secs: Some(35),
        }
    );
}

#[test]
fn a_lease_nobody_holds_has_no_holder() {
    let l = lease(&fixture::<KLease>("lease-bare.json"));
    assert_eq!(l, Lease { name: "helm-controller-leader-election".into(), ..Lease::default() });
}

#[test]
fn an_event_series_counts_and_dates_by_its_last_observation() {
    let e = event(&fixture::<KEvent>("event.json"));
    assert_eq!(
        e,
        KubeEvent {
            namespace: "demo".into(),
            name: "demo-stuck-6b7c8d9f5b-p4q8r.187c5a1e2f3b4c5d".into(),
            time: Some(at("2026-11-30T05:14:30.902113Z")),
            type_: "Warning".into(),
            reason: "FailedScheduling".into(),
            note: "0/4 nodes are available: 4 node(s) didn't match Pod's node affinity/selector. \
                   preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."
                .into(),
            regarding: "Pod/demo/demo-stuck-6b7c8d9f5b-p4q8r".into(),
            count: 7,
        }
    );
}

#[test]
fn an_event_recorded_through_core_v1_uses_the_deprecated_time_and_count() {
    let e = event(&fixture::<KEvent>("event-core.json"));
    assert_eq!(e.time, Some(at("2026-11-30T05:13:31Z")));
    assert_eq!(e.count, 3);
    assert_eq!(e.regarding, "Kustomization/flux-system/infra-controllers");
    assert_eq!(e.reason, "HealthCheckFailed");
}

#[test]
fn an_event_with_nothing_but_a_name_counts_once_and_has_no_time() {
    let e = event(&fixture::<KEvent>("event-bare.json"));
    assert_eq!(
        e,
        KubeEvent {
            namespace: "default".into(),
            name: "orphan.187c5c000000000".into(),
            count: 1,
            ..KubeEvent::default()
        }
    );
}

#[test]
fn a_kustomization_v1_keeps_shard_dependencies_source_and_conditions() {
    let o = flux_fixture(FluxKind::Kustomization, "kustomization.json");
    assert_eq!(
        o,
        FluxObject {
            key: FluxKey {
                kind: FluxKind::Kustomization,
                namespace: "flux-system".into(),
                name: "infra-configs".into(),
            },
            shard: Some("shard3".into()),
            labels: vec![("app.kubernetes.io/managed-by".into(), "shardwatch".into())],
            generation: 4,
            observed_generation: Some(3),
            suspend: false,
            conditions: vec![
                condition(
                    "Ready",
                    "False",
                    "DependencyNotReady",
                    "dependency 'flux-system/infra-controllers' is not ready",
                    "2026-11-30T05:13:31Z",
                ),
                condition(
                    "Healthy",
                    "True",
                    "Succeeded",
                    "Health check passed in 2.01s",
                    "2026-11-30T04:30:12Z"
                ),
            ],
            revision: Some("main@sha1:3929d36f0c2b8e1a7d4c5b6a9e8f7d6c5b4a3928".into()),
            // A dependency without a namespace is in the Kustomization's own.
            depends_on: vec![
                DependencyRef { namespace: "flux-system".into(), name: "infra-controllers".into() },
                DependencyRef { namespace: "policies".into(), name: "cluster-policies".into() },
            ],
            source_ref: Some("GitRepository/flux-system/shardwatch-infra".into()),
            repo_type: None,
            created: Some(at("2026-11-30T04:25:00Z")),
            target_namespace: Some("infra".into()),
            release_name: None,
            // No request annotation: nothing pending, whatever was handled before.
            reconcile: Some(Box::new(ReconcileTokens {
                requested: None,
                handled: Some("2026-11-30T05:00:00Z".into())
            })),
        }
    );
}

#[test]
fn a_kustomization_never_reconciled_has_no_status_and_no_shard() {
    let o = flux_fixture(FluxKind::Kustomization, "kustomization-bare.json");
    assert_eq!(o.shard, None);
    assert_eq!(o.generation, 1);
    assert_eq!(o.observed_generation, None);
    assert!(o.suspend);
    assert!(o.conditions.is_empty());
    assert_eq!(o.revision, None);
    assert!(o.depends_on.is_empty());
    assert_eq!(o.source_ref.as_deref(), Some("OCIRepository/flux-system/apps"));
    assert_eq!(o.target_namespace, None);
}

#[test]
fn a_helmrelease_v2_takes_its_revision_from_the_latest_history_entry() {
    let o = flux_fixture(FluxKind::HelmRelease, "helmrelease.json");
    assert_eq!(&*o.key.namespace, "cert-manager");
    assert_eq!(o.shard.as_deref(), Some("shard1"));
    assert_eq!(o.revision.as_deref(), Some("1.19.1"), "history[0], the current release");
    assert_eq!(o.source_ref.as_deref(), Some("HelmRepository/flux-system/jetstack"));
    assert_eq!(o.release_name.as_deref(), Some("cm"));
    assert_eq!(o.target_namespace.as_deref(), Some("cert-manager"));
    assert_eq!(
        o.depends_on,
        vec![
            DependencyRef { namespace: "monitoring".into(), name: "prometheus-crds".into() },
            DependencyRef { namespace: "cert-manager".into(), name: "namespaces".into() },
        ]
    );
    assert_eq!(o.observed_generation, Some(2));
    assert_eq!(o.condition("Ready").map(|c| c.reason.as_ref()), Some("UpgradeSucceeded"));
    assert_eq!(o.conditions.len(), 2);
}

#[test]
fn a_helmrelease_before_its_first_install_falls_back_to_the_attempted_revision() {
    let o = flux_fixture(FluxKind::HelmRelease, "helmrelease-bare.json");
    assert_eq!(o.revision.as_deref(), Some("6.9.2"));
    // The chart's source in the release's namespace when the reference names none.
    assert_eq!(o.source_ref.as_deref(), Some("HelmRepository/apps/podinfo"));
    assert_eq!(o.observed_generation, Some(-1));
    assert!(o.conditions.is_empty());
    assert_eq!((o.shard, o.release_name, o.target_namespace), (None, None, None));
}

#[test]
fn a_gitrepository_v1_keeps_its_artifact_revision() {
    let o = flux_fixture(FluxKind::GitRepository, "gitrepository.json");
    assert_eq!(o.revision.as_deref(), Some("main@sha1:3929d36f0c2b8e1a7d4c5b6a9e8f7d6c5b4a3928"));
    assert_eq!(o.shard.as_deref(), Some("shard1"));
    assert_eq!(o.condition("Ready").map(|c| c.status.as_ref()), Some("True"));
    assert_eq!(o.source_ref, None, "a source has no source");
    assert!(o.depends_on.is_empty());
    assert_eq!(o.repo_type, None, "only HelmRepositories have a type");
}

#[test]
fn a_gitrepository_without_status_has_no_revision_or_conditions() {
    let o = flux_fixture(FluxKind::GitRepository, "gitrepository-bare.json");
    assert_eq!(
        o,
        FluxObject {
            key: FluxKey {
                kind: FluxKind::GitRepository,
                namespace: "flux-system".into(),
                name: "not-yet-seen".into(),
            },
            shard: None,
            labels: vec![],
            generation: 1,
            observed_generation: None,
            suspend: false,
            conditions: vec![],
            revision: None,
            depends_on: vec![],
            source_ref: None,
            repo_type: None,
            created: Some(at("2026-11-30T05:22:00Z")),
            target_namespace: None,
            release_name: None,
            reconcile: None,
        }
    );
}

#[test]
fn an_ocirepository_keeps_its_digest_revision_and_failing_condition() {
    let o = flux_fixture(FluxKind::OCIRepository, "ocirepository.json");
    assert_eq!(
        o.revision.as_deref(),
        Some("latest@sha256:0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e")
    );
    let ready = o.condition("Ready").expect("Ready");
    assert_eq!((ready.status.as_ref(), ready.reason.as_ref()), ("False", "OCIArtifactPullFailed"));
    assert_eq!(o.condition("Reconciling").map(|c| c.status.as_ref()), Some("True"));
    assert_eq!(o.shard.as_deref(), Some("shard2"));
}

#[test]
fn a_helmrepository_keeps_its_index_revision_and_no_type_when_default() {
    let o = flux_fixture(FluxKind::HelmRepository, "helmrepository.json");
    assert_eq!(
        o.revision.as_deref(),
        Some("sha256:2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a")
    );
    assert_eq!(o.repo_type, None);
    assert_eq!(o.condition("Ready").map(|c| c.status.as_ref()), Some("True"));
}

#[test]
fn an_oci_helmrepository_has_its_type_and_no_conditions() {
    // Flux does not reconcile OCI HelmRepositories into an artifact: no conditions, no revision.
    let o = flux_fixture(FluxKind::HelmRepository, "helmrepository-oci.json");
    assert_eq!(o.repo_type.as_deref(), Some("oci"));
    assert!(o.conditions.is_empty());
    assert_eq!(o.revision, None);
    assert_eq!(o.observed_generation, Some(1));
    assert_eq!(&*o.key.namespace, "apps");
}

#[test]
fn a_helmchart_keeps_its_chart_version_and_source() {
    let o = flux_fixture(FluxKind::HelmChart, "helmchart.json");
    assert_eq!(o.revision.as_deref(), Some("1.19.1"));
    assert_eq!(o.source_ref.as_deref(), Some("HelmRepository/flux-system/jetstack"));
    assert_eq!(o.condition("Ready").map(|c| c.reason.as_ref()), Some("ChartPullSucceeded"));
    assert_eq!(o.shard.as_deref(), Some("shard1"));
}

#[test]
fn a_suspended_bucket_keeps_its_revision() {
    let o = flux_fixture(FluxKind::Bucket, "bucket.json");
    assert!(o.suspend);
    assert_eq!(
        o.revision.as_deref(),
        Some("sha256:4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c")
    );
    assert_eq!(
        o.key,
        FluxKey { kind: FluxKind::Bucket, namespace: "storage".into(), name: "backups".into() }
    );
    assert_eq!(o.shard.as_deref(), Some("shard3"));
}

#[test]
fn every_flux_kind_has_a_recorded_object() {
    // A new kind in FluxKind::ALL needs a fixture here too.
    let recorded = [
        (FluxKind::Kustomization, "kustomization.json"),
        (FluxKind::HelmRelease, "helmrelease.json"),
        (FluxKind::GitRepository, "gitrepository.json"),
        (FluxKind::OCIRepository, "ocirepository.json"),
        (FluxKind::HelmRepository, "helmrepository.json"),
        (FluxKind::HelmChart, "helmchart.json"),
        (FluxKind::Bucket, "bucket.json"),
    ];
    for kind in FluxKind::ALL {
        let (_, name) = recorded.iter().find(|(k, _)| *k == kind).expect("a fixture for every kind");
        assert_eq!(flux_fixture(kind, name).key.kind, kind);
    }
}

#[test]
fn credentials_in_flux_status_messages_and_event_notes_are_redacted_on_arrival() {
    let mut object: DynamicObject = fixture("gitrepository.json");
    let leak = "failed to checkout and determine revision: unable to clone 'https://bot:ghp_s3cr3t@git.example/repo': auth failed";
    object.data["status"]["conditions"][0]["message"] = serde_json::Value::from(leak);
    let trimmed = flux(FluxKind::GitRepository, &object, SHARD_LABEL);
    let message = &trimmed.conditions[0].message;
    assert!(!message.contains("ghp_s3cr3t"), "{message}");
    assert!(message.contains("https://[redacted]@git.example/repo"), "{message}");
    let mut event: KEvent = fixture("event.json");
    event.note = Some("Authorization: Bearer eyJhbGciOi.secret.part".into());
    let note = super::event(&event).note;
    assert!(!note.contains("eyJhbGciOi"), "{note}");
}
