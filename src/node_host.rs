//! Where a cluster's nodes run, which decides how a node is failed and restored: told
//! explicitly (`--target`), or local when the kubeconfig in use is the local cluster's.
//! Kind is never guessed: a kubeconfig alone does not say which containers are its nodes.
//!
//! The cluster actions (`chaos fail-node`, the dashboard's `f`/`r`) reach the local world
//! and Docker through here rather than through `bootstrap`, so `cluster` and `bootstrap`
//! need not know each other.

use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr, bail};
use tokio::process::Command;

use crate::local;

/// Where a node runs, which decides how it is failed and restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeHost {
    /// The local control plane (tests/localcluster/cluster.sh): kwok stops heartbeating the node.
    Local,
    /// A kind cluster: the node's Docker container is stopped or started.
    Kind,
}

/// `explicit` if given, else local when the kubeconfig in use (`--kubeconfig`, or what
/// `KUBECONFIG` / `~/.kube/config` name) is the local cluster's. `Err` says which
/// kubeconfig is in use and that it is not the local cluster's, for the refusal.
pub async fn node_host(explicit: Option<NodeHost>, kubeconfig: Option<&Path>) -> Result<NodeHost, String> {
    if let Some(host) = explicit {
        return Ok(host);
    }
    let current = current_kubeconfig(kubeconfig);
    if let (Some(current), Some(ours)) = (&current, local::kubeconfig().await) {
        if local::same_file(current, &ours) {
            return Ok(NodeHost::Local);
        }
    }
    let which = current.map_or("none found".to_string(), |p| p.display().to_string());
    Err(format!("the kubeconfig in use ({which}) is not the local cluster's"))
}

/// Makes node `node` fail: the local cluster stops its heartbeats; kind stops its container.
pub async fn fail(node: &str, host: NodeHost) -> Result<()> {
    match host {
        NodeHost::Local => local::fail_node(node).await,
        NodeHost::Kind => node_container("stop", node).await,
    }
}

/// Brings node `node` back: heartbeats resume, or its container starts again.
pub async fn restore(node: &str, host: NodeHost) -> Result<()> {
    match host {
        NodeHost::Local => local::restore_node(node).await,
        NodeHost::Kind => node_container("start", node).await,
    }
}

/// `docker stop` or `docker start` of a kind node's container (named after the node).
async fn node_container(verb: &str, node: &str) -> Result<()> {
    let out = Command::new("docker").args([verb, node]).output().await.wrap_err("running docker")?;
    if !out.status.success() {
        bail!(
            "docker {verb} {node} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The one kubeconfig file in use: `flag`, a single-path `KUBECONFIG`, or `~/.kube/config`.
fn current_kubeconfig(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    if let Some(paths) = std::env::var_os("KUBECONFIG") {
        let mut all = std::env::split_paths(&paths).filter(|p| !p.as_os_str().is_empty());
        return match (all.next(), all.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        };
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube/config"))
}
