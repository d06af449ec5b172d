//! The local world: the project's own control plane (etcd, kube-apiserver,
//! controller-manager, scheduler as processes, kwok as kubelets), for machines with no
//! Docker. The scripts that build and run it are compiled into the binary and written
//! to the cache, so an installed `shardwatch up` works outside the repository too.
//!
//! It sits beside `bootstrap` and `cluster`, importing neither: `bootstrap` starts and
//! stops it, and node hosting ([`crate::node_host`]) fails and restores its nodes.

pub mod build_meter;
pub mod kubelet;
pub mod user_kubeconfig;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use color_eyre::eyre::{Result, WrapErr, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// The scripts, by file name, as in `tests/localcluster/`.
const SCRIPTS: [(&str, &str); 8] = [
    ("build.sh", include_str!("../../tests/localcluster/build.sh")),
    ("cluster.sh", include_str!("../../tests/localcluster/cluster.sh")),
    ("flux-crds.sh", include_str!("../../tests/localcluster/flux-crds.sh")),
    ("stages/pod-ready-again.yaml", include_str!("../../tests/localcluster/stages/pod-ready-again.yaml")),
    ("build-flux.sh", include_str!("../../tests/localcluster/build-flux.sh")),
    ("flux-controllers.sh", include_str!("../../tests/localcluster/flux-controllers.sh")),
    ("git-server.sh", include_str!("../../tests/localcluster/git-server.sh")),
    ("git_server.py", include_str!("../../tests/localcluster/git_server.py")),
];

/// shardwatch's cache folder: `SHARDWATCH_CACHE`, else `$XDG_CACHE_HOME/shardwatch` or
/// `~/.cache/shardwatch` (the same rule as the scripts).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("SHARDWATCH_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("shardwatch")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/shardwatch")))
        .unwrap_or_else(|| std::env::temp_dir().join("shardwatch"))
}

/// The folder the scripts are written to, keyed by shardwatch's version and the scripts'
/// content, so two builds with different scripts never rewrite each other's running ones.
fn scripts_dir() -> PathBuf {
    let digest = SCRIPTS
        .iter()
        .flat_map(|(n, t)| n.bytes().chain(t.bytes()))
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    cache_dir().join(format!("scripts-{}-{:08x}", env!("CARGO_PKG_VERSION"), digest >> 32))
}

/// Where the compiled-in `manifests/` tree is written for the local Git server to publish.
pub fn manifests_dir() -> PathBuf {
    scripts_dir().join("manifests")
}

/// Writes the scripts (and the kind config) into the cache; returns the scripts' folder.
/// A file already as wanted is left alone: bash reads a running script as it goes, so
/// rewriting one under another shardwatch's feet could break it.
fn install_scripts() -> Result<PathBuf> {
    let dir = scripts_dir();
    let files = SCRIPTS.iter().copied().chain([("kind-config.yaml", crate::kind_config::BUILTIN)]);
    for (name, text) in files {
        let path = dir.join(name);
        if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
            continue;
        }
        std::fs::create_dir_all(path.parent().unwrap_or(&dir))
            .wrap_err_with(|| format!("creating {}", dir.display()))?;
        std::fs::write(&path, text).wrap_err_with(|| format!("writing {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(dir)
}

/// How a script ended: its exit status and its stdout.
pub struct ScriptOutput {
    /// Whether it exited 0.
    pub success: bool,
    /// Its stdout, trimmed.
    pub stdout: String,
}

/// Runs the compiled-in script `name` with `args`, passing its log lines (stderr) to
/// `progress`, whatever its exit status. The scripts find the kind config and the
/// manifests through the environment, since they do not sit in a checkout.
pub async fn script(
    name: &str,
    args: &[&str],
    kind_config: Option<&Path>,
    progress: &mut dyn FnMut(&str),
) -> Result<ScriptOutput> {
    script_with(name, args, kind_config, &[], progress).await
}

/// [`script`] with extra environment variables.
pub async fn script_with(
    name: &str,
    args: &[&str],
    kind_config: Option<&Path>,
    env: &[(&str, &str)],
    progress: &mut dyn FnMut(&str),
) -> Result<ScriptOutput> {
    let dir = install_scripts()?;
    // Without a config given, the shape the last `up` on the local target used (its
    // shards decide the controller sets), else the built-in one.
    let recorded = crate::stood_up::read().filter(|r| r.target == crate::stood_up::UpTarget::Local);
    let config = kind_config
        .map(Path::to_path_buf)
        .or_else(|| recorded.as_ref().and_then(|r| r.kind_config.clone()))
        .unwrap_or_else(|| dir.join("kind-config.yaml"));
    let mut command = Command::new("bash");
    if let Some(label) = recorded.as_ref().and_then(|r| r.shard_label.as_deref()) {
        command.env("SHARDWATCH_SHARD_LABEL", label);
    }
    // The scripts read the kind config through this very binary (`shardwatch kind-nodes`).
    if std::env::var_os("SHARDWATCH_BIN").is_none() {
        if let Some(exe) = std::env::current_exe().ok().filter(|e| is_shardwatch(e)) {
            command.env("SHARDWATCH_BIN", exe);
        }
    }
    let mut child = command
        .arg(dir.join(name))
        .args(args)
        .envs(env.iter().copied())
        .env("SHARDWATCH_KIND_CONFIG", &config)
        .env("SHARDWATCH_MANIFESTS", manifests_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so an interrupted `up` can end what it runs (a `go build`)
        // and not only bash.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .wrap_err("running bash (needed for the local target)")?;
    let group = GroupGuard(child.id());
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(stderr).lines();
    while let Some(line) = lines.next_line().await? {
        progress(log_text(&line));
    }
    let out = child.wait_with_output().await?;
    std::mem::forget(group);
    Ok(ScriptOutput {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).trim().to_string(),
    })
}

/// Kills a script's whole process group when dropped before the script ended: `up`
/// interrupted (Ctrl-C, the progress screen's `q`) leaves no build of ours behind.
/// Processes that detach on purpose (kwokctl's components, the Git server, the kubelet)
/// start sessions of their own and are not in the group.
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            kubelet::signal_group(pid, libc::SIGKILL);
        }
    }
}

/// Whether `exe` is shardwatch itself (not a test binary linking the library).
fn is_shardwatch(exe: &Path) -> bool {
    exe.file_name().and_then(|n| n.to_str()).is_some_and(|n| n == "shardwatch" || n == "kubectl-shardwatch")
}

/// A script's log line without its `[script HH:MM:SS] ` prefix (the steps carry times).
fn log_text(line: &str) -> &str {
    if line.starts_with('[') { line.split_once("] ").map_or(line, |(_, rest)| rest) } else { line }
}

/// Runs `script`, failing with its name and status when it does not exit 0.
pub async fn script_ok(
    name: &str,
    args: &[&str],
    kind_config: Option<&Path>,
    progress: &mut dyn FnMut(&str),
) -> Result<String> {
    let out = script(name, args, kind_config, progress).await?;
    if !out.success {
        let command = std::iter::once(name).chain(args.iter().copied()).collect::<Vec<_>>().join(" ");
        bail!("local cluster: `{command}` failed (its log lines are above)");
    }
    Ok(out.stdout)
}

/// Runs `cluster.sh ARGS`, passing its log lines to `progress`; returns its stdout.
async fn cluster_sh(
    args: &[&str],
    kind_config: Option<&Path>,
    progress: &mut dyn FnMut(&str),
) -> Result<String> {
    script_ok("cluster.sh", args, kind_config, progress).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_log_lines_lose_their_timestamp_prefix() {
        assert_eq!(log_text("[git-server 12:00:01] serving http://x"), "serving http://x");
        assert_eq!(log_text("go: downloading example.com/m v1"), "go: downloading example.com/m v1");
    }
}
