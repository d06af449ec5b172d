//! The kind target: a kind cluster from kind-config.yaml, where kind and a Docker
//! engine are present (users' machines; not this project's CI, where the contract tests
//! check the commands with stand-in `kind` and `docker`).
//!
//! kind writes the new cluster's context only to shardwatch's own kubeconfig
//! (`--kubeconfig`), never silently into the user's: `up` then adds it to the user's
//! kubeconfig the same way as on the local target, or not (`--no-kubeconfig-update`).

use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr, bail};

use crate::kind_config::KindConfig;
use crate::kind_host::Tools;
use crate::local::user_kubeconfig::write_private;

/// The kubeconfig shardwatch keeps for kind cluster `name` (it holds the admin key: 0600).
pub fn kubeconfig_path(cache: &Path, name: &str) -> PathBuf {
    cache.join(format!("kind-{name}.kubeconfig"))
}

/// Creates the cluster `config` (read from `config_file`) unless it exists, starting its
/// stopped node containers when it does; returns the kubeconfig written for it.
pub async fn create(
    tools: &Tools,
    config_file: &Path,
    config: &KindConfig,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf> {
    let name = &config.name;
    std::fs::create_dir_all(cache).wrap_err_with(|| format!("creating {}", cache.display()))?;
    let kubeconfig = kubeconfig_path(cache, name);
    if tools.clusters().await?.iter().any(|c| c == name) {
        progress(&format!("kind cluster {name} exists"));
        start_stopped_nodes(tools, name, progress).await?;
    } else {
        progress(&format!("creating kind cluster {name} (a few minutes)"));
        // A stale file from a deleted cluster would be merged into; start clean.
        let _ = std::fs::remove_file(&kubeconfig);
        // Captured, not inherited: the progress screen owns the terminal. --kubeconfig keeps
        // kind from merging into the user's kubeconfig and switching its current context.
        let out = tools
            .kind_command()
            .args(["create", "cluster", "--name", name, "--config"])
            .arg(config_file)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .output()
            .await
            .wrap_err("running kind create cluster")?;
        if !out.status.success() {
            bail!(
                "kind create cluster failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    let out = tools.kind_command().args(["get", "kubeconfig", "--name", name]).output().await?;
    if !out.status.success() {
        bail!("kind get kubeconfig failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    write_private(&kubeconfig, &String::from_utf8_lossy(&out.stdout))?;
    Ok(kubeconfig)
}

/// Starts the node containers of `name` that are not running (after a reboot, or a worker
/// left stopped by `chaos fail-node`); says what to do when that fails.
async fn start_stopped_nodes(tools: &Tools, name: &str, progress: &mut dyn FnMut(&str)) -> Result<()> {
    let nodes = tools.nodes(name).await?;
    let stopped: Vec<String> =
        nodes.iter().filter(|n| n.state != "running").map(|n| n.name.clone()).collect();
    if stopped.is_empty() {
        return Ok(());
    }
    progress(&format!("starting stopped node containers: {}", stopped.join(", ")));
    tools.start(&stopped).await.wrap_err_with(|| {
        format!(
            "kind cluster {name} has stopped nodes that did not start; delete it with \
             `shardwatch down --target kind` (or `kind delete cluster --name {name}`) and run `up` again"
        )
    })
}

/// Deletes the kind cluster `name`; kind removes its context from shardwatch's kubeconfig
/// (never touching the user's), and the file goes.
pub async fn delete(tools: &Tools, name: &str, cache: &Path) -> Result<()> {
    let kubeconfig = kubeconfig_path(cache, name);
    let out = tools
        .kind_command()
        .args(["delete", "cluster", "--name", name, "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .await
        .wrap_err("running kind delete cluster")?;
    if !out.status.success() {
        bail!("kind delete cluster failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    let _ = std::fs::remove_file(&kubeconfig);
    Ok(())
}
