//! Kubernetes Warning events about Flux objects, in whatever namespace those live, reach
//! the Events panel (the snapshot's `events`, what the panel draws): those already there
//! when shardwatch starts and those that come while it runs.
//! Needs `tests/localcluster/cluster.sh start`.

#[path = "support/follow.rs"]
mod follow;
mod support;

use std::time::Duration;

use follow::Follow;
use serde_json::Value;
use support::Cluster;

const DEADLINE: Duration = Duration::from_secs(60);

/// A Warning event about `Kustomization/ns/name`, as a Flux controller records it.
fn warning(cluster: &Cluster, ns: &str, event: &str, name: &str, reason: &str, note: &str) {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let yaml = format!(
        r#"apiVersion: events.k8s.io/v1
kind: Event
metadata:
  name: {event}
  namespace: {ns}
eventTime: "{now}"
reportingController: kustomize-controller
reportingInstance: kustomize-controller-shard2-test
action: Reconcile
type: Warning
reason: {reason}
note: "{note}"
regarding:
  apiVersion: kustomize.toolkit.fluxcd.io/v1
  kind: Kustomization
  namespace: {ns}
  name: {name}
"#
    );
    cluster.kubectl_stdin(&["create", "-f", "-"], &yaml).expect("create the event");
}

/// The log entry about `subject` in a snapshot's `events`, if any.
fn entry<'a>(snap: &'a Value, subject: &str) -> Option<&'a Value> {
    snap["events"].as_array()?.iter().find(|e| e["subject"] == subject)
}

#[test]
fn warning_events_about_flux_objects_in_any_namespace_reach_the_events_panel() {
    let Some(cluster) = support::cluster() else { return };
    let ns = cluster.namespace("apps-events");
    let subject = |name: &str| format!("Kustomization/{}/{name}", ns.name);

    // Already there when shardwatch starts: listed, then shown.
    warning(
        &cluster,
        &ns.name,
        "old.1",
        "before",
        "BuildFailed",
        "kustomize build failed: accumulating resources",
    );
    let (code, out, err) = cluster.shardwatch(&["snapshot"]);
    assert_eq!(code, 0, "{err}");
    let snap: Value = serde_json::from_str(&out).expect("snapshot JSON");
    let e = entry(&snap, &subject("before")).unwrap_or_else(|| panic!("no entry: {}", snap["events"]));
    assert_eq!(e["severity"], "Warning", "{e}");
    assert_eq!(e["message"], "BuildFailed: kustomize build failed: accumulating resources", "{e}");

    // Arriving while it runs.
    let mut follow = Follow::start(&cluster, &[]);
    follow.wait_for(DEADLINE, "the first snapshot", |s| {
        entry(s, &subject("before")).map(|_| ()).ok_or("not yet".to_string())
    });
    warning(
        &cluster,
        &ns.name,
        "new.1",
        "after",
        "HealthCheckFailed",
        "timeout waiting for: [Deployment/x/y status: 'InProgress']",
    );
    let e = follow.wait_for(DEADLINE, "the new warning", |s| {
        entry(s, &subject("after")).cloned().ok_or_else(|| "not yet".to_string())
    });
    assert!(
        e["message"].as_str().unwrap_or_default().starts_with("HealthCheckFailed: timeout waiting for"),
        "{e}"
    );
    // Listed once: the old warning is not repeated by the new one's arrival.
    let count = follow.last["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["subject"] == subject("before"))
        .count();
    assert_eq!(count, 1, "{}", follow.last["events"]);
}
