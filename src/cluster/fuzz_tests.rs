//! Bad input, property-tested: arbitrary API objects of every watched kind (missing fields,
//! wrong types, huge lists, hostile unicode) go through the trim functions, then arbitrary
//! event orders (delete before add, duplicate adds, stale copies re-applied, relists that
//! drop objects, watch errors) into the model. Nothing panics, the incremental views equal
//! a from-scratch `Snapshot::of`, memory stays bounded (an empty relist empties the store,
//! the log and the shared-string table keep their caps).
//!
//! Runs `SHARDWATCH_FUZZ_CASES` cases (256 by default; the README's long run sets more).

use chrono::TimeZone;
use k8s_openapi::api::apps::v1::Deployment as KDeployment;
use k8s_openapi::api::coordination::v1::Lease as KLease;
use k8s_openapi::api::core::v1::{Node as KNode, Pod as KPod};
use k8s_openapi::api::events::v1::Event as KEvent;
use kube::api::DynamicObject;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::cluster::trim;
use crate::model::event::{Change, ClusterEvent, Object, ObjectId, ResourceKind, WatchState};
use crate::model::objects::{FluxKind, Time};
use crate::model::snapshot::Snapshot;
use crate::model::store::{EVENTS_PER_OBJECT, Model, ModelConfig};
use crate::model::views::Views;

const LABEL: &str = "sharding.fluxcd.io/key";

/// Cases per run: 256 in the suite, more on demand.
fn cases() -> u32 {
    std::env::var("SHARDWATCH_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

/// Strings a hostile or broken cluster can hold: empty, plausible, terminal escapes,
/// control and right-to-left characters, wide characters, very long, arbitrary unicode.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[a-z0-9][a-z0-9-]{0,6}",
        1 => Just(String::new()),
        1 => Just("\u{1b}[2J\u{1b}]0;pwned\u{7}\u{0}\r".to_string()),
        1 => Just("\u{202e}gnp.exe\u{200d}".to_string()),
        1 => Just("界🦀".repeat(50)),
        1 => (1000usize..20_000).prop_map(|n| "x".repeat(n)),
        2 => any::<String>(),
    ]
    .boxed()
}

/// A few names, so adds, deletes and duplicates of the same object collide; sometimes junk.
fn name() -> BoxedStrategy<String> {
    prop_oneof![8 => prop::sample::select(vec!["a", "b", "flux-system", "kustomize-controller-shard1"]).prop_map(str::to_string), 1 => text()].boxed()
}

/// Any JSON value, nested a little.
fn junk() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(text(), inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Mostly a well-typed value, sometimes anything at all, sometimes absent (Null is dropped).
fn or_junk(good: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop_oneof![6 => good, 1 => junk(), 1 => Just(Value::Null)].boxed()
}

fn time() -> BoxedStrategy<Value> {
    or_junk(
        (0i64..2_000_000_000)
            .prop_map(|s| json!(chrono::DateTime::from_timestamp(s, 0).unwrap_or_default().to_rfc3339()))
            .boxed(),
    )
}

/// A list that is usually short and sometimes huge.
fn list(item: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop_oneof![8 => vec(item.clone(), 0..4), 1 => vec(item, 500..2000)].prop_map(Value::Array).boxed()
}

/// Drops the Null fields, as an API object simply lacks them.
fn object(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(fields.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_string(), v)).collect())
}

fn labels() -> BoxedStrategy<Value> {
    let key = prop_oneof![Just(LABEL.to_string()), Just("team".to_string()), text()];
    or_junk(btree_map(key, text().prop_map(Value::from), 0..4).prop_map(|m| json!(m)).boxed())
}

fn metadata(namespaced: bool) -> BoxedStrategy<Value> {
    (name(), name(), labels(), or_junk(any::<i64>().prop_map(Value::from).boxed()), time(), labels())
        .prop_map(move |(n, ns, labels, generation, created, annotations)| {
            object(vec![
                ("name", json!(n)),
                ("namespace", if namespaced { json!(ns) } else { Value::Null }),
                ("labels", labels),
                ("annotations", annotations),
                ("generation", generation),
                ("creationTimestamp", created),
            ])
        })
        .boxed()
}

fn condition() -> BoxedStrategy<Value> {
    let type_ = prop::sample::select(vec!["Ready", "Reconciling", "Stalled", "Healthy", "Released"]);
    let status = prop::sample::select(vec!["True", "False", "Unknown", "maybe"]);
    or_junk(
        (type_, status, text(), text(), time())
            .prop_map(|(t, s, r, m, at)| {
                object(vec![
                    ("type", json!(t)),
                    ("status", json!(s)),
                    ("reason", json!(r)),
                    ("message", json!(m)),
                    ("lastTransitionTime", at),
                ])
            })
            .boxed(),
    )
}

fn reference() -> BoxedStrategy<Value> {
    let kind = prop_oneof![
        prop::sample::select(FluxKind::ALL.to_vec()).prop_map(|k| k.as_str().to_string()),
        text()
    ];
    or_junk(
        (kind, name(), prop::option::of(name()))
            .prop_map(|(k, n, ns)| {
                object(vec![("kind", json!(k)), ("name", json!(n)), ("namespace", json!(ns))])
            })
            .boxed(),
    )
}

fn flux_json(kind: FluxKind) -> BoxedStrategy<Value> {
    let dep = or_junk(
        (name(), prop::option::of(name()))
            .prop_map(|(n, ns)| object(vec![("name", json!(n)), ("namespace", json!(ns))]))
            .boxed(),
    );
    let spec = (
        reference(),
        reference(),
        reference(),
        list(dep),
        or_junk(any::<bool>().prop_map(Value::from).boxed()),
        text(),
        text(),
    )
        .prop_map(|(source, chart, chart_ref, deps, suspend, type_, target)| {
            object(vec![
                ("sourceRef", source),
                ("chart", json!({ "spec": { "sourceRef": chart } })),
                ("chartRef", chart_ref),
                ("dependsOn", deps),
                ("suspend", suspend),
                ("type", json!(type_)),
                ("targetNamespace", json!(target)),
                ("releaseName", json!(type_)),
            ])
        });
    let status =
        (list(condition()), or_junk(any::<i64>().prop_map(Value::from).boxed()), text(), junk(), text())
            .prop_map(|(conditions, observed, revision, history, handled)| {
                object(vec![
                    ("conditions", conditions),
                    ("observedGeneration", observed),
                    ("lastAppliedRevision", json!(revision)),
                    ("artifact", json!({ "revision": revision })),
                    ("history", history),
                    ("lastHandledReconcileAt", json!(handled)),
                ])
            });
    (metadata(true), or_junk(spec.boxed()), or_junk(status.boxed()))
        .prop_map(move |(m, spec, status)| {
            object(vec![
                ("apiVersion", json!(kind.api_version())),
                ("kind", json!(kind.as_str())),
                ("metadata", m),
                ("spec", spec),
                ("status", status),
            ])
        })
        .boxed()
}

fn deployment_json() -> BoxedStrategy<Value> {
    let selector = prop_oneof![
        Just(format!("{LABEL}=shard1")),
        Just(format!("!{LABEL}")),
        Just("team in (a,b),!legacy".to_string()),
        Just("team notin (a".to_string()),
        text(),
    ];
    let count = || or_junk((-3i64..5).prop_map(Value::from).boxed());
    (metadata(true), selector, count(), count(), vec(text(), 0..3))
        .prop_map(|(m, sel, replicas, ready, values)| {
            json!({
                "metadata": m,
                "spec": {
                    "replicas": replicas,
                    "selector": {},
                    "template": { "spec": {
                        "containers": [{ "name": "manager", "args": [format!("--watch-label-selector={sel}")] }],
                        "affinity": { "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [{ "matchExpressions": [{ "key": LABEL, "operator": "In", "values": values }] }]
                        } } }
                    } }
                },
                "status": { "readyReplicas": ready, "availableReplicas": ready, "updatedReplicas": replicas }
            })
        })
        .boxed()
}

fn pod_json() -> BoxedStrategy<Value> {
    (metadata(true), text(), prop::sample::select(vec!["Pending", "Running", "Failed", "Unknown"]), list(condition()), -5i64..5, text(), text())
        .prop_map(|(m, node, phase, conditions, restarts, reason, message)| {
            json!({
                "metadata": m,
                "spec": { "nodeName": node, "containers": [] },
                "status": {
                    "phase": phase,
                    "conditions": conditions,
                    "containerStatuses": [{ "name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": restarts,
                        "state": { "waiting": { "reason": reason, "message": message } } }]
                }
            })
        })
        .boxed()
}

fn node_json() -> BoxedStrategy<Value> {
    (metadata(false), list(condition()), any::<bool>(), vec((text(), text(), text()), 0..3))
        .prop_map(|(m, conditions, unschedulable, taints)| {
            let taints: Vec<Value> = taints.into_iter().map(|(k, v, e)| json!({ "key": k, "value": v, "effect": e })).collect();
            json!({ "metadata": m, "spec": { "unschedulable": unschedulable, "taints": taints }, "status": { "conditions": conditions } })
        })
        .boxed()
}

fn lease_json() -> BoxedStrategy<Value> {
    (metadata(true), text(), time(), or_junk((-5i64..100).prop_map(Value::from).boxed()))
        .prop_map(|(m, holder, renewed, secs)| {
            json!({ "metadata": m, "spec": object(vec![("holderIdentity", json!(holder)), ("renewTime", renewed), ("leaseDurationSeconds", secs)]) })
        })
        .boxed()
}

fn event_json() -> BoxedStrategy<Value> {
    (metadata(true), text(), text(), text(), reference(), time(), -3i64..5)
        .prop_map(|(m, type_, reason, note, regarding, at, count)| {
            object(vec![
                ("metadata", m),
                ("eventTime", at.clone()),
                ("type", json!(type_)),
                ("reason", json!(reason)),
                ("note", json!(note)),
                ("regarding", regarding),
                ("series", json!({ "count": count, "lastObservedTime": at })),
                ("deprecatedCount", json!(count)),
            ])
        })
        .boxed()
}

/// An API object of some watched kind, as raw JSON.
fn raw() -> BoxedStrategy<(u8, Value)> {
    let flux = prop::sample::select((0u8..7).collect::<Vec<_>>())
        .prop_flat_map(|k| flux_json(FluxKind::ALL[k as usize]).prop_map(move |v| (k, v)));
    prop_oneof![
        6 => flux,
        1 => deployment_json().prop_map(|v| (7, v)),
        1 => pod_json().prop_map(|v| (8, v)),
        1 => node_json().prop_map(|v| (9, v)),
        1 => lease_json().prop_map(|v| (10, v)),
        1 => event_json().prop_map(|v| (11, v)),
    ]
    .boxed()
}

/// Decodes as the watcher would (an object that does not decode is an error the watcher
/// reports, not an object) and trims.
fn trimmed(kind: u8, v: &Value) -> Option<Object> {
    let json = v.clone();
    Some(match kind {
        0..=6 => {
            let o: DynamicObject = serde_json::from_value(json).ok()?;
            Object::Flux(trim::flux(FluxKind::ALL[kind as usize], &o, LABEL))
        }
        7 => Object::Deployment(trim::deployment(&serde_json::from_value::<KDeployment>(json).ok()?, LABEL)),
        8 => {
            let p: KPod = serde_json::from_value(json).ok()?;
            // A pod is both a controller pod and, when Pending, a pending pod.
            if p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending") {
                Object::PendingPod(trim::pending_pod(&p))
            } else {
                Object::Pod(trim::pod(&p))
            }
        }
        9 => Object::Node(trim::node(&serde_json::from_value::<KNode>(json).ok()?)),
        10 => Object::Lease(trim::lease(&serde_json::from_value::<KLease>(json).ok()?)),
        _ => Object::Event(trim::event(&serde_json::from_value::<KEvent>(json).ok()?)),
    })
}

fn id(o: &Object) -> ObjectId {
    match o {
        Object::Node(n) => ObjectId::Node(n.name.clone()),
        Object::Pod(p) => ObjectId::Pod(p.namespace.clone(), p.name.clone()),
        Object::Deployment(d) => ObjectId::Deployment(d.namespace.clone(), d.name.clone()),
        Object::Lease(l) => ObjectId::Lease(l.name.clone()),
        Object::Flux(f) => ObjectId::Flux(f.key.clone()),
        Object::Event(e) => ObjectId::Event(e.namespace.clone(), e.name.clone()),
        Object::PendingPod(p) => ObjectId::PendingPod(p.namespace.clone(), p.name.clone()),
    }
}

/// One event of a random history.
#[derive(Debug, Clone)]
enum Step {
    /// Apply a new object (or a newer copy of one with the same name).
    Put(u8, Value),
    /// Apply again an object seen before: a duplicate add, or a stale copy after a newer one.
    Again(usize),
    /// Delete an object seen before (maybe already deleted), or one never added.
    Delete(usize),
    DeleteUnknown(u8, Value),
    /// Relist the kind of an object seen before with what the store holds, minus some.
    Relist(usize, u8),
    /// A watch of some kind changes state (lost, forbidden, not installed, syncing, live).
    Watch(usize, u8),
    /// Refresh the views.
    Refresh(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => raw().prop_map(|(k, v)| Step::Put(k, v)),
        2 => any::<usize>().prop_map(Step::Again),
        2 => any::<usize>().prop_map(Step::Delete),
        1 => raw().prop_map(|(k, v)| Step::DeleteUnknown(k, v)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, m)| Step::Relist(i, m)),
        1 => (any::<usize>(), 0u8..5).prop_map(|(i, s)| Step::Watch(i, s)),
        2 => (0i64..600).prop_map(Step::Refresh),
    ]
}

fn t0() -> Time {
    chrono::Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).single().unwrap_or_default()
}

/// What the store holds of `kind`, as objects.
fn held(model: &Model, kind: ResourceKind) -> Vec<Object> {
    match kind {
        ResourceKind::Node => model.nodes.values().cloned().map(Object::Node).collect(),
        ResourceKind::Pod => model.pods.values().cloned().map(Object::Pod).collect(),
        ResourceKind::Deployment => model.deployments.values().cloned().map(Object::Deployment).collect(),
        ResourceKind::Lease => model.leases.values().cloned().map(Object::Lease).collect(),
        ResourceKind::Event => model.kube_events.values().cloned().map(Object::Event).collect(),
        ResourceKind::PendingPod => model.pending_pods.values().cloned().map(Object::PendingPod).collect(),
        ResourceKind::Flux(k) => {
            model.flux.values().filter(|o| o.key.kind == k).cloned().map(Object::Flux).collect()
        }
    }
}

fn run(steps: &[Step]) -> Result<(), TestCaseError> {
    let mut at = t0();
    let mut model = Model::new(ModelConfig { log_capacity: 50, ..ModelConfig::default() });
    let mut views = Views::new();
    for kind in ResourceKind::all() {
        model.apply(ClusterEvent { at, change: Change::Listed(kind, Vec::new()) });
    }
    let mut seen: Vec<Object> = Vec::new();
    let check = |model: &mut Model, views: &mut Views, at: Time| -> Result<(), TestCaseError> {
        let mut incremental = views.refresh(model, at);
        incremental.stamp(at);
        prop_assert_eq!(incremental, Snapshot::of(model, at));
        prop_assert!(model.log.len() <= 50);
        prop_assert!(model.events_by_regarding.values().all(|ids| ids.len() <= EVENTS_PER_OBJECT));
        Ok(())
    };
    for s in steps {
        let pick = |i: usize| (!seen.is_empty()).then(|| seen[i % seen.len()].clone());
        let change = match s {
            Step::Put(k, v) => match trimmed(*k, v) {
                Some(o) => {
                    seen.push(o.clone());
                    Change::Applied(o)
                }
                None => continue,
            },
            Step::Again(i) => match pick(*i) {
                Some(o) => Change::Applied(o),
                None => continue,
            },
            Step::Delete(i) => match pick(*i) {
                Some(o) => Change::Deleted(id(&o)),
                None => continue,
            },
            Step::DeleteUnknown(k, v) => match trimmed(*k, v) {
                Some(o) => Change::Deleted(id(&o)),
                None => continue,
            },
            Step::Relist(i, mask) => match pick(*i) {
                Some(o) => {
                    let kind = o.kind();
                    let keep = held(&model, kind)
                        .into_iter()
                        .enumerate()
                        .filter(|(j, _)| mask >> (j % 8) & 1 == 1)
                        .map(|(_, o)| o)
                        .collect();
                    Change::Listed(kind, keep)
                }
                None => continue,
            },
            Step::Watch(i, state) => match pick(*i) {
                Some(o) => {
                    let state = match state {
                        0 => WatchState::Lost { since: at, error: "connection refused".into() },
                        1 => WatchState::Forbidden("forbidden".into()),
                        2 => WatchState::NotInstalled,
                        3 => WatchState::Syncing,
                        _ => WatchState::Live,
                    };
                    Change::Watch(o.kind(), state)
                }
                None => continue,
            },
            Step::Refresh(secs) => {
                at += chrono::Duration::seconds(*secs);
                views.tick();
                check(&mut model, &mut views, at)?;
                continue;
            }
        };
        model.apply(ClusterEvent { at, change });
    }
    check(&mut model, &mut views, at)?;
    // Relisting every kind empty leaves nothing behind.
    for kind in ResourceKind::all() {
        model.apply(ClusterEvent { at, change: Change::Listed(kind, Vec::new()) });
    }
    prop_assert!(model.flux.is_empty() && model.nodes.is_empty() && model.pods.is_empty());
    prop_assert!(model.deployments.is_empty() && model.leases.is_empty() && model.pending_pods.is_empty());
    prop_assert!(model.kube_events.is_empty() && model.events_by_regarding.is_empty());
    check(&mut model, &mut views, at)?;
    prop_assert!(trim::interned_len() <= trim::INTERNED_MAX, "the shared strings outgrew their cap");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_objects_and_event_orders_never_panic_and_views_stay_exact(steps in vec(step(), 1..30)) {
        run(&steps)?;
    }
}

#[test]
fn the_generator_reaches_every_trim_function() {
    // Objects that do not decode never reach trim: each kind must mostly decode, or the
    // property above would test little.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut made, mut decoded) = ([0u32; 12], [0u32; 12]);
    for _ in 0..600 {
        let (kind, v) = raw().new_tree(&mut runner).expect("a value").current();
        made[kind as usize] += 1;
        decoded[kind as usize] += u32::from(trimmed(kind, &v).is_some());
    }
    for k in 0..12 {
        assert!(decoded[k] * 3 >= made[k], "kind {k}: {} of {} decode", decoded[k], made[k]);
    }
}
