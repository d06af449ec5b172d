//! The dependsOn graph: depth, missing dependencies, cycles and root causes.

use super::now;
use crate::model::fixture::*;
use crate::model::flux_state::ObjectState;
use crate::model::graph::{DependencyGraph, GraphNode, dependency_graph};
use crate::model::objects::{DependencyRef, FluxKey, FluxKind, FluxObject};

fn graph_of(objects: Vec<FluxObject>) -> DependencyGraph {
    let model = model_from(now(), objects.into_iter().map(Into::into).collect());
    dependency_graph(&model, now())
}

fn node<'a>(g: &'a DependencyGraph, name: &str) -> &'a GraphNode {
    let found = g.nodes.iter().find(|n| &*n.key.name == name);
    found.unwrap_or_else(|| panic!("{name} in graph"))
}

fn ks_key(name: &str) -> FluxKey {
    FluxKey { kind: FluxKind::Kustomization, namespace: NS.into(), name: name.into() }
}

fn ready(o: FluxObject) -> FluxObject {
    with_ready(o, ago(now(), 600))
}

fn waiting(o: FluxObject) -> FluxObject {
    with_waiting(o, ago(now(), 60))
}

#[test]
fn seed_chain_has_depths_and_no_root_causes_when_ready() {
    let g = dependency_graph(&seed_stack(now()), now());
    let order: Vec<(&str, usize)> = g.nodes.iter().map(|n| (n.key.name.as_ref(), n.depth)).collect();
    assert_eq!(
        order,
        [
            ("flux-system", 0),
            ("infra-sources", 0),
            ("cert-manager", 0),
            ("infra-crds", 1),
            ("postgres-operator", 1),
            ("infra-controllers", 2),
            ("infra-configs", 3),
        ]
    );
    assert!(g.nodes.iter().all(|n| n.root_cause.is_none()));
    assert!(g.cycles.is_empty());
}

#[test]
fn cross_namespace_dependency_resolves_within_the_kind() {
    let g = dependency_graph(&seed_stack(now()), now());
    let pg = node(&g, "postgres-operator");
    let cm = FluxKey {
        kind: FluxKind::HelmRelease,
        namespace: "cert-manager".into(),
        name: "cert-manager".into(),
    };
    assert_eq!(pg.depends_on, [cm]);
    assert!(pg.missing.is_empty());
}

#[test]
fn root_cause_down_a_three_deep_chain() {
    let g = graph_of(vec![
        ready(kustomization(NS, "infra-crds", Some("shard2"), &[])),
        with_failed(
            kustomization(NS, "infra-controllers", Some("shard3"), &["infra-crds"]),
            "HealthCheckFailed",
            "health check failed after 5m0s: timeout waiting for: [Deployment/cert-manager/cert-manager-webhook status: 'InProgress']",
            ago(now(), 120),
        ),
        waiting(kustomization(NS, "infra-configs", Some("shard1"), &["infra-controllers"])),
        waiting(kustomization("apps", "apps", None, &["flux-system/infra-configs"])),
    ]);
    for name in ["apps", "infra-configs", "infra-controllers"] {
        let rc = node(&g, name).root_cause.clone();
        let rc = rc.unwrap_or_else(|| panic!("{name} is blocked"));
        assert_eq!(rc.key, Some(ks_key("infra-controllers")), "{name}");
        assert_eq!((rc.state, rc.reason.as_ref()), (ObjectState::Failed, "HealthCheckFailed"));
        assert!(rc.message.contains("cert-manager-webhook"));
    }
    assert_eq!(node(&g, "apps").depth, 3);
    assert_eq!(node(&g, "apps").age_secs, Some(60));
}

#[test]
fn the_first_not_ready_dependency_in_order_is_followed() {
    let g = graph_of(vec![
        ready(kustomization(NS, "a", None, &[])),
        with_progressing(kustomization(NS, "b", None, &[]), now()),
        with_failed(kustomization(NS, "c", None, &[]), "BuildFailed", "kustomize build failed", now()),
        waiting(kustomization(NS, "top", None, &["a", "b", "c"])),
    ]);
    let rc = node(&g, "top").root_cause.clone();
    assert_eq!(rc.map(|r| (r.key, r.state)), Some((Some(ks_key("b")), ObjectState::Progressing)));
}

#[test]
fn a_missing_dependency_is_the_root_cause() {
    let g = graph_of(vec![
        waiting(kustomization(NS, "infra-configs", None, &["infra-controllers"])),
        waiting(kustomization(NS, "apps", None, &["infra-configs"])),
    ]);
    let rc = node(&g, "apps").root_cause.clone();
    let Some(rc) = rc else { panic!("apps is blocked") };
    assert_eq!(rc.key, None);
    assert_eq!(rc.missing, Some(DependencyRef { namespace: NS.into(), name: "infra-controllers".into() }));
    assert_eq!((rc.state, rc.reason.as_ref()), (ObjectState::Unknown, "DependencyNotFound"));
    assert_eq!(rc.message, "dependency 'flux-system/infra-controllers' not found".into());
    assert_eq!(node(&g, "infra-configs").missing.len(), 1);
    assert_eq!(node(&g, "infra-configs").depth, 0, "a missing dependency adds no depth");
}

#[test]
fn a_helm_release_does_not_depend_on_a_kustomization_of_the_same_name() {
    let g = graph_of(vec![
        ready(kustomization(NS, "cert-manager", None, &[])),
        waiting(helm_release(NS, "issuer", None, &["cert-manager"])),
    ]);
    let issuer = node(&g, "issuer");
    assert!(issuer.depends_on.is_empty());
    assert_eq!(issuer.missing.len(), 1);
}

#[test]
fn a_cycle_is_found_once_and_blocks_without_looping() {
    let g = graph_of(vec![
        waiting(kustomization(NS, "a", None, &["c"])),
        waiting(kustomization(NS, "b", None, &["a"])),
        waiting(kustomization(NS, "c", None, &["b"])),
        waiting(kustomization(NS, "d", None, &["c"])),
    ]);
    assert_eq!(g.cycles, [vec![ks_key("a"), ks_key("c"), ks_key("b")]]);
    for name in ["a", "b", "c", "d"] {
        let rc = node(&g, name).root_cause.clone();
        let Some(rc) = rc else { panic!("{name} is blocked") };
        assert_eq!((rc.key, rc.reason.as_ref()), (Some(ks_key("a")), "DependencyCycle"), "{name}");
        assert_eq!(
            rc.message,
            "dependency cycle: flux-system/a -> flux-system/c -> flux-system/b -> flux-system/a".into()
        );
    }
    assert_eq!([node(&g, "a").depth, node(&g, "b").depth, node(&g, "d").depth], [0, 0, 1]);
}

#[test]
fn a_self_loop_is_a_cycle() {
    let g = graph_of(vec![waiting(kustomization(NS, "narcissus", None, &["narcissus"]))]);
    assert_eq!(g.cycles, [vec![ks_key("narcissus")]]);
    let rc = node(&g, "narcissus").root_cause.clone();
    assert_eq!(rc.map(|r| r.reason), Some("DependencyCycle".into()));
}

#[test]
fn a_suspended_dependency_blocks_its_dependents() {
    let g = graph_of(vec![
        with_suspended(ready(kustomization(NS, "infra", None, &[]))),
        waiting(kustomization(NS, "apps", None, &["infra"])),
    ]);
    assert_eq!(node(&g, "infra").root_cause, None, "suspended itself is not blocked");
    let rc = node(&g, "apps").root_cause.clone();
    let rc = rc.map(|r| (r.key, r.state, r.reason));
    assert_eq!(rc, Some((Some(ks_key("infra")), ObjectState::Suspended, "Suspended".into())));
}

#[test]
fn a_failed_or_stale_object_is_its_own_root_cause() {
    let g = graph_of(vec![
        with_failed(kustomization(NS, "broken", None, &[]), "BuildFailed", "accumulating resources", now()),
        with_stale(ready(kustomization(NS, "edited", None, &[]))),
        kustomization(NS, "new", None, &[]),
        ready(flux_object(FluxKind::GitRepository, NS, "flux-system", None)),
    ]);
    let cases = [
        ("broken", ObjectState::Failed, "BuildFailed", "accumulating resources"),
        (
            "edited",
            ObjectState::Stale,
            "GenerationNotObserved",
            "generation 2 not yet observed (status is of generation 1)",
        ),
        ("new", ObjectState::Unknown, "NotReconciled", "no status yet: waiting to be reconciled"),
    ];
    for (name, state, reason, message) in cases {
        let rc = node(&g, name).root_cause.clone();
        let rc = rc.map(|r| (r.key, r.state, r.reason, r.message));
        assert_eq!(rc, Some((Some(ks_key(name)), state, reason.into(), message.into())));
    }
}

#[test]
fn a_long_chain_is_linear_and_does_not_overflow() {
    let n = 20_000;
    let mut objects: Vec<FluxObject> = (0..n)
        .map(|i| {
            let deps: Vec<String> = if i == 0 { vec![] } else { vec![format!("k{}", i - 1)] };
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            waiting(kustomization(NS, &format!("k{i}"), None, &deps))
        })
        .collect();
    objects[0] = with_failed(kustomization(NS, "k0", None, &[]), "ArtifactFailed", "not found", now());
    let g = graph_of(objects);
    let last = node(&g, &format!("k{}", n - 1));
    assert_eq!(last.depth, n - 1);
    assert_eq!(last.root_cause.as_ref().and_then(|r| r.key.clone()), Some(ks_key("k0")));
}

#[test]
fn a_never_reconciled_chain_points_at_its_missing_source() {
    // As `up` leaves things with no --git-url: the Kustomizations exist, their GitRepository does not.
    let g = graph_of(vec![
        with_source(
            kustomization(NS, "infra-sources", Some("shard1"), &[]),
            "GitRepository/flux-system/infra",
        ),
        kustomization(NS, "infra-controllers", Some("shard2"), &["infra-sources"]),
    ]);
    let bottom = node(&g, "infra-sources");
    assert_eq!(bottom.state.state, ObjectState::Unknown);
    let cause = bottom.root_cause.as_ref().expect("an unreconciled object has a root cause");
    assert_eq!(cause.reason, "SourceNotFound".into());
    assert_eq!(
        cause.message,
        "waiting for its source: GitRepository/flux-system/infra does not exist".into()
    );
}

#[test]
fn a_never_reconciled_object_names_its_source_when_that_is_not_ready() {
    let source = flux_object(FluxKind::GitRepository, NS, "infra", Some("shard1"));
    let g = graph_of(vec![
        source,
        with_source(
            kustomization(NS, "infra-sources", Some("shard1"), &[]),
            "GitRepository/flux-system/infra",
        ),
    ]);
    // The source itself is the root cause, in its own words (it has none yet).
    let cause = node(&g, "infra-sources").root_cause.clone().expect("root cause");
    let git = FluxKey { kind: FluxKind::GitRepository, namespace: NS.into(), name: "infra".into() };
    assert_eq!(cause.key, Some(git));
    assert_eq!((cause.state, &*cause.reason), (ObjectState::Unknown, "NotReconciled"));
    assert_eq!(&*cause.message, "no status yet: waiting to be reconciled");
}
