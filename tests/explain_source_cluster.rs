//! `shardwatch explain` names a source that is not Ready as the root cause, in its own words,
//! against the local cluster: a HelmRelease whose HelmChart (as helm-controller names it)
//! and the chart's HelmRepository fail, and a Kustomization whose GitRepository fails.
//! Statuses are written as the controllers write them; no controller reconciles them.
//! Needs `tests/localcluster/cluster.sh start`.

#[path = "support/flux_stack.rs"]
mod flux_stack;
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Cluster, wait_until};

const DEADLINE: Duration = Duration::from_secs(120);
const INDEX: &str =
    "failed to fetch Helm repository index: failed to cache index to temporary file: 404 Not Found";
const GIT: &str = "failed to checkout and determine revision: unable to clone 'https://git.example/infra': authentication required";

fn manifests(ns: &str) -> String {
    format!(
        "apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {{name: podinfo, namespace: {ns}}}
spec: {{url: 'https://charts.example/podinfo', interval: 10m}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata: {{name: {ns}-podinfo, namespace: {ns}}}
spec: {{chart: podinfo, interval: 10m, sourceRef: {{kind: HelmRepository, name: podinfo}}}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: podinfo, namespace: {ns}}}
spec:
  interval: 10m
  chart:
    spec: {{chart: podinfo, sourceRef: {{kind: HelmRepository, name: podinfo}}}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: infra, namespace: {ns}}}
spec: {{url: 'https://git.example/infra', interval: 10m}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: apps, namespace: {ns}}}
spec: {{interval: 10m, path: ./, prune: true, sourceRef: {{kind: GitRepository, name: infra}}}}
"
    )
}

fn failed(cluster: &Cluster, ns: &str, resource: &str, reason: &str, message: &str) {
    let status = json!({ "status": { "observedGeneration": 1, "conditions": [
        { "type": "Ready", "status": "False", "reason": reason, "message": message,
          "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1 }
    ]}});
    let args =
        ["-n", ns, "patch", resource, "--subresource=status", "--type=merge", "-p", &status.to_string()];
    cluster.kubectl(&args).unwrap_or_else(|e| panic!("writing the status of {resource}: {e}"));
}

fn explain(cluster: &Cluster, ns: &str, target: &str, format: &str) -> (i32, String, String) {
    cluster.shardwatch(&["explain", target, "-o", format, "-n", ns, "--timeout", "60"])
}

#[test]
fn explain_names_the_failing_source_below_a_release_and_a_kustomization() {
    let Some(cluster) = support::cluster() else { return };
    flux_stack::install_flux_crds(&cluster);
    let guard = cluster.namespace("sw-srcfail");
    let ns = guard.name.as_str();
    cluster.apply(&manifests(ns));
    failed(&cluster, ns, "helmrepository.source.toolkit.fluxcd.io/podinfo", "IndexationFailed", INDEX);
    let chart = format!("helmchart.source.toolkit.fluxcd.io/{ns}-podinfo");
    failed(&cluster, ns, &chart, "ChartPullError", "chart pull failed: no chart index");
    let hr_msg = format!("HelmChart '{ns}/{ns}-podinfo' is not ready: chart pull failed");
    failed(&cluster, ns, "helmrelease.helm.toolkit.fluxcd.io/podinfo", "ArtifactFailed", &hr_msg);
    failed(&cluster, ns, "gitrepository.source.toolkit.fluxcd.io/infra", "GitOperationFailed", GIT);
    failed(
        &cluster,
        ns,
        "kustomization.kustomize.toolkit.fluxcd.io/apps",
        "ArtifactFailed",
        "Source artifact not found, retrying in 30s",
    );

    // JSON: release → its chart → the chart's repository, whose own reason is the cause.
    let target = format!("hr/{ns}/podinfo");
    let e: Value = wait_until(DEADLINE, "the statuses to be seen", || {
        let (code, out, err) = explain(&cluster, ns, &target, "json");
        let e: Value = serde_json::from_str(&out).map_err(|x| format!("invalid JSON ({x}): {out}\n{err}"))?;
        let settled = e["chain"].as_array().is_some_and(|c| c.len() == 3)
            && e["root_cause"]["reason"] != "NotReconciled";
        if code == 1 && settled { Ok(e) } else { Err(format!("exit {code}: {out}")) }
    });
    let chain: Vec<String> = e["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("{}/{}", l["key"]["kind"].as_str().unwrap(), l["key"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        chain,
        [
            "HelmRelease/podinfo".to_string(),
            format!("HelmChart/{ns}-podinfo"),
            "HelmRepository/podinfo".into()
        ]
    );
    assert_eq!(e["root_cause"]["key"]["kind"], "HelmRepository");
    assert_eq!(e["root_cause"]["reason"], "IndexationFailed");
    assert_eq!(e["root_cause"]["message"], INDEX);

    // Text: the cause line is the repository's, not the release's "not ready".
    let (code, out, err) = explain(&cluster, ns, &target, "text");
    assert_eq!(code, 1, "{err}");
    let cause = format!("HelmRepository/{ns}/podinfo Failed: IndexationFailed: {INDEX}");
    assert!(out.contains(&cause), "no {cause:?} in:\n{out}");

    // A Kustomization's GitRepository, the same way.
    let (code, out, err) = explain(&cluster, ns, &format!("ks/{ns}/apps"), "json");
    let e: Value = serde_json::from_str(&out).unwrap_or_else(|x| panic!("invalid JSON ({x}): {out}\n{err}"));
    assert_eq!(code, 1);
    assert_eq!(e["root_cause"]["key"]["kind"], "GitRepository");
    assert_eq!(
        (e["root_cause"]["reason"].as_str(), e["root_cause"]["message"].as_str()),
        (Some("GitOperationFailed"), Some(GIT))
    );
    assert!(e["cause"].as_str().is_some_and(|c| c.contains("GitOperationFailed")), "{}", e["cause"]);
}
