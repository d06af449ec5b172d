//! Where a cluster's nodes run, which decides how a node is failed and restored: told
//! explicitly (`--target`), or found: local when the kubeconfig in use is the local
//! cluster's, kind when its context is `kind-<name>` of the kind cluster `up` recorded.
//! A kind node's container is checked to carry that cluster's label before it is touched.
//!
//! The cluster actions (`chaos fail-node`, the dashboard's `f`/`r`) reach the local world
//! and Docker through here rather than through `bootstrap`, so `cluster` and `bootstrap`
//! need not know each other.

use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, eyre};

use crate::kind_host::{NodeVerb, Tools};
use crate::local;

/// Where a node runs, which decides how it is failed and restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeHost {
    /// The local control plane (tests/localcluster/cluster.sh): kwok stops heartbeating the node.
    Local,
    /// A kind cluster: the node's Docker container is stopped or started.
    Kind {
        /// The kind cluster's name, which its node containers carry as a label.
        cluster: String,
    },
}

/// How `--target` or `up` said where the nodes run, before the kind cluster is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// The local control plane.
    Local,
    /// kind.
    Kind,
}

/// `explicit` if given, else local when the kubeconfig in use (`--kubeconfig`, or what
/// `KUBECONFIG` / `~/.kube/config` name) is the local cluster's. `Err` says which
/// kubeconfig is in use and that it is not the local cluster's, for the refusal.
pub async fn node_host(
    explicit: Option<HostKind>,
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<NodeHost, String> {
    let recorded = crate::stood_up::read().filter(|r| r.target == crate::stood_up::UpTarget::Kind);
    let context = context.map(str::to_string).or_else(|| current_context(kubeconfig));
    match explicit {
        Some(HostKind::Local) => return Ok(NodeHost::Local),
        Some(HostKind::Kind) => {
            return kind_cluster(context.as_deref(), recorded.as_ref().map(|r| r.cluster.as_str()))
                .map(|cluster| NodeHost::Kind { cluster })
                .ok_or_else(|| {
                    format!(
                        "cannot tell which kind cluster the context in use ({}) is: kind names its \
                         contexts kind-<cluster>",
                        context.as_deref().unwrap_or("none")
                    )
                });
        }
        None => {}
    }
    if let (Some(ctx), Some(rec)) = (&context, &recorded) {
        if *ctx == format!("kind-{}", rec.cluster) {
            return Ok(NodeHost::Kind { cluster: rec.cluster.clone() });
        }
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

/// The kind cluster a context names (`kind-<cluster>`), else the one `up` recorded.
pub fn kind_cluster(context: Option<&str>, recorded: Option<&str>) -> Option<String> {
    context.and_then(|c| c.strip_prefix("kind-")).filter(|c| !c.is_empty()).or(recorded).map(str::to_string)
}

/// Makes node `node` fail: the local cluster stops its heartbeats; kind stops its container.
pub async fn fail(node: &str, host: &NodeHost) -> Result<()> {
    match host {
        NodeHost::Local => local::fail_node(node).await,
        NodeHost::Kind { cluster } => kind_tools()?.node_container(NodeVerb::Stop, node, cluster).await,
    }
}

/// Brings node `node` back: heartbeats resume, or its container starts again.
pub async fn restore(node: &str, host: &NodeHost) -> Result<()> {
    match host {
        NodeHost::Local => local::restore_node(node).await,
        NodeHost::Kind { cluster } => kind_tools()?.node_container(NodeVerb::Start, node, cluster).await,
    }
}

fn kind_tools() -> Result<Tools> {
    Tools::on_path().map_err(|why| eyre!("kind nodes are Docker containers, but {why}"))
}

/// The current context of the kubeconfig in use, if one file is in use and names one.
fn current_context(flag: Option<&Path>) -> Option<String> {
    let file = current_kubeconfig(flag)?;
    kube::config::Kubeconfig::read_from(file).ok()?.current_context.filter(|c| !c.is_empty())
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

#[cfg(test)]
mod tests {
    use super::kind_cluster;

    #[test]
    fn the_kind_cluster_is_read_from_kinds_context_name_else_the_record() {
        assert_eq!(kind_cluster(Some("kind-shardwatch"), None).as_deref(), Some("shardwatch"));
        assert_eq!(kind_cluster(Some("kind-demo"), Some("shardwatch")).as_deref(), Some("demo"));
        assert_eq!(kind_cluster(Some("prod"), Some("shardwatch")).as_deref(), Some("shardwatch"));
        assert_eq!(kind_cluster(Some("kind-"), None), None);
        assert_eq!(kind_cluster(None, None), None);
    }
}
