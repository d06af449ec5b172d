//! Builds the seed's sharded Flux controllers and Flux objects in a test namespace, as
//! YAML applied with kubectl. Statuses are written through the status subresource, the
//! way Flux's controllers write them (the controllers themselves don't run here).
#![allow(dead_code)] // each test binary uses its own subset

use crate::support::Cluster;

/// Installs Flux's CRDs (from the controllers' Go modules) into the test cluster.
pub fn install_flux_crds(cluster: &Cluster) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/localcluster/flux-crds.sh");
    let out = std::process::Command::new(script)
        .arg(&cluster.kubectl)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .output()
        .expect("run flux-crds.sh");
    assert!(out.status.success(), "flux-crds.sh failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// The sharded controllers.
pub const SHARDED: [&str; 3] = ["source-controller", "kustomize-controller", "helm-controller"];

/// The 13 Deployments of the seed with `shards` shards (3 → 13), pinned like the seed.
pub fn controller_deployments(namespace: &str, shards: &[&str]) -> String {
    let mut docs = Vec::new();
    for c in SHARDED {
        docs.push(deployment(namespace, c, c, Some("!sharding.fluxcd.io/key"), None));
        for s in shards {
            let name = format!("{c}-{s}");
            let selector = format!("sharding.fluxcd.io/key={s}");
            docs.push(deployment(namespace, c, &name, Some(&selector), Some(s)));
        }
    }
    docs.push(deployment(namespace, "notification-controller", "notification-controller", None, None));
    docs.join("---\n")
}

/// One controller Deployment named `name` of `component`, watching `selector`, pinned to `shard`'s nodes.
pub fn deployment(
    namespace: &str,
    component: &str,
    name: &str,
    selector: Option<&str>,
    shard: Option<&str>,
) -> String {
    let annotations =
        if shard.is_some() { "  annotations:\n    sharding.fluxcd.io/role: shard\n" } else { "" };
    let args = selector
        .map(|s| format!("        args:\n        - --watch-label-selector={s}\n"))
        .unwrap_or_default();
    let affinity = shard
        .map(|s| {
            format!(
                "      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - key: sharding.fluxcd.io/key
                operator: In
                values: [{s}]
"
            )
        })
        .unwrap_or_default();
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app.kubernetes.io/part-of: flux
    app.kubernetes.io/component: {component}
{annotations}spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
{affinity}      containers:
      - name: manager
        image: ghcr.io/fluxcd/{component}:test
{args}"
    )
}

/// A Kustomization labelled for `shard` (None: unlabelled) depending on `deps`.
pub fn kustomization(namespace: &str, name: &str, shard: Option<&str>, deps: &[(&str, &str)]) -> String {
    let labels = shard.map(|s| format!("  labels:\n    sharding.fluxcd.io/key: {s}\n")).unwrap_or_default();
    let depends = if deps.is_empty() {
        String::new()
    } else {
        let items: Vec<String> =
            deps.iter().map(|(ns, n)| format!("  - name: {n}\n    namespace: {ns}\n")).collect();
        format!("  dependsOn:\n{}", items.concat())
    };
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: {namespace}
{labels}spec:
  interval: 10m
  path: ./
  prune: true
  sourceRef:
    kind: GitRepository
    name: infra
{depends}"
    )
}

/// A Flux status as JSON, for `kubectl patch --subresource=status`.
pub fn status(ready: &str, reason: &str, message: &str, revision: Option<&str>) -> String {
    let now = "2026-01-01T00:00:00Z";
    let mut conditions = vec![serde_json::json!({
        "type": "Ready", "status": ready, "reason": reason, "message": message,
        "lastTransitionTime": now, "observedGeneration": 1
    })];
    if ready != "True" && reason != "DependencyNotReady" {
        conditions.push(serde_json::json!({
            "type": "Reconciling", "status": "True", "reason": "ProgressingWithRetry",
            "message": message, "lastTransitionTime": now, "observedGeneration": 1
        }));
    }
    let mut status = serde_json::json!({ "observedGeneration": 1, "conditions": conditions });
    if let Some(rev) = revision {
        status["lastAppliedRevision"] = rev.into();
        status["lastAttemptedRevision"] = rev.into();
    }
    serde_json::json!({ "status": status }).to_string()
}
