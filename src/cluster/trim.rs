//! Trimming API objects down to the model's plain structs, before anything is kept.
//!
//! Only what the model reads survives: no managedFields, no specs beyond the few
//! fields that verdicts need. This bounds memory per object on large clusters.

use std::collections::BTreeSet;
use std::sync::Mutex;

use k8s_openapi::api::apps::v1::Deployment as KDeployment;
use k8s_openapi::api::coordination::v1::Lease as KLease;
use k8s_openapi::api::core::v1::{Node as KNode, NodeSelectorRequirement, Pod as KPod};
use k8s_openapi::api::events::v1::Event as KEvent;
use kube::api::DynamicObject;
use serde_json::Value;

use crate::model::objects::{
    Condition, ContainerWaiting, DependencyRef, Deployment, FluxKey, FluxKind, FluxObject, KubeEvent, Lease,
    Node, Owner, PendingPod, Pod, ReconcileTokens, Text, Time,
};

/// Trims a Node.
pub fn node(n: &KNode) -> Node {
    let status = n.status.as_ref();
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .and_then(|c| match c.status.as_str() {
            "True" => Some(true),
            "False" => Some(false),
            _ => None,
        });
    let spec = n.spec.as_ref();
    Node {
        name: n.metadata.name.clone().unwrap_or_default(),
        labels: n.metadata.labels.clone().unwrap_or_default().into_iter().collect(),
        ready,
        unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
        taints: spec
            .and_then(|s| s.taints.as_ref())
            .map(|ts| {
                ts.iter()
                    .map(|t| match &t.value {
                        Some(v) if !v.is_empty() => format!("{}={}:{}", t.key, v, t.effect),
                        _ => format!("{}:{}", t.key, t.effect),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Trims a Pod.
pub fn pod(p: &KPod) -> Pod {
    let status = p.status.as_ref();
    let conditions = status.and_then(|s| s.conditions.as_ref());
    let cond = |t: &str| conditions.and_then(|cs| cs.iter().find(|c| c.type_ == t));
    let unschedulable_message =
        cond("PodScheduled").filter(|c| c.status == "False").map(|c| c.message.clone().unwrap_or_default());
    Pod {
        namespace: p.metadata.namespace.clone().unwrap_or_default(),
        name: p.metadata.name.clone().unwrap_or_default(),
        app: p.metadata.labels.as_ref().and_then(|l| l.get("app").cloned()),
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
        phase: status.and_then(|s| s.phase.clone()).unwrap_or_else(|| "Unknown".into()),
        ready: cond("Ready").is_some_and(|c| c.status == "True"),
        restarts: status
            .and_then(|s| s.container_statuses.as_ref())
            .map(|cs| cs.iter().map(|c| c.restart_count.max(0) as u32).sum())
            .unwrap_or(0),
        unschedulable_message,
        terminating: p.metadata.deletion_timestamp.is_some(),
        created: p.metadata.creation_timestamp.as_ref().map(|t| to_time(&t.0)),
    }
}

/// Trims a Pending pod of any namespace to why it is Pending and what owns it.
pub fn pending_pod(p: &KPod) -> PendingPod {
    let labels = p.metadata.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k).cloned());
    let owner = p.metadata.owner_references.as_ref().and_then(|refs| {
        let r = refs.iter().find(|r| r.controller == Some(true)).or_else(|| refs.first())?;
        // A Deployment's ReplicaSet is `<deployment>-<pod-template-hash>`; health checks name the Deployment.
        let deployment = (r.kind == "ReplicaSet")
            .then(|| label("pod-template-hash"))
            .flatten()
            .and_then(|hash| r.name.strip_suffix(&format!("-{hash}")).map(str::to_string));
        Some(match deployment {
            Some(name) => Owner { kind: "Deployment".into(), name },
            None => Owner { kind: r.kind.clone(), name: r.name.clone() },
        })
    });
    let status = p.status.as_ref();
    let scheduled = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
        .filter(|c| c.status == "False");
    let waiting = status
        .into_iter()
        .flat_map(|s| {
            let init = s.init_container_statuses.iter().flatten();
            init.chain(s.container_statuses.iter().flatten())
        })
        .filter_map(|c| {
            let w = c.state.as_ref()?.waiting.as_ref()?;
            Some(ContainerWaiting {
                container: c.name.clone(),
                reason: w.reason.clone().unwrap_or_default(),
                message: w.message.clone().unwrap_or_default(),
            })
        })
        .collect();
    PendingPod {
        namespace: p.metadata.namespace.clone().unwrap_or_default(),
        name: p.metadata.name.clone().unwrap_or_default(),
        owner,
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
        unscheduled_reason: scheduled.map(|c| c.reason.clone().unwrap_or_else(|| "Unschedulable".into())),
        unscheduled_message: scheduled.map(|c| c.message.clone().unwrap_or_default()),
        waiting,
        instance: label("app.kubernetes.io/instance"),
        app_name: label("app.kubernetes.io/name"),
        created: p.metadata.creation_timestamp.as_ref().map(|t| to_time(&t.0)),
    }
}

/// Trims a Deployment, keeping the shard-relevant bits of its pod template.
pub fn deployment(d: &KDeployment, shard_label: &str) -> Deployment {
    let spec = d.spec.as_ref();
    let pod_spec = spec.and_then(|s| s.template.spec.as_ref());
    let watch_label_selector =
        pod_spec.and_then(|ps| ps.containers.first()).and_then(|c| c.args.as_ref()).and_then(|args| {
            args.iter().find_map(|a| a.strip_prefix("--watch-label-selector=").map(str::to_string))
        });
    let affinity = pod_spec.and_then(|ps| ps.affinity.as_ref()).and_then(|a| a.node_affinity.as_ref());
    let shard_values = |reqs: &[NodeSelectorRequirement]| -> Vec<String> {
        reqs.iter()
            .filter(|r| r.key == shard_label && r.operator == "In")
            .flat_map(|r| r.values.clone().unwrap_or_default())
            .collect()
    };
    let required = affinity
        .and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())
        .map(|sel| {
            sel.node_selector_terms
                .iter()
                .flat_map(|t| shard_values(t.match_expressions.as_deref().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let preferred = affinity
        .and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref())
        .map(|terms| {
            terms
                .iter()
                .flat_map(|t| shard_values(t.preference.match_expressions.as_deref().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let status = d.status.as_ref();
    let count = |v: Option<i32>| v.unwrap_or(0).max(0) as u32;
    Deployment {
        namespace: d.metadata.namespace.clone().unwrap_or_default(),
        name: d.metadata.name.clone().unwrap_or_default(),
        component: d.metadata.labels.as_ref().and_then(|l| l.get("app.kubernetes.io/component").cloned()),
        flux_version: d.metadata.labels.as_ref().and_then(|l| l.get("app.kubernetes.io/version").cloned()),
        shard_role: d.metadata.annotations.as_ref().and_then(|a| a.get("sharding.fluxcd.io/role").cloned()),
        watch_label_selector,
        required_node_shards: required,
        preferred_node_shards: preferred,
        desired: count(Some(spec.and_then(|s| s.replicas).unwrap_or(1))),
        ready: count(status.and_then(|s| s.ready_replicas)),
        available: count(status.and_then(|s| s.available_replicas)),
        updated: count(status.and_then(|s| s.updated_replicas)),
    }
}

/// Trims a Lease.
pub fn lease(l: &KLease) -> Lease {
    let spec = l.spec.as_ref();
    Lease {
        name: l.metadata.name.clone().unwrap_or_default(),
        holder: spec.and_then(|s| s.holder_identity.clone()),
        renewed: spec.and_then(|s| s.renew_time.as_ref()).map(|t| to_time(&t.0)),
        duration_secs: spec.and_then(|s| s.lease_duration_seconds).map(|d| d.max(0) as u32),
    }
}

/// Trims an `events.k8s.io/v1` Event.
pub fn event(e: &KEvent) -> KubeEvent {
    let regarding = e
        .regarding
        .as_ref()
        .map(|r| {
            format!(
                "{}/{}/{}",
                r.kind.clone().unwrap_or_default(),
                r.namespace.clone().unwrap_or_default(),
                r.name.clone().unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let time = e
        .series
        .as_ref()
        .map(|s| to_time(&s.last_observed_time.0))
        .or_else(|| e.event_time.as_ref().map(|t| to_time(&t.0)))
        .or_else(|| e.deprecated_last_timestamp.as_ref().map(|t| to_time(&t.0)))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| to_time(&t.0)));
    KubeEvent {
        namespace: e.metadata.namespace.clone().unwrap_or_default(),
        name: e.metadata.name.clone().unwrap_or_default(),
        time,
        type_: e.type_.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        note: crate::redact::redact(e.note.as_deref().unwrap_or_default()),
        regarding,
        count: e
            .series
            .as_ref()
            .map(|s| s.count.max(0) as u32)
            .or(e.deprecated_count.map(|c| c.max(0) as u32))
            .unwrap_or(1),
    }
}

/// Trims a Flux object read as a dynamic object.
pub fn flux(kind: FluxKind, o: &DynamicObject, shard_label: &str) -> FluxObject {
    let namespace = self::namespace(o.metadata.namespace.as_deref());
    let spec = o.data.get("spec").unwrap_or(&Value::Null);
    let status = o.data.get("status").unwrap_or(&Value::Null);
    let str_at = |v: &Value, path: &[&str]| -> Option<String> {
        path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str).map(str::to_string)
    };
    let depends_on = match kind {
        FluxKind::Kustomization | FluxKind::HelmRelease => spec
            .get("dependsOn")
            .and_then(Value::as_array)
            .map(|deps| {
                deps.iter()
                    .filter_map(|d| {
                        let name = d.get("name")?.as_str()?.into();
                        let ns = match d.get("namespace").and_then(Value::as_str) {
                            Some(ns) => self::namespace(Some(ns)),
                            None => namespace.clone(),
                        };
                        Some(DependencyRef { namespace: ns, name })
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let revision = match kind {
        FluxKind::Kustomization => str_at(status, &["lastAppliedRevision"]),
        FluxKind::HelmRelease => status
            .get("history")
            .and_then(Value::as_array)
            .and_then(|h| h.first())
            .and_then(|h| h.get("chartVersion"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| str_at(status, &["lastAttemptedRevision"])),
        _ => str_at(status, &["artifact", "revision"]),
    };
    // A HelmRelease names its chart's source (`spec.chart`) or the chart itself (`spec.chartRef`).
    let source_ref = spec
        .get("sourceRef")
        .or_else(|| spec.pointer("/chart/spec/sourceRef"))
        .or_else(|| spec.get("chartRef"))
        .map(|r| {
            format!(
                "{}/{}/{}",
                r.get("kind").and_then(Value::as_str).unwrap_or_default(),
                r.get("namespace").and_then(Value::as_str).unwrap_or(&namespace),
                r.get("name").and_then(Value::as_str).unwrap_or_default()
            )
        });
    FluxObject {
        key: FluxKey {
            kind,
            namespace: namespace.clone(),
            name: o.metadata.name.as_deref().unwrap_or_default().into(),
        },
        shard: o.metadata.labels.as_ref().and_then(|l| l.get(shard_label).cloned()),
        // Keys repeat across objects (`kustomize.toolkit.fluxcd.io/name`): shared; the map is sorted.
        labels: o
            .metadata
            .labels
            .iter()
            .flatten()
            .filter(|(k, _)| *k != shard_label)
            .map(|(k, v)| (interned(k), Text::from(v.as_str())))
            .collect(),
        generation: o.metadata.generation.unwrap_or(0),
        observed_generation: status.get("observedGeneration").and_then(Value::as_i64),
        suspend: spec.get("suspend").and_then(Value::as_bool).unwrap_or(false),
        conditions: conditions(status),
        revision: revision.map(Text::from),
        depends_on,
        source_ref,
        repo_type: if kind == FluxKind::HelmRepository { str_at(spec, &["type"]) } else { None },
        created: o.metadata.creation_timestamp.as_ref().map(|t| to_time(&t.0)),
        target_namespace: str_at(spec, &["targetNamespace"]).filter(|s| !s.is_empty()),
        release_name: if kind == FluxKind::HelmRelease {
            str_at(spec, &["releaseName"]).filter(|s| !s.is_empty())
        } else {
            None
        },
        reconcile: {
            let requested =
                o.metadata.annotations.as_ref().and_then(|a| a.get(RECONCILE_REQUESTED_AT).cloned());
            let handled = str_at(status, &["lastHandledReconcileAt"]);
            (requested.is_some() || handled.is_some())
                .then(|| Box::new(ReconcileTokens { requested, handled }))
        },
    }
}

/// The annotation `flux reconcile` sets; the controllers reconcile when its value changes.
pub const RECONCILE_REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";

fn conditions(status: &Value) -> Vec<Condition> {
    let Some(list) = status.get("conditions").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|c| {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default();
            Condition {
                type_: interned(s("type")),
                status: interned(s("status")),
                reason: interned(s("reason")),
                // Flux writes its errors here, URLs with credentials included.
                message: crate::redact::redact(s("message")).into(),
                last_transition: c
                    .get("lastTransitionTime")
                    .and_then(Value::as_str)
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&chrono::Utc)),
            }
        })
        .collect()
}

/// k8s-openapi 0.29 carries jiff timestamps; the model speaks chrono.
fn to_time(t: &k8s_openapi::jiff::Timestamp) -> Time {
    chrono::DateTime::from_timestamp(t.as_second(), t.subsec_nanosecond().max(0) as u32).unwrap_or_default()
}

/// An object's namespace, shared (see `interned`).
pub fn namespace(ns: Option<&str>) -> Text {
    interned(ns.unwrap_or_default())
}

/// Namespaces, condition types, statuses and reasons repeat across thousands of objects:
/// each distinct one is stored once and shared by every object that names it. Bounded, so
/// a cluster with unusually many distinct values only stops sharing, never grows this.
pub fn interned(ns: &str) -> Text {
    const MAX: usize = INTERNED_MAX;
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(t) = seen.get(ns) {
        return t.clone();
    }
    let t: Text = ns.into();
    if seen.len() < MAX {
        seen.insert(t.clone());
    }
    t
}

/// How many distinct strings `interned` shares at most.
pub const INTERNED_MAX: usize = 4096;

static SEEN: Mutex<BTreeSet<Text>> = Mutex::new(BTreeSet::new());

/// How many distinct strings are shared now (never more than `INTERNED_MAX`).
pub fn interned_len() -> usize {
    SEEN.lock().unwrap_or_else(|p| p.into_inner()).len()
}

#[cfg(test)]
#[path = "trim_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "fuzz_tests.rs"]
mod fuzz_tests;
