//! `shardwatch local …`: each step of the local world by hand, for people and for the thin
//! scripts in `tests/localcluster/` (which `.ci/run` and the tests call). Results go to
//! stdout (a path, a URL), log lines to stderr as `[local HH:MM:SS] …`.

use std::ffi::OsString;
use std::path::PathBuf;

use color_eyre::eyre::{Result, WrapErr};

use super::component_build::{self, ControlPlaneVersions, FluxVersions};
use super::control_plane::{self, ClusterOptions, cluster_name, kubeconfig_path};
use super::git_server::GitServer;
use super::{etcd_fault, flux_crds, git_http, kubelet, node_failure, notification_stand_in};
use crate::stood_up::{self, UpTarget};

/// What `shardwatch local` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalAction {
    /// Start (or reuse) the cluster; print the kubeconfig path.
    Start,
    /// Stop the kubelet, the Git server and every process of the cluster.
    Stop,
    /// Running or not, and the nodes.
    Status,
    /// Print the kubeconfig path (exit 1 if there is none).
    Kubeconfig,
    /// Print the folder of the control plane's binaries (no build).
    Bin,
    /// Stop a node's heartbeats; with `wait`, until it is NotReady.
    FailNode { node: String, wait: bool },
    /// Resume a node's heartbeats; with `wait`, until it is Ready.
    RestoreNode { node: String, wait: bool },
    /// The cached kubectl against the cluster.
    Kubectl { args: Vec<OsString> },
    /// SIGKILL the cluster's kube-apiserver only.
    StopApiserver,
    /// Start it again with the same flags; with `wait`, until /readyz answers.
    StartApiserver { wait: bool },
    /// Restart kube-controller-manager and kube-scheduler with the same flags.
    RestartControllers,
    /// SIGSTOP (true) or SIGCONT (false) the cluster's etcd: lists hang while paused.
    PauseEtcd(bool),
    /// Compact etcd's history up to its current revision; print the revision.
    CompactEtcd,
    /// Build the control plane's binaries unless cached; print their folder.
    Build,
    /// Build the Flux controllers unless cached; print their folder.
    BuildFlux,
    /// Install Flux's CRDs into the cluster of `kubeconfig` (else the usual kubeconfig).
    FluxCrds { kubeconfig: Option<PathBuf> },
    /// The Git server.
    GitServer(GitServerAction),
    /// The local kubelet running the Flux controllers.
    Controllers(ControllersAction),
    /// Be the Git server (what `git-server start` runs in the background).
    GitServe { root: PathBuf, port: u16, addr: String, pid_file: Option<PathBuf> },
    /// Be notification-controller's stand-in (what the local kubelet runs as its pod).
    NotificationStandIn { health_addr: String },
    /// Watch a build's process group for a SIGKILLed `up` ([`super::group_reaper`]).
    ReapGroup,
}

/// What `shardwatch local git-server` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitServerAction {
    /// Publish the manifests folder (when it changed) and serve it; print the URL.
    Start,
    /// Stop the server.
    Stop,
    /// Print the repository URL (exit 1 when not serving).
    Url,
    /// Commit the manifests folder into the bare repository.
    Publish,
}

/// What `shardwatch local controllers` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControllersAction {
    /// One line per controller; exit 0 only when all run.
    Status,
    /// Stop the kubelet, which stops every controller (SIGTERM: they release their Leases).
    Stop,
    /// Print the kubelet's folder (kubelet.log, logs/, status).
    Dir,
}

fn say(tag: &'static str) -> impl FnMut(&str) {
    move |line: &str| eprintln!("[{tag} {}] {line}", chrono::Local::now().format("%H:%M:%S"))
}

/// The manifests folder to publish: `SHARDWATCH_MANIFESTS`, else `./manifests`.
fn manifests() -> PathBuf {
    std::env::var_os("SHARDWATCH_MANIFESTS").map_or_else(|| PathBuf::from("manifests"), PathBuf::from)
}

/// Runs `action`; returns the exit code.
pub async fn run(action: LocalAction) -> Result<i32> {
    let name = cluster_name();
    match action {
        LocalAction::Start => {
            // The shape the last `up` on the local target used, unless one is named.
            let recorded =
                stood_up::read().filter(|r| r.target == UpTarget::Local).and_then(|r| r.kind_config);
            let mut opts = ClusterOptions::from_env(None);
            opts.kind_config = opts.kind_config.or(recorded);
            let path = control_plane::start(&opts, &mut say("cluster")).await?;
            eprintln!("export KUBECONFIG={}", path.display());
            println!("{}", path.display());
        }
        LocalAction::Stop => control_plane::stop(&name, &mut say("cluster")).await?,
        LocalAction::Status => match control_plane::status(&name, crate::kind_config::SEED_KEY).await {
            Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
            Err(e) => {
                println!("{e}");
                return Ok(1);
            }
        },
        LocalAction::Kubeconfig => {
            let path = kubeconfig_path(&name);
            println!("{}", path.display());
            if !path.is_file() {
                say("cluster")(&format!("cluster {name} has no kubeconfig: not started"));
                return Ok(1);
            }
        }
        LocalAction::Bin => println!("{}", ControlPlaneVersions::from_env().bin_dir().display()),
        LocalAction::FailNode { node, wait } => {
            let client = control_plane::admin_client(&running(&name).await?).await?;
            let opts = ClusterOptions::from_env(None);
            node_failure::fail(&client, &node).await?;
            say("cluster")(&format!(
                "node {node} failed: no more heartbeats; NotReady after the {}s grace period",
                opts.grace_period
            ));
            if wait {
                node_failure::wait(&client, &node, false, opts.start_timeout).await?;
                say("cluster")(&format!("node {node} is NotReady"));
            }
        }
        LocalAction::RestoreNode { node, wait } => {
            let client = control_plane::admin_client(&running(&name).await?).await?;
            node_failure::restore(&client, &node).await?;
            say("cluster")(&format!("node {node} restored: kwok heartbeats it again"));
            if wait {
                node_failure::wait(&client, &node, true, ClusterOptions::from_env(None).start_timeout)
                    .await?;
                say("cluster")(&format!("node {node} is Ready"));
            }
        }
        LocalAction::Kubectl { args } => {
            use std::os::unix::process::CommandExt;
            let kubectl = ControlPlaneVersions::from_env().bin_dir().join("kubectl");
            let err = std::process::Command::new(&kubectl)
                .arg("--kubeconfig")
                .arg(kubeconfig_path(&name))
                .args(args)
                .exec();
            return Err(err).wrap_err_with(|| format!("running {}", kubectl.display()));
        }
        LocalAction::StopApiserver => control_plane::stop_apiserver(&name, &mut say("cluster")).await?,
        LocalAction::RestartControllers => {
            control_plane::restart_controllers(&name, &mut say("cluster")).await?
        }
        LocalAction::PauseEtcd(pause) => etcd_fault::signal(&name, pause, &mut say("cluster"))?,
        LocalAction::CompactEtcd => println!("{}", etcd_fault::compact(&name, &mut say("cluster")).await?),
        LocalAction::StartApiserver { wait } => {
            let timeout = ClusterOptions::from_env(None).start_timeout;
            control_plane::start_apiserver(&name, wait, timeout, &mut say("cluster")).await?
        }
        LocalAction::Build => {
            let bin =
                component_build::build_control_plane(&ControlPlaneVersions::from_env(), &mut say("build"))
                    .await?;
            println!("{}", bin.display());
        }
        LocalAction::BuildFlux => {
            let bin = component_build::build_flux(&FluxVersions::from_env(), &mut say("build-flux")).await?;
            println!("{}", bin.display());
        }
        LocalAction::FluxCrds { kubeconfig } => {
            let client = match kubeconfig {
                Some(path) => control_plane::admin_client(&path).await?,
                None => kube::Client::try_default().await.wrap_err("no kubeconfig for the cluster")?,
            };
            let versions = FluxVersions::from_env();
            let n = flux_crds::install(&client, &versions, &mut say("flux-crds")).await?;
            let [(_, source), (_, kustomize), (_, helm)] = &versions.controllers;
            println!("flux-crds: installed {n} CRDs (source {source}, kustomize {kustomize}, helm {helm})");
        }
        LocalAction::GitServer(action) => {
            let server = GitServer::of_cluster(&name);
            let mut log = say("git-server");
            match action {
                GitServerAction::Start => println!("{}", server.start(&manifests(), &mut log).await?),
                GitServerAction::Stop => server.stop(&mut log).await?,
                GitServerAction::Publish => {
                    server.publish(&manifests(), &mut log).await?;
                }
                GitServerAction::Url => match server.url() {
                    Some(url) => println!("{url}"),
                    None => {
                        log("not serving (shardwatch local git-server start)");
                        return Ok(1);
                    }
                },
            }
        }
        LocalAction::Controllers(action) => {
            let dir = kubelet::run_dir_of(&name);
            match action {
                ControllersAction::Dir => println!("{}", dir.display()),
                ControllersAction::Stop => {
                    let pid = kubelet::running_pid(&dir);
                    if kubelet::stop(&dir).await {
                        say("flux-controllers")(&format!(
                            "stopped the local kubelet (pid {}) and its controllers",
                            pid.unwrap_or_default()
                        ));
                    } else {
                        say("flux-controllers")("the local kubelet is not running");
                    }
                }
                ControllersAction::Status => {
                    if kubelet::running_pid(&dir).is_none() {
                        println!("the local kubelet is not running (shardwatch up --target local starts it)");
                        return Ok(1);
                    }
                    let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
                    print!("{status}");
                    return Ok(if all_running(&status) { 0 } else { 1 });
                }
            }
        }
        LocalAction::GitServe { root, port, addr, pid_file } => {
            // Its starter writes it after the spawn, which a SIGKILL may not let it do.
            if let Some(file) = &pid_file {
                kubelet::write_pid_file(file, std::process::id())
                    .wrap_err_with(|| format!("writing {}", file.display()))?;
            }
            let listener = tokio::net::TcpListener::bind((addr.as_str(), port))
                .await
                .wrap_err_with(|| format!("listening on {addr}:{port}"))?;
            eprintln!("git-server: serving {} on http://{addr}:{port}/", root.display());
            git_http::serve(root, listener).await?;
        }
        LocalAction::NotificationStandIn { health_addr } => notification_stand_in::run(&health_addr).await?,
        LocalAction::ReapGroup => super::group_reaper::run(),
    }
    Ok(0)
}

/// The kubeconfig of the running cluster `name`, or why not.
async fn running(name: &str) -> Result<PathBuf> {
    if !control_plane::running(name).await {
        color_eyre::eyre::bail!("cluster {name} is not running");
    }
    Ok(kubeconfig_path(name))
}

/// Whether the kubelet's status file says every controller runs: its last line is
/// `N/M running`.
fn all_running(status: &str) -> bool {
    let last = status.lines().last().unwrap_or_default();
    let counts = last.split_whitespace().next().and_then(|c| c.split_once('/'));
    counts.is_some_and(|(n, m)| n == m && !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_file_says_all_run_only_when_its_counts_match() {
        assert!(all_running("source-controller running pid 1\n13/13 running\n"));
        assert!(!all_running("source-controller back-off\n12/13 running\n"));
        assert!(!all_running(""));
    }
}
