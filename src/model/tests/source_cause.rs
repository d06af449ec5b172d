//! A source that is not Ready is the root cause of what reads it, in its own words: through
//! a Kustomization's sourceRef, a HelmRelease's chart (its HelmChart, then the chart's
//! repository) or chartRef; and `explain` follows the same link.

use super::now;
use crate::model::explain::explain;
use crate::model::fixture::*;
use crate::model::flux_state::ObjectState;
use crate::model::graph::{DependencyGraph, RootCause, dependency_graph};
use crate::model::objects::{FluxKey, FluxKind, FluxObject};
use crate::model::store::Model;

fn key(kind: FluxKind, ns: &str, name: &str) -> FluxKey {
    FluxKey { kind, namespace: ns.into(), name: name.into() }
}

fn model(objects: Vec<FluxObject>) -> Model {
    model_from(now(), objects.into_iter().map(Into::into).collect())
}

fn cause(g: &DependencyGraph, k: &FluxKey) -> RootCause {
    g.node(k).and_then(|n| n.root_cause.clone()).unwrap_or_else(|| panic!("{k} has no root cause"))
}

fn failed(o: FluxObject, reason: &str, message: &str) -> FluxObject {
    with_failed(o, reason, message, ago(now(), 300))
}

fn ready(o: FluxObject) -> FluxObject {
    with_ready(o, ago(now(), 600))
}

const GIT_FAIL: &str = "failed to checkout and determine revision: unable to clone 'https://git.example/infra': authentication required";
const ARTIFACT: &str = "Source artifact not found, retrying in 30s";

#[test]
fn a_failing_gitrepository_is_the_root_cause_of_its_readers_and_their_dependents() {
    let m = model(vec![
        failed(flux_object(FluxKind::GitRepository, NS, "infra", None), "GitOperationFailed", GIT_FAIL),
        failed(
            with_source(kustomization(NS, "base", None, &[]), "GitRepository/flux-system/infra"),
            "ArtifactFailed",
            ARTIFACT,
        ),
        with_waiting(kustomization(NS, "apps", None, &["base"]), ago(now(), 200)),
    ]);
    let g = dependency_graph(&m, now());
    let git = key(FluxKind::GitRepository, NS, "infra");
    for reader in ["base", "apps"] {
        let rc = cause(&g, &key(FluxKind::Kustomization, NS, reader));
        assert_eq!(rc.key.as_ref(), Some(&git), "{reader}");
        assert_eq!(
            (rc.state, &*rc.reason, &*rc.message),
            (ObjectState::Failed, "GitOperationFailed", GIT_FAIL)
        );
    }
    // A Ready source leaves the reader its own cause.
    let m = model(vec![
        ready(flux_object(FluxKind::GitRepository, NS, "infra", None)),
        failed(
            with_source(kustomization(NS, "base", None, &[]), "GitRepository/flux-system/infra"),
            "BuildFailed",
            "kustomize build failed",
        ),
    ]);
    let rc = cause(&dependency_graph(&m, now()), &key(FluxKind::Kustomization, NS, "base"));
    assert_eq!((rc.key.map(|k| k.kind), &*rc.reason), (Some(FluxKind::Kustomization), "BuildFailed"));
}

#[test]
fn every_source_kind_is_a_root_cause() {
    for (kind, reason, message) in [
        (FluxKind::OCIRepository, "OCIArtifactPullFailed", "failed to pull artifact: unauthorized"),
        (FluxKind::Bucket, "BucketOperationFailed", "bucket 'manifests' does not exist"),
        (FluxKind::GitRepository, "GitOperationFailed", GIT_FAIL),
    ] {
        let source = format!("{}/{NS}/src", kind.as_str());
        let m = model(vec![
            failed(flux_object(kind, NS, "src", None), reason, message),
            failed(with_source(kustomization(NS, "k", None, &[]), &source), "ArtifactFailed", ARTIFACT),
        ]);
        let rc = cause(&dependency_graph(&m, now()), &key(FluxKind::Kustomization, NS, "k"));
        assert_eq!(rc.key, Some(key(kind, NS, "src")));
        assert_eq!((&*rc.reason, &*rc.message), (reason, message));
    }
}

fn release(chart_ref: Option<&str>) -> FluxObject {
    let hr = helm_release("apps", "podinfo", None, &[]);
    let source = chart_ref.map_or_else(|| format!("HelmRepository/{NS}/podinfo"), str::to_string);
    failed(with_source(hr, &source), "ArtifactFailed", "HelmChart 'flux-system/apps-podinfo' is not ready")
}

fn chart(state: fn(FluxObject) -> FluxObject) -> FluxObject {
    state(with_source(
        flux_object(FluxKind::HelmChart, NS, "apps-podinfo", None),
        "HelmRepository/flux-system/podinfo",
    ))
}

#[test]
fn a_helmrelease_is_blocked_by_its_chart_then_by_the_charts_repository() {
    let hr = key(FluxKind::HelmRelease, "apps", "podinfo");
    let pull = |o| failed(o, "ChartPullError", "chart \"podinfo\" version \"9.9.9\" not found");
    // The chart fails, its repository is fine: the chart is the cause.
    let m = model(vec![
        ready(flux_object(FluxKind::HelmRepository, NS, "podinfo", None)),
        chart(pull),
        release(None),
    ]);
    let rc = cause(&dependency_graph(&m, now()), &hr);
    assert_eq!((rc.key, &*rc.reason), (Some(key(FluxKind::HelmChart, NS, "apps-podinfo")), "ChartPullError"));
    // The repository fails too: the deepest not-ready source is the cause.
    let index = "failed to fetch Helm repository index: 404 Not Found";
    let m = model(vec![
        failed(flux_object(FluxKind::HelmRepository, NS, "podinfo", None), "IndexationFailed", index),
        chart(pull),
        release(None),
    ]);
    let rc = cause(&dependency_graph(&m, now()), &hr);
    assert_eq!(rc.key, Some(key(FluxKind::HelmRepository, NS, "podinfo")));
    assert_eq!((&*rc.reason, &*rc.message), ("IndexationFailed", index));
    // No HelmChart yet (helm-controller has not made it): the repository directly.
    let m = model(vec![
        failed(flux_object(FluxKind::HelmRepository, NS, "podinfo", None), "IndexationFailed", index),
        release(None),
    ]);
    let rc = cause(&dependency_graph(&m, now()), &hr);
    assert_eq!(rc.key, Some(key(FluxKind::HelmRepository, NS, "podinfo")));
}

#[test]
fn a_chart_ref_names_its_oci_repository_or_helm_chart() {
    let hr = key(FluxKind::HelmRelease, "apps", "podinfo");
    let m = model(vec![
        failed(
            flux_object(FluxKind::OCIRepository, "apps", "podinfo", None),
            "OCIArtifactPullFailed",
            "manifest unknown",
        ),
        release(Some("OCIRepository/apps/podinfo")),
    ]);
    let rc = cause(&dependency_graph(&m, now()), &hr);
    assert_eq!(
        (rc.key, &*rc.message),
        (Some(key(FluxKind::OCIRepository, "apps", "podinfo")), "manifest unknown")
    );
}

#[test]
fn explain_follows_the_source_link_in_text_and_json() {
    let index = "failed to fetch Helm repository index: 404 Not Found";
    let m = model(vec![
        failed(flux_object(FluxKind::HelmRepository, NS, "podinfo", None), "IndexationFailed", index),
        chart(|o| failed(o, "ChartPullError", "no chart")),
        release(None),
    ]);
    let e = explain(&m, &key(FluxKind::HelmRelease, "apps", "podinfo"), now());
    let chain: Vec<String> = e.chain.iter().map(|l| l.key.to_string()).collect();
    assert_eq!(
        chain,
        [
            "HelmRelease/apps/podinfo",
            "HelmChart/flux-system/apps-podinfo",
            "HelmRepository/flux-system/podinfo"
        ]
    );
    assert_eq!(e.cause, format!("HelmRepository/flux-system/podinfo Failed: IndexationFailed: {index}"));
    let json = serde_json::to_value(&e).expect("json");
    assert_eq!(json["root_cause"]["key"]["kind"], "HelmRepository");
    assert_eq!(json["root_cause"]["reason"], "IndexationFailed");
    // A HelmChart is not in the dependency graph, and still names its repository.
    let e = explain(&m, &key(FluxKind::HelmChart, NS, "apps-podinfo"), now());
    assert_eq!(e.root_cause.and_then(|r| r.key), Some(key(FluxKind::HelmRepository, NS, "podinfo")));
}
