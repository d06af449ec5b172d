//! Where a cluster's nodes run, which decides how a node is failed and restored: told
//! explicitly (`--target`), or local when the kubeconfig in use is the local cluster's.
//! Kind is never guessed: a kubeconfig alone does not say which containers are its nodes.

use std::path::{Path, PathBuf};

use crate::bootstrap::local;

use super::actions::NodeHost;

/// `explicit` if given, else local when the kubeconfig in use (`--kubeconfig`, or what
/// `KUBECONFIG` / `~/.kube/config` name) is the local cluster's. `Err` says which
/// kubeconfig is in use and that it is not the local cluster's, for the refusal.
pub async fn node_host(explicit: Option<NodeHost>, kubeconfig: Option<&Path>) -> Result<NodeHost, String> {
    if let Some(host) = explicit {
        return Ok(host);
    }
    let current = current_kubeconfig(kubeconfig);
    if let (Some(current), Some(local)) = (&current, local::kubeconfig().await) {
        if same_file(current, &local) {
            return Ok(NodeHost::Local);
        }
    }
    let which = current.map_or("none found".to_string(), |p| p.display().to_string());
    Err(format!("the kubeconfig in use ({which}) is not the local cluster's"))
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

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
