//! The kind target: a kind cluster from kind-config.yaml, where kind and a Docker
//! engine are present (users' machines; not this project's CI).

use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr, bail};
use tokio::process::Command;

use crate::kind_config::KindConfig;
use crate::local::which;

/// Whether kind can run here: the `kind` CLI and a reachable Docker engine.
pub async fn available() -> bool {
    if which("kind").is_none() || which("docker").is_none() {
        return false;
    }
    Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .await
        .is_ok_and(|o| o.status.success())
}

/// Creates the cluster `config` (read from `kind_config`) unless it exists; returns the
/// kubeconfig written for it.
pub async fn create(
    kind_config: &Path,
    config: &KindConfig,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf> {
    let name = config.name.clone();
    let existing = Command::new("kind").args(["get", "clusters"]).output().await.wrap_err("running kind")?;
    let exists = String::from_utf8_lossy(&existing.stdout).lines().any(|l| l.trim() == name);
    if exists {
        progress(&format!("kind cluster {name} exists"));
    } else {
        progress(&format!("creating kind cluster {name} (a few minutes)"));
        // Captured, not inherited: the progress screen owns the terminal.
        let out = Command::new("kind")
            .args(["create", "cluster", "--name", &name, "--config"])
            .arg(kind_config)
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
    std::fs::create_dir_all(cache)?;
    let kubeconfig = cache.join(format!("kind-{name}.kubeconfig"));
    let out = Command::new("kind").args(["get", "kubeconfig", "--name", &name]).output().await?;
    if !out.status.success() {
        bail!("kind get kubeconfig failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    std::fs::write(&kubeconfig, &out.stdout)?;
    Ok(kubeconfig)
}

/// Deletes the kind cluster `name`.
pub async fn delete(name: &str) -> Result<()> {
    let status = Command::new("kind").args(["delete", "cluster", "--name", name]).status().await?;
    if !status.success() {
        bail!("kind delete cluster failed ({status})");
    }
    Ok(())
}
