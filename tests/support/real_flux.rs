//! The stack with the real Flux controllers: `shardwatch up --target local --no-tui` stands
//! it up (controllers as local processes, the local Git server, the offline infrastructure
//! layer), and the helpers here wait for Flux to have reconciled it.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Cluster, condition, wait_until};

/// The Flux namespace `up` installs into.
pub const FLUX_NS: &str = "flux-system";
/// The infrastructure chain, in dependency order, with the shard of each layer.
pub const CHAIN: [(&str, &str); 3] =
    [("infra-sources", "shard1"), ("infra-controllers", "shard2"), ("infra-configs", "shard3")];
/// The controllers `up` runs as processes, one set per shard.
pub const CONTROLLERS: [&str; 3] = ["source-controller", "kustomize-controller", "helm-controller"];
/// How long the chain may take from nothing to Ready (helm installs, health checks).
pub const CHAIN_DEADLINE: Duration = Duration::from_secs(300);

/// Runs `up` (idempotent: a second run changes nothing) and panics with its output on failure.
pub fn up(cluster: &Cluster) -> String {
    let (code, out, err) = cluster.shardwatch(&["up", "--target", "local", "--no-tui"]);
    assert_eq!(code, 0, "`shardwatch up --target local --no-tui` failed:\n{out}\n{err}");
    format!("{out}{err}")
}

/// The Kustomization `name` in the Flux namespace.
pub fn kustomization(cluster: &Cluster, name: &str) -> Result<Value, String> {
    cluster.get_json(&["-n", FLUX_NS, "get", "kustomization", name])
}

/// Waits until every layer of the chain is Ready; returns the Kustomizations.
pub fn chain_ready(cluster: &Cluster) -> Vec<Value> {
    wait_until(CHAIN_DEADLINE, "the infrastructure chain Ready", || {
        CHAIN
            .iter()
            .map(|(name, _)| {
                let ks = kustomization(cluster, name)?;
                match condition(&ks, "Ready") {
                    Some("True") => Ok(ks),
                    other => Err(format!("{name} Ready={other:?}: {}", ready_message(&ks))),
                }
            })
            .collect()
    })
}

/// An object's Ready condition, if it has one.
pub fn ready_condition(object: &Value) -> Option<&Value> {
    object["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == "Ready")
}

/// The reason and message of an object's Ready condition.
pub fn ready_message(object: &Value) -> String {
    ready_condition(object)
        .map(|c| format!("{} {}", c["reason"].as_str().unwrap_or(""), c["message"].as_str().unwrap_or("")))
        .unwrap_or_default()
}

/// Asks Flux to reconcile `kind/name` now (what `flux reconcile` does: the
/// `reconcile.fluxcd.io/requestedAt` annotation); returns the token it wrote.
pub fn request_reconcile(cluster: &Cluster, kind: &str, name: &str) -> String {
    let token = crate::support::unique_name("req");
    let annotation = format!("reconcile.fluxcd.io/requestedAt={token}");
    if let Err(e) = cluster.kubectl(&["-n", FLUX_NS, "annotate", "--overwrite", kind, name, &annotation]) {
        panic!("cannot annotate {kind}/{name}: {e}");
    }
    token
}

/// Whether `kind/name` has handled the reconcile request `token`.
pub fn handled(cluster: &Cluster, kind: &str, name: &str, token: &str) -> Result<bool, String> {
    let obj = cluster.get_json(&["-n", FLUX_NS, "get", kind, name])?;
    Ok(obj["status"]["lastHandledReconcileAt"] == token)
}

/// Waits until `kind/name` has handled the reconcile request `token`.
pub fn wait_handled(cluster: &Cluster, kind: &str, name: &str, token: &str, deadline: Duration) {
    wait_until(deadline, &format!("{kind}/{name} to handle reconcile request {token}"), || {
        match handled(cluster, kind, name, token)? {
            true => Ok(()),
            false => Err("not yet".into()),
        }
    });
}

/// Why the real controllers cannot run here, if they cannot: their binaries are missing
/// (`SHARDWATCH_FLUX_BIN`, else build-flux.sh's cache folder) or this is not root (they
/// need `unshare`). `up` would otherwise spend 11 minutes building them inside a test.
pub fn flux_prerequisite_missing() -> Option<String> {
    let bin = std::env::var_os("SHARDWATCH_FLUX_BIN").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("SHARDWATCH_CACHE")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("shardwatch")))
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/shardwatch")
            });
        cache.join("flux-v2.7.3/bin")
    });
    if let Some(c) = CONTROLLERS.iter().find(|c| !bin.join(c).is_file()) {
        return Some(format!(
            "{} is missing (tests/localcluster/build-flux.sh builds it)",
            bin.join(c).display()
        ));
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2));
    (euid != Some("0")).then(|| "not root: the controllers run under `unshare`".to_string())
}
