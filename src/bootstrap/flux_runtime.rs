//! The real Flux controllers on the local target: built from the Go module proxy on first
//! use, run as local processes by the local kubelet (one main set and one set per shard),
//! reading the infrastructure layer from the local Git server. kwok runs no pods, so
//! without these nothing would reconcile there.
//!
//! Each function reports whether it changed anything, so a second `up` can say truthfully
//! that nothing changed: starting what already runs is no change.

use std::path::PathBuf;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, bail};
use tokio::process::Command;

use crate::local::component_build::{self, FluxVersions};
use crate::local::git_server::GitServer;
use crate::local::kubelet::{self, KubeletOptions};
use crate::local::which;

/// The controllers the scripts build and the kubelet runs.
const CONTROLLERS: [&str; 3] = kubelet::CONTROLLERS;

/// What the controllers' processes need: a private mount namespace each (`unshare`,
/// which runs `sh`, `hostname` and `mount` inside it).
const PROCESS_TOOLS: [&str; 4] = ["unshare", "sh", "hostname", "mount"];

/// Where the built controllers are: `SHARDWATCH_FLUX_BIN`, else the cache folder of the
/// Flux version.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SHARDWATCH_FLUX_BIN") {
        return PathBuf::from(dir);
    }
    FluxVersions::from_env().bin_dir()
}

/// Whether all three controllers are already built.
pub fn built() -> bool {
    CONTROLLERS.iter().all(|c| bin_dir().join(c).is_file())
}

/// The effective user id from the text of `/proc/self/status` (its `Uid:` line holds the
/// real, effective, saved and filesystem ids).
pub fn effective_uid(proc_status: &str) -> Option<u32> {
    let line = proc_status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Checks, before anything slow happens, that the controllers can be built and run here.
/// `serve_git`: the local Git server is needed too (no `--git-url`).
pub fn preflight(serve_git: bool) -> Result<()> {
    let hint = "or pass --no-flux-controllers to install Flux's Deployments only";
    let uid = std::fs::read_to_string("/proc/self/status").ok().as_deref().and_then(effective_uid);
    if uid != Some(0) {
        bail!(
            "the real Flux controllers run each in its own mount namespace (`unshare`), which needs \
             root; run `up` as root, {hint}"
        );
    }
    if let Some(tool) = PROCESS_TOOLS.iter().find(|t| which(t).is_none()) {
        bail!("the real Flux controllers need `{tool}` on PATH (util-linux), {hint}");
    }
    if !built() && which("go").is_none() {
        bail!(
            "the Flux controllers are not built yet ({} is empty) and building them needs `go` on \
             PATH, {hint}",
            bin_dir().display()
        );
    }
    if serve_git && which("git").is_none() {
        bail!("the local Git server needs `git` (with `git http-backend`) on PATH, {hint}");
    }
    Ok(())
}

/// The line shown before the build: how long it will take.
pub fn build_expectation() -> String {
    if built() {
        format!("cached in {}", bin_dir().display())
    } else {
        format!(
            "first use: building {} from the Go module proxy into {}; about 11 min on 2 cores \
             (only once, later runs reuse them)",
            CONTROLLERS.join(", "),
            bin_dir().display()
        )
    }
}

/// Builds the controllers unless cached (the log says where they are).
pub async fn build(progress: &mut dyn FnMut(&str)) -> Result<()> {
    component_build::build_flux(&FluxVersions::from_env(), progress)
        .await
        .wrap_err("building the Flux controllers from the Go module proxy failed")
        .map(|_| ())
}

/// A served Git repository and whether this run changed it.
pub struct Served {
    /// The repository URL.
    pub url: String,
    /// True when the server was started or published new content.
    pub changed: bool,
}

/// The local cluster's Git server, on loopback or on `bind` (kind's gateway address).
fn git_server(bind: Option<&str>) -> GitServer {
    let mut server = GitServer::of_cluster(&kubelet::cluster_name());
    if let Some(addr) = bind {
        server.addr = addr.to_string();
    }
    server
}

/// Publishes the compiled-in `manifests/` tree on the local Git server, starting it if
/// needed, on loopback or on `bind` (kind's gateway address). On failure a server this
/// run started is stopped again.
pub async fn serve_manifests(bind: Option<&str>, progress: &mut dyn FnMut(&str)) -> Result<Served> {
    let server = git_server(bind);
    let was = server.url();
    let before = match &was {
        Some(url) => head(url).await,
        None => None,
    };
    let manifests = server.dir.join("manifests");
    std::fs::create_dir_all(&server.dir).wrap_err_with(|| format!("creating {}", server.dir.display()))?;
    super::manifest_tree::write_to(&manifests)?;
    let url = match server.start(&manifests, progress).await {
        Ok(url) => url,
        Err(e) => {
            if was.is_none() {
                let _ = server.stop(progress).await;
            }
            return Err(e.wrap_err("the local Git server did not start"));
        }
    };
    let after = head(&url).await;
    Ok(Served { changed: was.is_none() || before != after, url })
}

/// The commit `main` points at on `url`, if it can be read.
async fn head(url: &str) -> Option<String> {
    let out = Command::new("git").args(["ls-remote", url, "refs/heads/main"]).output().await.ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success().then(|| text.split_whitespace().next().map(str::to_string)).flatten()
}

/// Has the local kubelet run the controllers (`shardwatch kubelet`, started unless it
/// runs with the same options) and waits until each answers on `/readyz`; true when the
/// kubelet had to be started.
pub async fn start_controllers(
    opts: &KubeletOptions,
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<bool> {
    let started = kubelet::ensure_running(opts).await?;
    if started {
        progress(&format!("local kubelet started (log {})", opts.log_file().display()));
    }
    kubelet::wait_ready(opts, timeout, progress)
        .await
        .wrap_err("the real Flux controllers did not get ready")?;
    Ok(started)
}

/// Stops the local kubelet with every controller process, and the local Git server
/// (nothing to do is no error).
pub async fn stop(progress: &mut dyn FnMut(&str)) -> Result<()> {
    if kubelet::stop(&kubelet::run_dir()).await {
        progress("local kubelet and its Flux controllers stopped");
    }
    stop_git_server(progress).await
}

/// Stops the local Git server, if it runs.
pub async fn stop_git_server(progress: &mut dyn FnMut(&str)) -> Result<()> {
    git_server(None).stop(progress).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_effective_uid_is_the_second_id_of_the_uid_line() {
        let status = "Name:\tshardwatch\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n";
        assert_eq!(effective_uid(status), Some(0));
        assert_eq!(effective_uid("Uid:\t1000\t1000\t1000\t1000\n"), Some(1000));
        assert_eq!(effective_uid("Name:\tx\n"), None);
    }
}
