//! The kind target: a kind cluster from kind-config.yaml, where kind and a Docker
//! engine are present (users' machines; not this project's CI).

use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr, bail};
use tokio::process::Command;

use crate::local::which;

/// The cluster name in a kind config (`name:`), default `kind`.
pub fn cluster_name(kind_config: &str) -> String {
    kind_config
        .lines()
        .find_map(|l| l.strip_prefix("name:"))
        .map(|n| n.trim().trim_matches('"').to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "kind".to_string())
}

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

/// Creates the cluster unless it exists; returns the kubeconfig written for it.
pub async fn create(kind_config: &Path, cache: &Path, progress: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    let text = std::fs::read_to_string(kind_config)
        .wrap_err_with(|| format!("reading {}", kind_config.display()))?;
    let name = cluster_name(&text);
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

/// Deletes the kind cluster.
pub async fn delete(kind_config: &Path) -> Result<()> {
    let text = std::fs::read_to_string(kind_config).unwrap_or_else(|_| crate::local::KIND_CONFIG.to_string());
    let status =
        Command::new("kind").args(["delete", "cluster", "--name", &cluster_name(&text)]).status().await?;
    if !status.success() {
        bail!("kind delete cluster failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::cluster_name;

    #[test]
    fn reads_the_cluster_name_from_the_kind_config() {
        assert_eq!(cluster_name(crate::local::KIND_CONFIG), "shardwatch");
        assert_eq!(cluster_name("kind: Cluster\nnodes: []\n"), "kind");
    }
}
