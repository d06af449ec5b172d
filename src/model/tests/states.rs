//! Every state a Flux object can be in, read from realistic conditions.

use super::now;
use crate::model::fixture::*;
use crate::model::flux_state::{ObjectState, object_state, state_age_secs};
use crate::model::objects::FluxKind;

fn ks() -> crate::model::objects::FluxObject {
    kustomization(NS, "apps", Some("shard1"), &["infra-configs"])
}

#[test]
fn ready_reads_reason_message_and_age() {
    let k = with_ready(ks(), ago(now(), 90));
    let s = object_state(&k);
    assert_eq!(s.state, ObjectState::Ready);
    assert_eq!(s.reason, "ReconciliationSucceeded".into());
    assert_eq!(s.message, format!("Applied revision: {REVISION}").into());
    assert_eq!(state_age_secs(&k, &s, now()), Some(90));
}

#[test]
fn progressing_is_ready_unknown_while_reconciling() {
    let s = object_state(&with_progressing(ks(), now()));
    assert_eq!((s.state, s.reason.as_ref()), (ObjectState::Progressing, "Progressing"));
}

#[test]
fn waiting_is_dependency_not_ready() {
    let s = object_state(&with_waiting(ks(), now()));
    assert_eq!(s.state, ObjectState::Waiting);
    assert_eq!(s.message, "dependency 'flux-system/infra-configs' is not ready".into());
}

#[test]
fn failed_keeps_the_failure_reason_not_the_retry() {
    let k = with_failed(ks(), "BuildFailed", "kustomize build failed: accumulating resources", now());
    let s = object_state(&k);
    assert_eq!((s.state, s.reason.as_ref()), (ObjectState::Failed, "BuildFailed"));
    assert!(k.condition("Reconciling").is_some_and(|c| &*c.reason == "ProgressingWithRetry"));
}

#[test]
fn stalled_is_failed_with_the_stalled_reason() {
    let mut hr =
        with_failed(helm_release("db", "postgres", None, &[]), "UpgradeFailed", "upgrade failed", now());
    hr.conditions.push(crate::model::objects::Condition {
        type_: "Stalled".into(),
        status: "True".into(),
        reason: "RetriesExceeded".into(),
        message: "Failed to upgrade after 1 attempt(s)".into(),
        last_transition: Some(now()),
    });
    let s = object_state(&hr);
    assert_eq!((s.state, s.reason.as_ref()), (ObjectState::Failed, "RetriesExceeded"));
}

#[test]
fn suspended_overrides_a_frozen_ready_true() {
    let k = with_suspended(with_ready(ks(), ago(now(), 3600)));
    assert!(k.condition("Ready").is_some_and(|c| &*c.status == "True"));
    assert_eq!(object_state(&k).state, ObjectState::Suspended);
    // Even a frozen failure reads as Suspended: the controller no longer acts on it.
    let f = with_suspended(with_failed(ks(), "HealthCheckFailed", "timeout", now()));
    assert_eq!(object_state(&f).state, ObjectState::Suspended);
}

#[test]
fn stale_when_the_generation_is_not_observed() {
    let k = with_stale(with_ready(ks(), ago(now(), 60)));
    assert_eq!((k.generation, k.observed_generation), (2, Some(1)));
    assert_eq!(object_state(&k).state, ObjectState::Stale);
}

#[test]
fn a_failing_or_waiting_object_lagging_its_generation_is_not_stale() {
    // kustomize-controller leaves observedGeneration at -1 until a reconcile succeeds.
    let mut waiting =
        with_failed(ks(), "DependencyNotReady", "dependency 'flux-system/a' is not ready", now());
    waiting.observed_generation = Some(-1);
    assert_eq!(object_state(&waiting).state, ObjectState::Waiting);
    let mut failed = with_failed(ks(), "HealthCheckFailed", "timeout waiting for: [...]", now());
    failed.observed_generation = Some(-1);
    assert_eq!(object_state(&failed).state, ObjectState::Failed);
}

#[test]
fn unknown_when_never_reconciled_ages_from_creation() {
    let mut k = ks();
    k.created = Some(ago(now(), 300));
    let s = object_state(&k);
    assert_eq!(s.state, ObjectState::Unknown);
    assert_eq!(state_age_secs(&k, &s, now()), Some(300));
    // Stale needs a status: a new object with a bumped generation is still Unknown.
    assert_eq!(object_state(&with_stale(ks())).state, ObjectState::Unknown);
}

#[test]
fn oci_helm_repository_counts_as_ready_without_conditions() {
    let mut repo = flux_object(FluxKind::HelmRepository, NS, "podinfo", None);
    repo.repo_type = Some("oci".into());
    assert_eq!(object_state(&repo).state, ObjectState::Ready);
    repo.repo_type = Some("default".into());
    assert_eq!(object_state(&repo).state, ObjectState::Unknown);
}

#[test]
fn ready_messages_match_what_each_kind_writes() {
    let repo = with_ready(flux_object(FluxKind::GitRepository, NS, "flux-system", None), now());
    assert_eq!(object_state(&repo).message, format!("stored artifact for revision '{REVISION}'").into());
    let hr = with_ready(helm_release("cert-manager", "cert-manager", None, &[]), now());
    assert_eq!(hr.revision.as_deref(), Some("v1.16.2"));
    assert!(
        object_state(&hr).message.starts_with("Helm install succeeded for release cert-manager/cert-manager")
    );
}
