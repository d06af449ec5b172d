//! The incremental views always equal a from-scratch computation, after any sequence of
//! events: adds, status flips, dependsOn edits, deletes, relists, controllers going down,
//! watch states, with the clock moving between refreshes.

use proptest::prelude::*;

use super::super::event::{Change, ClusterEvent, Object, ObjectId, ResourceKind, WatchState};
use super::super::fixture::*;
use super::super::objects::{FluxKey, FluxKind, FluxObject, Time};
use super::super::snapshot::Snapshot;
use super::super::store::Model;
use super::super::views::Views;
use super::now;

const NAMES: usize = 8;
const SHARDS: [Option<&str>; 4] = [None, Some("shard1"), Some("shard2"), Some("shard4")];

/// One step of a random history, in plain numbers so proptest can shrink it.
#[derive(Debug, Clone)]
enum Step {
    /// Put Kustomization `name` (or a HelmRelease / GitRepository) with a state and deps.
    Put { kind: u8, name: usize, shard: usize, state: u8, deps: Vec<usize> },
    /// Delete it.
    Delete { kind: u8, name: usize },
    /// Relist every Kustomization as it stands, minus one.
    Relist { drop: usize },
    /// Scale a shard's kustomize-controller to 0 or 1 ready replicas.
    Controller { shard: usize, ready: bool },
    /// The Kustomization watch is lost or live again.
    Watch { lost: bool },
    /// Refresh the views, `secs` later than the last step.
    Refresh { secs: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..3, 0..NAMES, 0..SHARDS.len(), 0u8..7, proptest::collection::vec(0..NAMES + 2, 0..3))
            .prop_map(|(kind, name, shard, state, deps)| Step::Put { kind, name, shard, state, deps }),
        1 => (0u8..3, 0..NAMES).prop_map(|(kind, name)| Step::Delete { kind, name }),
        1 => (0..NAMES).prop_map(|drop| Step::Relist { drop }),
        1 => (0..3usize, any::<bool>()).prop_map(|(shard, ready)| Step::Controller { shard, ready }),
        1 => any::<bool>().prop_map(|lost| Step::Watch { lost }),
        3 => (0i64..900).prop_map(|secs| Step::Refresh { secs }),
    ]
}

fn kind(k: u8) -> FluxKind {
    match k {
        0 => FluxKind::Kustomization,
        1 => FluxKind::HelmRelease,
        _ => FluxKind::GitRepository,
    }
}

fn object(k: u8, name: usize, shard: usize, state: u8, deps: &[usize], at: Time) -> FluxObject {
    // Names past NAMES are dependencies that never exist.
    let names: Vec<String> = deps.iter().map(|d| format!("o{d}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let shard = SHARDS[shard];
    let obj = match kind(k) {
        FluxKind::Kustomization => with_source(
            kustomization(NS, &format!("o{name}"), shard, &names),
            &format!("GitRepository/{NS}/o{}", name % 3),
        ),
        FluxKind::HelmRelease => helm_release(NS, &format!("o{name}"), shard, &names),
        kind => flux_object(kind, NS, &format!("o{name}"), shard),
    };
    let obj = FluxObject { created: Some(ago(at, 3600)), ..obj };
    match state {
        0 => with_ready(obj, ago(at, 120)),
        1 => with_failed(obj, "BuildFailed", "kustomize build failed", ago(at, 30)),
        2 => with_waiting(obj, ago(at, 700)),
        3 => with_progressing(obj, ago(at, 5)),
        4 => with_suspended(with_ready(obj, ago(at, 100))),
        5 => with_stale(with_ready(obj, ago(at, 60))),
        _ => obj,
    }
}

fn run(steps: &[Step]) -> Result<(), TestCaseError> {
    let mut at = now();
    let mut model: Model = seed_stack(at);
    let mut views = Views::new();
    let check = |model: &mut Model, views: &mut Views, at: Time| -> Result<(), TestCaseError> {
        let mut incremental = views.refresh(model, at);
        incremental.stamp(at);
        let scratch = Snapshot::of(model, at);
        prop_assert_eq!(incremental, scratch);
        Ok(())
    };
    check(&mut model, &mut views, at)?;
    for s in steps {
        let change = match s {
            Step::Put { kind, name, shard, state, deps } => {
                Change::Applied(Object::Flux(object(*kind, *name, *shard, *state, deps, at)))
            }
            Step::Delete { kind: k, name } => Change::Deleted(ObjectId::Flux(FluxKey {
                kind: kind(*k),
                namespace: NS.into(),
                name: format!("o{name}"),
            })),
            Step::Relist { drop } => {
                let keep: Vec<Object> = model
                    .flux
                    .values()
                    .filter(|o| o.key.kind == FluxKind::Kustomization && o.key.name != format!("o{drop}"))
                    .cloned()
                    .map(Object::Flux)
                    .collect();
                Change::Listed(ResourceKind::Flux(FluxKind::Kustomization), keep)
            }
            Step::Controller { shard, ready } => {
                let shard = ["shard1", "shard2", "shard3"][*shard];
                let dep = with_replicas(controller("kustomize-controller", Some(shard)), u32::from(*ready));
                Change::Applied(Object::Deployment(dep))
            }
            Step::Watch { lost } => {
                let state = if *lost {
                    WatchState::Lost { since: at, error: "connection refused".into() }
                } else {
                    WatchState::Live
                };
                Change::Watch(ResourceKind::Flux(FluxKind::Kustomization), state)
            }
            Step::Refresh { secs } => {
                at += chrono::Duration::seconds(*secs);
                views.tick();
                check(&mut model, &mut views, at)?;
                continue;
            }
        };
        model.apply(ClusterEvent { at, change });
    }
    check(&mut model, &mut views, at)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn incremental_views_equal_a_fresh_computation(steps in proptest::collection::vec(step(), 1..40)) {
        run(&steps)?;
    }
}

#[test]
fn a_status_change_redoes_the_chain_above_it_only() {
    // ks0 <- ks1 <- ks2: ks0 failing blocks the chain; Ready again unblocks it.
    let at = now();
    let mut model = seed_stack(at);
    for (i, deps) in [(0, vec![]), (1, vec![0]), (2, vec![1])] {
        let mut o = object(0, i, 1, 2, &deps, at);
        if i == 0 {
            o = object(0, 0, 1, 1, &[], at);
        }
        model.apply(applied(at, o));
    }
    let mut views = Views::new();
    let before = views.refresh(&mut model, at);
    let node =
        |s: &Snapshot, n: &str| s.dependencies.nodes.iter().find(|g| g.key.name == n).cloned().unwrap();
    assert_eq!(
        node(&before, "o2").root_cause.as_ref().and_then(|c| c.key.clone()).map(|k| k.name),
        Some("o0".into())
    );
    model.apply(applied(at, object(0, 0, 1, 0, &[], at)));
    let after = views.refresh(&mut model, at);
    assert_eq!(
        node(&after, "o2").root_cause.as_ref().and_then(|c| c.key.clone()).map(|k| k.name),
        Some("o1".into())
    );
    // Rows nothing reaches are shared with the previous snapshot, not copied.
    let untouched =
        |s: &Snapshot| s.dependencies.nodes.iter().find(|g| g.key.name == "flux-system").cloned().unwrap();
    assert!(std::sync::Arc::ptr_eq(&untouched(&before), &untouched(&after)));
}
