//! `shardwatch explain` against the local cluster: a Deployment whose required node
//! affinity no node matches (the real scheduler leaves its pod Pending, Unschedulable,
//! and records FailedScheduling), a Kustomization whose status says its health check
//! timed out on that Deployment (written as kustomize-controller writes it), and a
//! dependent Kustomization waiting on it. No Flux controller reconciles the test
//! namespace, so the statuses stay as written.
//! Needs `tests/localcluster/cluster.sh start`.

#[path = "support/flux_stack.rs"]
mod flux_stack;
mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Cluster, wait_until};

const DEADLINE: Duration = Duration::from_secs(120);

/// A Deployment no node of the local cluster can take.
fn never_scheduled(namespace: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: never-scheduled
  namespace: {namespace}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: never-scheduled
  template:
    metadata:
      labels:
        app.kubernetes.io/name: never-scheduled
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - key: shardwatch.dev/no-such-node
                operator: In
                values: [anywhere]
      containers:
      - name: pause
        image: registry.k8s.io/pause:3.10
"
    )
}

fn set_status(cluster: &Cluster, ns: &str, name: &str, status: &str) {
    let args =
        ["-n", ns, "patch", "kustomization", name, "--subresource=status", "--type=merge", "-p", status];
    cluster.kubectl(&args).unwrap_or_else(|e| panic!("writing the status of {name}: {e}"));
}

/// The Pending pod's name once the scheduler has refused it and said so in an Event.
fn refused_pod(cluster: &Cluster, ns: &str) -> Result<String, String> {
    let pods = cluster.get_json(&["-n", ns, "get", "pods", "--field-selector=status.phase=Pending"])?;
    let pod = pods["items"].as_array().and_then(|p| p.first()).ok_or("no Pending pod yet")?;
    let name = pod["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let scheduled = pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "PodScheduled")
        .ok_or("no PodScheduled condition yet")?;
    if scheduled["reason"] != "Unschedulable" {
        return Err(format!("PodScheduled: {scheduled}"));
    }
    let selector = format!("regarding.name={name},reason=FailedScheduling");
    let events =
        cluster.get_json(&["-n", ns, "get", "events.v1.events.k8s.io", "--field-selector", &selector])?;
    if events["items"].as_array().is_none_or(Vec::is_empty) {
        return Err(format!("no FailedScheduling event for {name} yet"));
    }
    Ok(name)
}

fn explain(cluster: &Cluster, ns: &str, target: &str, format: &str) -> (i32, String, String) {
    cluster.shardwatch(&["explain", target, "-o", format, "-n", ns, "--timeout", "60"])
}

#[test]
fn explain_names_the_unschedulable_pod_below_a_failed_health_check() {
    let Some(cluster) = support::cluster() else { return };
    flux_stack::install_flux_crds(&cluster);
    let guard = cluster.namespace("sw-explain");
    let ns = guard.name.as_str();
    cluster.apply(&never_scheduled(ns));
    let pod = wait_until(DEADLINE, "the scheduler to refuse the pod", || refused_pod(&cluster, ns));

    let ks = flux_stack::kustomization;
    let manifests = [
        ks(ns, "demo-stuck", Some("shard3"), &[]),
        ks(ns, "demo-after-stuck", Some("shard3"), &[(ns, "demo-stuck")]),
        ks(ns, "demo-fine", Some("shard3"), &[]),
    ];
    cluster.apply(&manifests.join("---\n"));
    // kustomize-controller's words when `wait: true` times out on the Deployment.
    let health = format!(
        "health check failed after 30.0043s: timeout waiting for: [Deployment/{ns}/never-scheduled status: 'InProgress']"
    );
    set_status(&cluster, ns, "demo-stuck", &flux_stack::status("False", "HealthCheckFailed", &health, None));
    let waiting = format!("dependency '{ns}/demo-stuck' is not ready");
    set_status(
        &cluster,
        ns,
        "demo-after-stuck",
        &flux_stack::status("False", "DependencyNotReady", &waiting, None),
    );
    let rev = "main@sha1:0123456789abcdef0123456789abcdef01234567";
    let applied = format!("Applied revision: {rev}");
    set_status(
        &cluster,
        ns,
        "demo-fine",
        &flux_stack::status("True", "ReconciliationSucceeded", &applied, Some(rev)),
    );

    // JSON: the dependent's chain ends at demo-stuck, whose health check waits for the
    // Deployment, whose pod cannot schedule; the scheduler's Event is attached to it.
    let target = format!("ks/{ns}/demo-after-stuck");
    let (code, out, err) = explain(&cluster, ns, &target, "json");
    let e: Value = serde_json::from_str(&out).unwrap_or_else(|x| panic!("invalid JSON ({x}): {out}\n{err}"));
    assert_eq!(code, 1, "not Ready exits 1: {err}");
    assert_eq!(e["outcome"], "not_ready");
    assert_eq!(e["state"]["state"], "Waiting");
    let chain: Vec<&str> =
        e["chain"].as_array().unwrap().iter().map(|l| l["key"]["name"].as_str().unwrap()).collect();
    assert_eq!(chain, ["demo-after-stuck", "demo-stuck"]);
    assert_eq!(e["root_cause"]["key"]["name"], "demo-stuck");
    assert_eq!(e["root_cause"]["reason"], "HealthCheckFailed");
    let waited = &e["waits_for"][0];
    assert_eq!(
        (waited["kind"].as_str(), waited["name"].as_str()),
        (Some("Deployment"), Some("never-scheduled"))
    );
    assert_eq!(waited["status"], "InProgress");
    let p = &waited["pods"][0];
    assert_eq!(p["name"], pod.as_str());
    assert_eq!(p["reason"], "Unschedulable");
    let message = p["message"].as_str().unwrap_or_default();
    assert!(message.contains("didn't match Pod's node affinity/selector"), "scheduler's message: {message}");
    let reasons: Vec<&str> =
        p["events"].as_array().unwrap().iter().filter_map(|ev| ev["reason"].as_str()).collect();
    assert!(reasons.contains(&"FailedScheduling"), "pod events: {}", p["events"]);
    let cause = e["cause"].as_str().unwrap_or_default();
    assert!(cause.starts_with(&format!("pod {ns}/{pod} Pending: Unschedulable: ")), "cause: {cause}");
    assert_eq!(e["blind"], Value::Array(vec![]), "every watch it needs is live");

    // Text: the same, for people.
    let (code, text, err) = explain(&cluster, ns, &target, "text");
    assert_eq!(code, 1, "{err}");
    assert!(
        text.starts_with(&format!("Kustomization/{ns}/demo-after-stuck: Waiting (DependencyNotReady)")),
        "{text}"
    );
    assert!(text.contains(&format!("\ncause: pod {ns}/{pod} Pending: Unschedulable: ")), "{text}");
    assert!(text.contains(&format!("  -> Kustomization/{ns}/demo-stuck Failed HealthCheckFailed")), "{text}");
    assert!(text.contains(&format!("    pod {ns}/{pod} Pending: Unschedulable: ")), "{text}");
    assert!(text.contains("      event FailedScheduling x"), "{text}");

    // The failed object itself (KIND/NAME in the -n namespace), a Ready one, a missing one.
    let (code, text, _) = explain(&cluster, ns, "Kustomization/demo-stuck", "text");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(&format!("cause: pod {ns}/{pod} Pending: Unschedulable")), "{text}");
    assert!(text.contains("Ready=False HealthCheckFailed"), "{text}");
    let (code, text, _) = explain(&cluster, ns, "ks/demo-fine", "text");
    assert_eq!((code, text.lines().nth(1)), (0, Some("cause: Ready")), "{text}");
    let (code, text, _) = explain(&cluster, ns, "ks/no-such-thing", "text");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("not found"), "{text}");
}
