//! The local target: the project's own control plane (etcd, kube-apiserver,
//! controller-manager, scheduler as processes, kwok as kubelets), for machines with no
//! Docker. The scripts that build and run it are compiled into the binary and written
//! to the cache, so an installed `shardwatch up` works outside the repository too.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use color_eyre::eyre::{Result, WrapErr, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// The scripts, by file name, as in `tests/localcluster/`.
const SCRIPTS: [(&str, &str); 5] = [
    ("build.sh", include_str!("../../tests/localcluster/build.sh")),
    ("cluster.sh", include_str!("../../tests/localcluster/cluster.sh")),
    ("kind_nodes.py", include_str!("../../tests/localcluster/kind_nodes.py")),
    ("flux-crds.sh", include_str!("../../tests/localcluster/flux-crds.sh")),
    ("stages/pod-ready-again.yaml", include_str!("../../tests/localcluster/stages/pod-ready-again.yaml")),
];

/// The seed's cluster description, used when no `--kind-config` is given.
pub const KIND_CONFIG: &str = include_str!("../../kind-config.yaml");

/// shardwatch's cache folder: `SHARDWATCH_CACHE`, else `$XDG_CACHE_HOME/shardwatch` or
/// `~/.cache/shardwatch` (the same rule as the scripts).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("SHARDWATCH_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("shardwatch")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/shardwatch")))
        .unwrap_or_else(|| std::env::temp_dir().join("shardwatch"))
}

/// Writes the scripts (and the kind config) into the cache; returns the scripts' folder.
fn install_scripts() -> Result<PathBuf> {
    let dir = cache_dir().join(format!("scripts-{}", env!("CARGO_PKG_VERSION")));
    for (name, text) in SCRIPTS {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(&dir))
            .wrap_err_with(|| format!("creating {}", dir.display()))?;
        std::fs::write(&path, text).wrap_err_with(|| format!("writing {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    std::fs::write(dir.join("kind-config.yaml"), KIND_CONFIG)?;
    Ok(dir)
}

/// Runs `cluster.sh ARGS`, passing its log lines to `progress`; returns its stdout.
async fn cluster_sh(
    args: &[&str],
    kind_config: Option<&Path>,
    progress: &mut dyn FnMut(&str),
) -> Result<String> {
    let dir = install_scripts()?;
    let config = kind_config.map(Path::to_path_buf).unwrap_or_else(|| dir.join("kind-config.yaml"));
    let mut child = Command::new("bash")
        .arg(dir.join("cluster.sh"))
        .args(args)
        .env("SHARDWATCH_KIND_CONFIG", &config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .wrap_err("running bash (needed for the local target)")?;
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(stderr).lines();
    while let Some(line) = lines.next_line().await? {
        progress(line.trim_start_matches('[').split_once("] ").map_or(&line, |(_, rest)| rest));
    }
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        bail!("local cluster: `cluster.sh {}` failed ({})", args.join(" "), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Starts (or reuses) the local cluster, building its binaries on first use; returns
/// the kubeconfig path.
pub async fn start(kind_config: Option<&Path>, progress: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    for tool in ["go", "python3"] {
        if which(tool).is_none() {
            bail!("the local target needs `{tool}` on PATH (it builds Kubernetes from the Go module proxy)");
        }
    }
    let out = cluster_sh(&["start"], kind_config, progress).await?;
    let path = out.lines().last().unwrap_or_default();
    Ok(PathBuf::from(path))
}

/// Stops the local cluster and every process of it.
pub async fn stop(progress: &mut dyn FnMut(&str)) -> Result<()> {
    cluster_sh(&["stop"], None, progress).await.map(|_| ())
}

/// Stops node `node`'s heartbeats (`cluster.sh fail-node`): it goes NotReady, its pods with it.
pub async fn fail_node(node: &str) -> Result<()> {
    node_sh("fail-node", node).await
}

/// Resumes node `node`'s heartbeats (`cluster.sh restore-node`): it goes Ready again.
pub async fn restore_node(node: &str) -> Result<()> {
    node_sh("restore-node", node).await
}

/// Runs `cluster.sh ACTION NODE`; on failure the script's own words explain why.
async fn node_sh(action: &str, node: &str) -> Result<()> {
    let mut said = Vec::new();
    let result = cluster_sh(&[action, node], None, &mut |l| said.push(l.to_string())).await;
    result.map(|_| ()).wrap_err_with(|| said.join("; "))
}

/// The kubeconfig of a running local cluster, if any.
pub async fn kubeconfig() -> Option<PathBuf> {
    cluster_sh(&["kubeconfig"], None, &mut |_| {}).await.ok().map(PathBuf::from).filter(|p| p.is_file())
}

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| p.is_file()))
}
