//! The local control plane: real etcd, kube-apiserver (with RBAC), kube-controller-manager
//! and kube-scheduler as processes, started by kwokctl's binary runtime, with kwok playing
//! the kubelets of the nodes a kind config describes. Started, checked and stopped here;
//! the binaries come from the cache ([`component_build`](super::component_build)), built
//! on first use. kwokctl keeps the cluster (pki, etcd data, logs, pids) under the cache's
//! `kwok/clusters/<name>/`, never in the repository or `~/.kwok`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr, bail, eyre};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, ServiceAccount};
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use tokio::process::Command;

use super::component_build::{self, ControlPlaneVersions, KWOK_STAGES};
use super::git_server;
use super::group_reaper::ReapedGroup;
use super::kubelet::{self, alive};
use super::node_failure::{self, MANAGED_ANNOTATION};
use crate::cache::cache_dir;
use crate::kind_config::KindConfig;

/// The processes kwokctl runs, by its names (also their pid and log file names).
const COMPONENTS: [&str; 5] =
    ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"];
/// Our own kwok stage, beside kwok's (see its comment).
const POD_READY_AGAIN: &str = include_str!("stages/pod-ready-again.yaml");
/// The field manager of what this module writes.
const MANAGER: &str = "shardwatch-local";

/// How the local cluster is run; [`ClusterOptions::from_env`] reads the environment the
/// scripts always read.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// kwokctl's cluster name (`SHARDWATCH_CLUSTER_NAME`, default `shardwatch`).
    pub name: String,
    /// The kind config whose nodes kwok plays (None: the built-in one).
    pub kind_config: Option<PathBuf>,
    /// How long to wait for the cluster and its nodes (`SHARDWATCH_START_TIMEOUT`, 120 s).
    pub start_timeout: Duration,
    /// Node monitor grace period in seconds (`SHARDWATCH_NODE_GRACE_PERIOD`, 10).
    pub grace_period: u64,
    /// Node monitor period in seconds (`SHARDWATCH_NODE_MONITOR_PERIOD`, 2).
    pub monitor_period: u64,
    /// Node Lease duration in seconds (`SHARDWATCH_NODE_LEASE_SECONDS`, 8); kwok renews at a quarter of it.
    pub lease_seconds: u64,
    /// The not-ready/unreachable toleration in seconds (`SHARDWATCH_TOLERATION_SECONDS`, 30).
    pub toleration_seconds: u64,
    /// A fixed API server port (`SHARDWATCH_APISERVER_PORT`); kwokctl picks free ports just
    /// below 32768, where a port freed by an outage can be taken by another cluster starting
    /// meanwhile, so outage tests fix one outside that range.
    pub apiserver_port: Option<u16>,
    /// The binaries' versions.
    pub versions: ControlPlaneVersions,
}

fn env_number<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

impl ClusterOptions {
    /// The options the environment names, with the kind config `kind_config`
    /// (else `SHARDWATCH_KIND_CONFIG`, else the built-in one).
    pub fn from_env(kind_config: Option<PathBuf>) -> Self {
        let kind_config =
            kind_config.or_else(|| std::env::var_os("SHARDWATCH_KIND_CONFIG").map(PathBuf::from));
        Self {
            name: cluster_name(),
            kind_config,
            start_timeout: Duration::from_secs(env_number("SHARDWATCH_START_TIMEOUT", 120)),
            grace_period: env_number("SHARDWATCH_NODE_GRACE_PERIOD", 10),
            monitor_period: env_number("SHARDWATCH_NODE_MONITOR_PERIOD", 2),
            lease_seconds: env_number("SHARDWATCH_NODE_LEASE_SECONDS", 8),
            toleration_seconds: env_number("SHARDWATCH_TOLERATION_SECONDS", 30),
            apiserver_port: std::env::var("SHARDWATCH_APISERVER_PORT").ok().and_then(|p| p.parse().ok()),
            versions: ControlPlaneVersions::from_env(),
        }
    }
}

pub use super::kubelet::cluster_name;

/// kwokctl's workdir, shared by every local cluster (`KWOK_WORKDIR`).
pub fn kwok_workdir() -> PathBuf {
    cache_dir().join("kwok")
}

/// kwokctl's folder of cluster `name`.
pub fn cluster_dir(name: &str) -> PathBuf {
    kwok_workdir().join("clusters").join(name)
}

/// The admin kubeconfig of cluster `name` (present while it exists).
pub fn kubeconfig_path(name: &str) -> PathBuf {
    cluster_dir(name).join("kubeconfig.yaml")
}

/// A client of cluster `name` whose requests give up quickly.
pub async fn admin_client(kubeconfig: &Path) -> Result<Client> {
    let config = kube::config::Kubeconfig::read_from(kubeconfig)
        .wrap_err_with(|| format!("reading {}", kubeconfig.display()))?;
    let mut config =
        kube::Config::from_custom_kubeconfig(config, &kube::config::KubeConfigOptions::default()).await?;
    config.connect_timeout = Some(Duration::from_secs(3));
    config.read_timeout = Some(Duration::from_secs(10));
    config.write_timeout = Some(Duration::from_secs(10));
    Ok(Client::try_from(config)?)
}

/// Holds `<workdir>/<name>.lock` (flock, as the scripts took it) while alive.
struct ClusterLock {
    _held: File,
}

impl ClusterLock {
    async fn take(name: &str) -> Result<Self> {
        let dir = kwok_workdir();
        std::fs::create_dir_all(&dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{name}.lock"));
        let file = File::options().create(true).truncate(false).write(true).open(&path)?;
        let deadline = Instant::now() + Duration::from_secs(600);
        while rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
            if Instant::now() > deadline {
                bail!("another start or stop of cluster {name} holds {}", path.display());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(Self { _held: file })
    }
}

/// The whole kwokctl configuration: options, component flags, kwok's stages (kwok v0.8 has
/// no built-in ones) so nodes go Ready and pods Running, and ours.
pub fn kwokctl_config(opts: &ClusterOptions, kubectl: &Path, stages: &[String]) -> String {
    let port = opts.apiserver_port.map(|p| format!("  kubeApiserverPort: {p}\n")).unwrap_or_default();
    let mut text = format!(
        r#"apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  kubeVersion: {version}
  bindAddress: 127.0.0.1
  heartbeatFactor: 1
  nodeLeaseDurationSeconds: {lease}
  kubeControllerManagerNodeMonitorPeriodMilliseconds: {monitor}
  kubeControllerManagerNodeMonitorGracePeriodMilliseconds: {grace}
  kubectlBinary: {kubectl}
{port}  # kwok serves kubectl logs from the files its Logs objects name (the local kubelet
  # writes one per Flux controller pod); the apiserver reaches kwok's kubelet server
  # through the nodes' Hostname address (localhost) and daemon endpoint port.
  enableCRDs:
  - Logs
componentsPatches:
- name: kube-apiserver
  extraArgs:
  - key: default-not-ready-toleration-seconds
    value: "{toleration}"
  - key: default-unreachable-toleration-seconds
    value: "{toleration}"
# One of each: no leader election, so an apiserver outage longer than the renew deadline
# (10 s) does not make them exit; they wait for the server like the kubelets do.
- name: kube-controller-manager
  extraArgs:
  - key: leader-elect
    value: "false"
- name: kube-scheduler
  extraArgs:
  - key: leader-elect
    value: "false"
- name: kwok-controller
  extraArgs:
  # Without a node IP, kwok's node-initialize stage empties a node's addresses when it
  # initializes the node again (after restore-node), and the API server then has no
  # address to reach kwok's kubelet server at (kubectl logs fails).
  - key: node-ip
    value: 127.0.0.1
    override: true
  - key: manage-all-nodes
    value: "false"
    override: true
  - key: manage-nodes-with-annotation-selector
    value: {annotation}=fake
"#,
        version = opts.versions.kubernetes,
        lease = opts.lease_seconds,
        monitor = opts.monitor_period * 1000,
        grace = opts.grace_period * 1000,
        kubectl = kubectl.display(),
        toleration = opts.toleration_seconds,
        annotation = MANAGED_ANNOTATION,
    );
    for stage in stages.iter().map(String::as_str).chain([POD_READY_AGAIN]) {
        text.push_str("---\n");
        text.push_str(stage);
        if !stage.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

fn pid_in(file: &Path) -> Option<u32> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

fn pid_file_alive(file: &Path) -> bool {
    pid_in(file).is_some_and(alive)
}

/// The processes of cluster `name`: kwokctl runs every binary through a link in its
/// `bin/` folder, so their first argument starts with it.
pub fn cluster_pids(name: &str) -> Vec<u32> {
    let prefix = cluster_dir(name).join("bin");
    let prefix = prefix.as_os_str().as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.starts_with(prefix) && c.get(prefix.len()) == Some(&b'/'))
        })
        .filter(|pid| alive(*pid))
        .collect()
}

/// Whether `/readyz` answers ok.
pub async fn api_ready(client: &Client) -> bool {
    let request = http::Request::get("/readyz").body(Vec::new());
    match request {
        Ok(request) => client.request_text(request).await.is_ok(),
        Err(_) => false,
    }
}

/// Running means: kwokctl finished creating it, every component's process is alive and
/// the API server answers /readyz.
pub async fn running(name: &str) -> bool {
    let kubeconfig = kubeconfig_path(name);
    if !kubeconfig.is_file() || !created_mark(name).is_file() {
        return false;
    }
    let pids = cluster_dir(name).join("pids");
    if !COMPONENTS.iter().all(|c| pid_file_alive(&pids.join(format!("{c}.pid")))) {
        return false;
    }
    match admin_client(&kubeconfig).await {
        Ok(client) => api_ready(&client).await,
        Err(_) => false,
    }
}

/// Builds the binaries unless cached; returns their folder.
pub async fn ensure_binaries(
    versions: &ControlPlaneVersions,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf> {
    let missing = versions.missing();
    if missing.is_empty() {
        return Ok(versions.bin_dir());
    }
    progress(&format!(
        "missing in {}: {}; building them (the first build takes tens of minutes)",
        versions.root().display(),
        missing.join(", ")
    ));
    component_build::build_control_plane(versions, progress).await
}

/// Starts (or reuses) the cluster, building its binaries on first use, and makes sure its
/// nodes exist and are Ready; returns the kubeconfig path.
pub async fn start(opts: &ClusterOptions, progress: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    let kind = KindConfig::read(opts.kind_config.as_deref())?;
    let bin = ensure_binaries(&opts.versions, progress).await?;
    let _lock = ClusterLock::take(&opts.name).await?;
    let mut stages = Vec::new();
    for stage in KWOK_STAGES {
        let path = opts.versions.stages_dir().join(format!("{stage}.yaml"));
        stages.push(std::fs::read_to_string(&path).wrap_err_with(|| format!("reading {}", path.display()))?);
    }
    let config = kwokctl_config(opts, &bin.join("kubectl"), &stages);
    let config_file = kwok_workdir().join(format!("{}.kwokctl.yaml", opts.name));
    let same_config = std::fs::read_to_string(&config_file).is_ok_and(|old| old == config);
    if same_config && running(&opts.name).await {
        progress(&format!("cluster {} already running", opts.name));
    } else {
        if cluster_dir(&opts.name).exists() || !cluster_pids(&opts.name).is_empty() {
            progress(&format!(
                "cluster {} is stale, half-created, half-running or configured differently: recreating it",
                opts.name
            ));
            delete(&opts.name, &bin, progress).await?;
        }
        std::fs::write(&config_file, &config)
            .wrap_err_with(|| format!("writing {}", config_file.display()))?;
        create(opts, &bin, &config_file, progress).await?;
    }
    let kubeconfig = kubeconfig_path(&opts.name);
    super::private_files::restrict(&cluster_dir(&opts.name))
        .wrap_err("making the cluster's kubeconfig and keys owner-only")?;
    let client = admin_client(&kubeconfig).await?;
    ensure_nodes(&client, &kind, opts.start_timeout, progress).await?;
    progress(&format!("cluster {} ready with nodes: {}", opts.name, kind.node_names().join(" ")));
    Ok(kubeconfig)
}

fn kwokctl(bin: &Path) -> Command {
    let mut command = Command::new(bin.join("kwokctl"));
    // KWOK_KUBECTL_BINARY keeps kwokctl from ever looking for kubectl elsewhere.
    command.env("KWOK_WORKDIR", kwok_workdir()).env("KWOK_KUBECTL_BINARY", bin.join("kubectl"));
    command
}

/// kwokctl insists on adding a context to some kubeconfig: this one, away from ~/.kube.
fn kwokctl_contexts() -> PathBuf {
    kwok_workdir().join("kwokctl-contexts.kubeconfig")
}

fn kwokctl_log(name: &str) -> Result<File> {
    let path = kwok_workdir().join(format!("{name}.kwokctl.log"));
    File::options()
        .create(true)
        .append(true)
        .open(&path)
        .wrap_err_with(|| format!("opening {}", path.display()))
}

async fn create(
    opts: &ClusterOptions,
    bin: &Path,
    config: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    progress(&format!(
        "creating cluster {} (kwokctl binary runtime, workdir {})",
        opts.name,
        cluster_dir(&opts.name).display()
    ));
    let log = kwokctl_log(&opts.name)?;
    let mut command = kwokctl(bin);
    command
        .arg("--name")
        .arg(&opts.name)
        .arg("--config")
        .arg(config)
        .args(["create", "cluster", "--runtime", "binary", "--kubeconfig"])
        .arg(kwokctl_contexts())
        .arg("--kube-apiserver-binary")
        .arg(bin.join("kube-apiserver"))
        .arg("--kube-controller-manager-binary")
        .arg(bin.join("kube-controller-manager"))
        .arg("--kube-scheduler-binary")
        .arg(bin.join("kube-scheduler"))
        .arg("--kwok-controller-binary")
        .arg(bin.join("kwok"))
        .arg("--etcd-binary")
        .arg(bin.join("etcd"))
        .arg("--wait")
        .arg(format!("{}s", opts.start_timeout.as_secs()))
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own group, killed with everything it runs (kubectl) if `up` is interrupted or
        // SIGKILLed meanwhile: a kwokctl finishing the creation alone would race the rerun's
        // recreation. The components it started so far (each in a session of its own) stay,
        // as a created cluster's would; without the completion mark the rerun recreates them.
        .process_group(0)
        .kill_on_drop(true);
    let (mut child, group) = ReapedGroup::spawn(&mut command, "running kwokctl")?;
    let status = child.wait().await.wrap_err("running kwokctl")?;
    group.ended();
    if !status.success() {
        let log = kwok_workdir().join(format!("{}.kwokctl.log", opts.name));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        for line in tail.into_iter().rev() {
            progress(line);
        }
        bail!(
            "kwokctl create cluster failed; full log: {}, component logs: {}",
            log.display(),
            cluster_dir(&opts.name).join("logs").display()
        );
    }
    std::fs::write(created_mark(&opts.name), "")
        .wrap_err_with(|| format!("marking cluster {} created", opts.name))?;
    Ok(())
}

/// Written once `kwokctl create` finished: a cluster without it was interrupted while being
/// created (its processes may all run, yet kwokctl may not have loaded its CRDs).
fn created_mark(name: &str) -> PathBuf {
    cluster_dir(name).join("shardwatch-created")
}

/// Deletes cluster `name` and every process of it (its kubelet first: it would start the
/// components kwokctl stops again).
async fn delete(name: &str, bin: &Path, progress: &mut dyn FnMut(&str)) -> Result<()> {
    if kubelet::stop(&kubelet::run_dir_of(name)).await {
        progress("local kubelet and its Flux controllers stopped");
    }
    let dir = cluster_dir(name);
    if dir.is_dir() {
        let log = kwokctl_log(name)?;
        let ok = kwokctl(bin)
            .arg("--name")
            .arg(name)
            .args(["delete", "cluster", "--kubeconfig"])
            .arg(kwokctl_contexts())
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .status()
            .await
            .is_ok_and(|s| s.success());
        if !ok {
            progress("kwokctl delete cluster failed (see its log); cleaning up by hand");
        }
    }
    // kwokctl signals the processes and returns at once: give them 3 s, then SIGTERM what
    // is left (its pid files may be lost), then SIGKILL after 10 s more. Only processes
    // running this cluster's binaries are touched, never a pid file's guess.
    let started = Instant::now();
    let mut termed = false;
    loop {
        let left = cluster_pids(name);
        if left.is_empty() {
            break;
        }
        let waited = started.elapsed();
        if waited >= Duration::from_secs(13) {
            progress(&format!("killing leftover processes: {left:?}"));
            signal_all(&left, rustix::process::Signal::KILL);
            tokio::time::sleep(Duration::from_secs(1)).await;
            break;
        } else if waited >= Duration::from_secs(3) && !termed {
            progress(&format!("terminating leftover processes: {left:?}"));
            signal_all(&left, rustix::process::Signal::TERM);
            termed = true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).wrap_err_with(|| format!("removing {}", dir.display()))?;
    }
    let left = cluster_pids(name);
    if !left.is_empty() {
        bail!("processes of cluster {name} still running: {left:?}");
    }
    Ok(())
}

fn signal_all(pids: &[u32], signal: rustix::process::Signal) {
    for pid in pids {
        // Gone already is fine: they are being stopped.
        let _ = kubelet::signal_process(*pid, signal);
    }
}

/// Stops cluster `name`: its kubelet with the Flux controllers (while the API server can
/// still take their Leases back), its Git server, then every process of the control plane.
/// `up`'s record of the cluster goes with it, so the next start reads the default kind
/// config again.
pub async fn stop(name: &str, progress: &mut dyn FnMut(&str)) -> Result<()> {
    let _lock = ClusterLock::take(name).await?;
    if kubelet::stop(&kubelet::run_dir_of(name)).await {
        progress("local kubelet and its Flux controllers stopped");
    }
    if let Err(e) = super::private_files::forget_tokens(&kubelet::run_dir_of(name)) {
        progress(&format!("warning: removing the controllers' tokens failed: {e}"));
    }
    if let Err(e) = git_server::GitServer::of_cluster(name).stop(progress).await {
        progress(&format!("warning: stopping the Git server failed: {e:#}"));
    }
    let _ = std::fs::remove_file(crate::stood_up::path_in(&cache_dir(), name));
    if !cluster_dir(name).exists() && cluster_pids(name).is_empty() {
        progress(&format!("cluster {name} is not running"));
        return Ok(());
    }
    delete(name, &ControlPlaneVersions::from_env().bin_dir(), progress).await?;
    progress(&format!("cluster {name} deleted; no process of it left"));
    Ok(())
}

/// Creates the kind config's nodes that are missing (with kwok's annotation, so kwok plays
/// their kubelets), hands back those left failed, and waits until all are Ready and the
/// default ServiceAccount exists (namespaced objects need it).
async fn ensure_nodes(
    client: &Client,
    kind: &KindConfig,
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let nodes: Api<Node> = Api::all(client.clone());
    let list = kind.node_list();
    for item in list["items"].as_array().into_iter().flatten() {
        let name = item["metadata"]["name"].as_str().unwrap_or_default();
        if nodes.get_opt(name).await?.is_none() {
            let node: Node = serde_json::from_value(item.clone())?;
            nodes
                .create(&PostParams::default(), &node)
                .await
                .wrap_err_with(|| format!("creating node {name}"))?;
        } else {
            let mut wanted = item.clone();
            if let Some(map) = wanted.as_object_mut() {
                map.remove("status");
            }
            nodes
                .patch(name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&wanted))
                .await
                .wrap_err_with(|| format!("updating node {name}"))?;
        }
    }
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    for name in kind.node_names() {
        if node_failure::held_failed(&leases, &name).await {
            progress(&format!("node {name} was left failed: restoring it"));
            node_failure::restore(client, &name).await?;
        }
    }
    let deadline = Instant::now() + timeout;
    loop {
        let listed = nodes.list(&ListParams::default()).await?;
        let not_ready: Vec<String> = kind
            .node_names()
            .into_iter()
            .filter(|n| {
                !listed
                    .items
                    .iter()
                    .any(|node| node.metadata.name.as_deref() == Some(n) && node_failure::is_ready(node))
            })
            .collect();
        if not_ready.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "nodes not Ready after {}s: {} (kwok log: {})",
                timeout.as_secs(),
                not_ready.join(" "),
                cluster_dir(&cluster_name()).join("logs/kwok-controller.log").display()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
    while accounts.get_opt("default").await.ok().flatten().is_none() {
        if Instant::now() > deadline {
            bail!("no default ServiceAccount after {}s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

/// One line per node of a running cluster: name, Ready, shard label value.
pub async fn status(name: &str, label_key: &str) -> Result<Vec<String>> {
    if !running(name).await {
        let left = cluster_pids(name);
        let mut lines = vec![format!("cluster {name}: not running")];
        if !left.is_empty() {
            lines.push(format!("stray processes of it: {left:?} (`shardwatch local stop` removes them)"));
        }
        bail!("{}", lines.join("\n"));
    }
    let kubeconfig = kubeconfig_path(name);
    let client = admin_client(&kubeconfig).await?;
    let nodes: Api<Node> = Api::all(client);
    let mut lines = vec![
        format!("cluster {name}: running (kubeconfig {})", kubeconfig.display()),
        format!("{:<32} {:<8} {label_key}", "NAME", "READY"),
    ];
    for node in nodes.list(&ListParams::default()).await?.items {
        let label = node.metadata.labels.as_ref().and_then(|l| l.get(label_key)).cloned().unwrap_or_default();
        let ready = if node_failure::is_ready(&node) { "True" } else { "False" };
        lines.push(format!("{:<32} {ready:<8} {label}", node.metadata.name.unwrap_or_default()));
    }
    Ok(lines)
}

/// A component's pid file and saved command line, for outage tests: kwokctl has no
/// per-component restart, so the command line is kept beside the pid file and replayed,
/// logging where kwokctl's did.
fn component_files(name: &str, component: &str) -> (PathBuf, PathBuf) {
    let dir = cluster_dir(name);
    (dir.join(format!("pids/{component}.pid")), dir.join(format!("{component}.cmdline")))
}

/// SIGKILLs cluster `name`'s `component` (the rest keeps running), saving its command line
/// first, and waits until it is gone; false when it was not running.
async fn kill_component(name: &str, component: &str) -> Result<bool> {
    if !kubeconfig_path(name).is_file() {
        bail!("cluster {name} is not running");
    }
    let (pid_file, cmdline) = component_files(name, component);
    let Some(pid) = pid_in(&pid_file).filter(|p| alive(*p)) else {
        return Ok(false);
    };
    if !cmdline.is_file() {
        std::fs::copy(format!("/proc/{pid}/cmdline"), &cmdline)?;
    }
    signal_all(&[pid], rustix::process::Signal::KILL);
    while alive(pid) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(true)
}

/// Starts cluster `name`'s `component` again with the command line it had, in a process
/// group of its own; returns its pid, or None when it was already running.
fn spawn_component(name: &str, component: &str) -> Result<Option<u32>> {
    let (pid_file, cmdline) = component_files(name, component);
    let args =
        std::fs::read(&cmdline).map_err(|_| eyre!("no saved command line of {component}: stop it first"))?;
    if pid_file_alive(&pid_file) {
        return Ok(None);
    }
    let mut args = args.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(a).to_os_string()
    });
    let program = args.next().ok_or_else(|| eyre!("{} is empty", cmdline.display()))?;
    let dir = cluster_dir(name);
    let log = File::options().create(true).append(true).open(dir.join(format!("logs/{component}.log")))?;
    let mut command = std::process::Command::new(program);
    command
        .args(args)
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // A process group of its own: it outlives this command, as kwokctl's processes do,
    // and a Ctrl-C in the terminal that started it does not reach it.
    use std::os::unix::process::CommandExt;
    command.process_group(0);
    let child = command.spawn().wrap_err_with(|| format!("starting {component}"))?;
    kubelet::write_pid_file(&pid_file, child.id())?;
    Ok(Some(child.id()))
}

/// SIGKILLs cluster `name`'s kube-apiserver (an outage: etcd, the controllers and kwok keep
/// running) and waits until it is gone.
pub async fn stop_apiserver(name: &str, progress: &mut dyn FnMut(&str)) -> Result<()> {
    if kill_component(name, "kube-apiserver").await? {
        progress(&format!("kube-apiserver of {name} killed"));
    } else {
        progress(&format!("kube-apiserver of {name} is not running"));
    }
    Ok(())
}

/// Starts cluster `name`'s kube-apiserver again with the command line it had; waits until
/// /readyz answers unless `wait` is false.
pub async fn start_apiserver(
    name: &str,
    wait: bool,
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    match spawn_component(name, "kube-apiserver")? {
        Some(pid) => progress(&format!("kube-apiserver of {name} started (pid {pid})")),
        None => progress(&format!("kube-apiserver of {name} already running")),
    }
    if !wait {
        return Ok(());
    }
    let client = admin_client(&kubeconfig_path(name)).await?;
    let deadline = Instant::now() + timeout;
    while !api_ready(&client).await {
        if Instant::now() > deadline {
            bail!("kube-apiserver not ready after {}s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    progress(&format!("kube-apiserver of {name} ready"));
    Ok(())
}

/// Restarts cluster `name`'s kube-controller-manager and kube-scheduler with the flags they
/// had. After apiserver outages their informers back off (up to a minute per retry) and
/// were seen stale for minutes — a deleted pod not replaced, nodes updated from old
/// resource versions — so tests that follow an outage start them afresh, as an operator
/// would.
pub async fn restart_controllers(name: &str, progress: &mut dyn FnMut(&str)) -> Result<()> {
    for component in ["kube-controller-manager", "kube-scheduler"] {
        kill_component(name, component).await?;
        let pid = spawn_component(name, component)?.unwrap_or_default();
        progress(&format!("{component} of {name} restarted (pid {pid})"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kwokctl_config_carries_the_options_and_every_stage() {
        let mut opts = ClusterOptions::from_env(None);
        opts.apiserver_port = Some(19443);
        opts.grace_period = 10;
        let text = kwokctl_config(&opts, Path::new("/bin/kubectl"), &["kind: Stage\n".to_string()]);
        assert!(text.contains("  kubeApiserverPort: 19443\n  # kwok serves"), "{text}");
        assert!(text.contains("kubeControllerManagerNodeMonitorGracePeriodMilliseconds: 10000\n"));
        assert!(text.contains("value: kwok.x-k8s.io/node=fake\n---\nkind: Stage\n---\n"));
        assert!(text.ends_with(POD_READY_AGAIN));
        // Every document parses: kwokctl reads them all.
        let docs = serde_norway::Deserializer::from_str(&text).count();
        assert_eq!(docs, 3);
        opts.apiserver_port = None;
        assert!(!kwokctl_config(&opts, Path::new("/k"), &[]).contains("kubeApiserverPort"));
    }
}
