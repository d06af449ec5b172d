//! The local world: the project's own control plane (etcd, kube-apiserver,
//! controller-manager, scheduler as processes, kwok as kubelets), for machines with no
//! Docker, with everything it needs: its binaries built into the cache on first use
//! ([`component_build`]), Flux's CRDs ([`flux_crds`]), a Git server for the Flux
//! controllers ([`git_server`]), failing and restoring nodes ([`node_failure`]), and the
//! kubelet that runs the controllers ([`kubelet`]). `shardwatch local …` ([`command`])
//! exposes each step; the scripts in `tests/localcluster/` only call it.
//!
//! It sits beside `bootstrap` and `cluster`, importing neither: `bootstrap` starts and
//! stops it, and node hosting ([`crate::node_host`]) fails and restores its nodes.

pub mod build_meter;
pub mod command;
pub mod component_build;
pub mod control_plane;
pub mod etcd_fault;
pub mod flux_crds;
pub mod git_http;
pub mod git_server;
pub mod go_tool;
pub mod group_reaper;
pub mod kubelet;
pub mod node_failure;
pub mod notification_stand_in;
pub mod private_files;
pub mod user_kubeconfig;

use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, bail};

pub use crate::cache::cache_dir;
use control_plane::{ClusterOptions, cluster_name, kubeconfig_path};

/// Starts (or reuses) the local cluster with the nodes of `kind_config` (None: the
/// built-in config), building its binaries on first use; returns the kubeconfig path.
pub async fn start(kind_config: Option<&Path>, progress: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    control_plane::start(&ClusterOptions::from_env(kind_config.map(Path::to_path_buf)), progress).await
}

/// Stops the local cluster and every process of it.
pub async fn stop(progress: &mut dyn FnMut(&str)) -> Result<()> {
    control_plane::stop(&cluster_name(), progress).await
}

/// Stops node `node`'s heartbeats: it goes NotReady, its pods with it.
pub async fn fail_node(node: &str) -> Result<()> {
    node_failure::fail(&running_client().await?, node).await
}

/// Resumes node `node`'s heartbeats: it goes Ready again.
pub async fn restore_node(node: &str) -> Result<()> {
    node_failure::restore(&running_client().await?, node).await
}

/// An admin client of the local cluster, which must exist.
async fn running_client() -> Result<kube::Client> {
    let Some(path) = kubeconfig().await else { bail!("local cluster {} is not running", cluster_name()) };
    control_plane::admin_client(&path).await
}

/// The kubeconfig of the local cluster, if it exists.
pub async fn kubeconfig() -> Option<PathBuf> {
    Some(kubeconfig_path(&cluster_name())).filter(|p| p.is_file())
}

/// Whether `a` and `b` name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| p.is_file()))
}
