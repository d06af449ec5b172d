//! Odd input never panics: every view is computed from nonsense without a crash.

use super::{now, put};
use crate::model::Snapshot;
use crate::model::fixture::*;
use crate::model::objects::{Condition, Deployment, FluxKind, Lease, Pod};
use crate::model::shards::Health;

#[test]
fn nonsense_objects_yield_views_not_panics() {
    let mut model = seed_stack(now());
    put(
        &mut model,
        Deployment { name: String::new(), watch_label_selector: Some("((,=!".into()), ..Default::default() },
    );
    put(&mut model, Deployment { name: "-".into(), shard_role: Some("shard".into()), ..Default::default() });
    put(
        &mut model,
        Pod {
            name: "ghost".into(),
            app: Some(String::new()),
            node: Some("nowhere".into()),
            ..Default::default()
        },
    );
    put(&mut model, Pod { name: "nobody".into(), phase: "Pending".into(), ..Default::default() });
    put(
        &mut model,
        Lease {
            name: "kustomize-controller-leader-election".into(),
            holder: Some("_".into()),
            ..Default::default()
        },
    );
    put(
        &mut model,
        Lease {
            name: "helm-controller-leader-election-x".into(),
            holder: Some(String::new()),
            renewed: Some(ago(now(), -3600)),
            duration_secs: Some(0),
        },
    );
    let mut weird = kustomization("", "", Some(""), &["/", "", "a/b/c"]);
    weird.generation = -1;
    weird.observed_generation = Some(i64::MAX);
    weird.conditions.push(Condition { type_: "Ready".into(), status: "Maybe".into(), ..Default::default() });
    put(&mut model, weird);
    let mut looped = helm_release("x", "x", None, &["x", "x", "x/x"]);
    looped.conditions.push(Condition {
        type_: "Ready".into(),
        status: "False".into(),
        reason: "DependencyNotReady".into(),
        ..Default::default()
    });
    put(&mut model, looped);
    put(&mut model, flux_object(FluxKind::Bucket, "b", "b", Some("shard1")));

    let snap = Snapshot::of(&model, now());
    // Two self-loops, each once: `x` (three edges to itself) and the nameless one (`""` and `/`).
    let loops: Vec<(&str, usize)> =
        snap.dependencies.cycles.iter().map(|c| (c[0].name.as_ref(), c.len())).collect();
    assert_eq!(loops, [("", 1), ("x", 1)]);
    assert!(snap.placement.nodes.iter().any(|n| n.name == "nowhere"));
    // The empty-named Deployment with no replicas is a controller that is Down.
    assert!(
        snap.shards
            .iter()
            .flat_map(|s| &s.controllers)
            .any(|c| c.deployment.is_empty() && c.health == Health::Down)
    );
    let json = serde_json::to_string(&snap);
    assert!(json.is_ok_and(|j| j.contains("DependencyCycle")));
}
