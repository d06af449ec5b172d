//! A kubelet for the local world, in one background process (`shardwatch kubelet`, started
//! by `up`): kwok plays the nodes' kubelets towards the API, but runs nothing, so this
//! process runs what must really run. Each Flux controller Deployment's current pod gets
//! its controller as a local process ([`container`]): restarted with the kubelet's
//! back-off when it exits (restart count and state on the pod), killed when its node
//! fails, moved when its pod moves, its output served by `kubectl logs` through kwok.
//! The control plane's processes are started again when they die ([`control_plane`]).
//!
//! Its state lives in the cluster's run folder: `kubelet.pid`, `kubelet.log` (what it
//! did), `status` (one line per controller), `logs/` (the pods' log files), `storage/`.

mod backoff;
mod container;
mod control_plane;
mod cri_log;
mod pod_choice;
mod pod_event;
mod pod_report;
mod process;
mod service_account;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr, bail};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};
use tokio::signal::unix::{SignalKind, signal};

use container::{Container, Context, ControllerSpec, View};
use control_plane::ControlPlane;
pub use control_plane::alive;
pub use process::{own_process_group, signal_group, signal_process, write_pid_file};

/// The controllers of each set, in port order.
pub const CONTROLLERS: [&str; 3] = ["source-controller", "kustomize-controller", "helm-controller"];
/// The one unsharded controller, run as shardwatch's stand-in.
pub const NOTIFICATION_CONTROLLER: &str = "notification-controller";

/// Everything the kubelet needs; written beside its pid so a second `up` can tell
/// whether the running one is the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeletOptions {
    /// The local cluster's admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// kwokctl's folder of the cluster (`kwok.yaml`, `pids/`, `logs/`).
    pub cluster_dir: PathBuf,
    /// The kubelet's own folder.
    pub run_dir: PathBuf,
    /// Where the Flux controller binaries are.
    pub flux_bin: PathBuf,
    /// The Flux namespace.
    pub namespace: String,
    /// The shard label key.
    pub label_key: String,
    /// The shards, in order (set 1, 2, …; the main set is 0).
    pub shards: Vec<String>,
    /// First port: set s, controller c listen on base + 10 s + 3 c + (0 metrics, 1 health, 2 storage).
    pub port_base: u16,
    /// Flux's `--requeue-dependency` (shorter than its 30 s on this small world).
    pub requeue_dependency: String,
}

/// The kubelet's folder for the local cluster named by the environment (beside kwokctl's
/// folder of the cluster, which `kwokctl delete` removes).
pub fn run_dir() -> PathBuf {
    run_dir_of(&cluster_name())
}

/// The kubelet's folder for local cluster `name`.
pub fn run_dir_of(name: &str) -> PathBuf {
    crate::cache::cache_dir().join("kwok").join(format!("{name}.kubelet"))
}

/// The local cluster's name: `SHARDWATCH_CLUSTER_NAME`, else `shardwatch`.
pub fn cluster_name() -> String {
    std::env::var("SHARDWATCH_CLUSTER_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "shardwatch".into())
}

impl KubeletOptions {
    /// The options for the local cluster named by the environment (as the scripts do:
    /// `SHARDWATCH_CLUSTER_NAME`, `SHARDWATCH_FLUX_PORT_BASE`, `SHARDWATCH_FLUX_REQUEUE_DEPENDENCY`).
    pub fn for_local_cluster(
        kubeconfig: &Path,
        flux_bin: PathBuf,
        namespace: &str,
        label_key: &str,
        shards: &[String],
    ) -> Self {
        let name = cluster_name();
        let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        Self {
            kubeconfig: kubeconfig.to_path_buf(),
            cluster_dir: crate::cache::cache_dir().join("kwok").join("clusters").join(&name),
            run_dir: run_dir(),
            flux_bin,
            namespace: namespace.to_string(),
            label_key: label_key.to_string(),
            shards: shards.to_vec(),
            port_base: env("SHARDWATCH_FLUX_PORT_BASE").and_then(|p| p.parse().ok()).unwrap_or(19400),
            requeue_dependency: env("SHARDWATCH_FLUX_REQUEUE_DEPENDENCY").unwrap_or_else(|| "5s".into()),
        }
    }

    /// The sets: "main" then the shards, with their index.
    fn sets(&self) -> impl Iterator<Item = (usize, &str)> {
        std::iter::once("main").chain(self.shards.iter().map(String::as_str)).enumerate()
    }

    fn port(&self, set: usize, controller: usize, offset: usize) -> u16 {
        self.port_base + (10 * set + 3 * controller + offset) as u16
    }

    /// Every controller process: its Deployment, binary and flags.
    pub fn controllers(&self) -> Vec<ControllerSpec> {
        let mut specs = Vec::new();
        for (si, set) in self.sets() {
            for (ci, controller) in CONTROLLERS.iter().enumerate() {
                let name = if set == "main" { controller.to_string() } else { format!("{controller}-{set}") };
                let selector = if set == "main" {
                    format!("!{}", self.label_key)
                } else {
                    format!("{}={set}", self.label_key)
                };
                let mut dirs = Vec::new();
                let mut args = vec![
                    // Only the Flux namespace: the tests' namespaces hold hand-written statuses.
                    "--watch-all-namespaces=false".to_string(),
                    format!("--watch-label-selector={selector}"),
                    "--enable-leader-election".into(),
                    format!("--metrics-addr=127.0.0.1:{}", self.port(si, ci, 0)),
                    format!("--health-addr=127.0.0.1:{}", self.port(si, ci, 1)),
                    "--log-level=info".into(),
                    "--log-encoding=json".into(),
                ];
                if *controller == "source-controller" {
                    // Artifact URLs point at this process.
                    let storage = format!("127.0.0.1:{}", self.port(si, ci, 2));
                    let path = self.run_dir.join("storage").join(&name);
                    args.push(format!("--storage-addr={storage}"));
                    args.push(format!("--storage-adv-addr={storage}"));
                    args.push(format!("--storage-path={}", path.display()));
                    dirs.push(path);
                } else {
                    args.push(format!("--requeue-dependency={}", self.requeue_dependency));
                }
                specs.push(ControllerSpec { name, binary: self.flux_bin.join(controller), args, dirs });
            }
        }
        // notification-controller is not built (its module is not on the Go proxy): its pod
        // runs shardwatch's stand-in, which holds its Lease and answers its probes.
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("shardwatch"));
        let health = format!("--health-addr={}", self.notification_health());
        specs.push(ControllerSpec {
            name: NOTIFICATION_CONTROLLER.into(),
            binary: exe,
            args: vec!["local".into(), "notification-stand-in".into(), health],
            dirs: Vec::new(),
        });
        specs
    }

    /// The notification-controller stand-in's health address: the set after the shards.
    fn notification_health(&self) -> String {
        format!("127.0.0.1:{}", self.port(self.shards.len() + 1, 0, 1))
    }

    /// Each controller's health address, for readiness.
    pub fn health_addresses(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (si, set) in self.sets() {
            for (ci, controller) in CONTROLLERS.iter().enumerate() {
                let name = if set == "main" { controller.to_string() } else { format!("{controller}-{set}") };
                out.push((name, format!("127.0.0.1:{}", self.port(si, ci, 1))));
            }
        }
        out.push((NOTIFICATION_CONTROLLER.into(), self.notification_health()));
        out
    }

    fn options_file(&self) -> PathBuf {
        self.run_dir.join("kubelet.options.json")
    }

    /// The kubelet's own log.
    pub fn log_file(&self) -> PathBuf {
        self.run_dir.join("kubelet.log")
    }
}

/// The kubelet's pid file in `run_dir`.
fn pid_file(run_dir: &Path) -> PathBuf {
    run_dir.join("kubelet.pid")
}

/// The pid of the running kubelet of `run_dir`, if one runs.
pub fn running_pid(run_dir: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(pid_file(run_dir)).ok()?.trim().parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let is_ours = cmdline.split(|b| *b == 0).any(|arg| arg == b"kubelet");
    (is_ours && control_plane::alive(pid)).then_some(pid)
}

/// Starts the kubelet in the background unless one with the same options runs; true
/// when it started one. It outlives this process (as kwokctl's components do); `down`
/// and `cluster.sh stop` stop it.
pub async fn ensure_running(opts: &KubeletOptions) -> Result<bool> {
    let same = std::fs::read(opts.options_file())
        .ok()
        .and_then(|b| serde_json::from_slice::<KubeletOptions>(&b).ok())
        .is_some_and(|old| old == *opts);
    if running_pid(&opts.run_dir).is_some() {
        if same {
            return Ok(false);
        }
        stop(&opts.run_dir).await;
    }
    std::fs::create_dir_all(&opts.run_dir)
        .wrap_err_with(|| format!("creating {}", opts.run_dir.display()))?;
    std::fs::write(opts.options_file(), serde_json::to_vec_pretty(opts)?)?;
    let log = std::fs::OpenOptions::new().create(true).append(true).open(opts.log_file())?;
    let exe = std::env::current_exe().wrap_err("finding shardwatch's own binary")?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("kubelet")
        .arg("--options")
        .arg(opts.options_file())
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    process::own_process_group(&mut cmd);
    let child = cmd.spawn().wrap_err("starting the local kubelet")?;
    // The kubelet writes it too, first thing: an `up` SIGKILLed right after the spawn
    // leaves no kubelet the next `up` cannot see (and start a second of).
    let pid = child.id().unwrap_or_default();
    write_pid_file(&pid_file(&opts.run_dir), pid)?;
    Ok(true)
}

/// Stops the kubelet of `run_dir`, if it runs (it stops its controllers first), and
/// waits for it; true when one ran.
pub async fn stop(run_dir: &Path) -> bool {
    let Some(pid) = running_pid(run_dir) else { return false };
    process::signal_group(pid, rustix::process::Signal::TERM);
    let deadline = Instant::now() + Duration::from_secs(40);
    while control_plane::alive(pid) {
        if Instant::now() > deadline {
            process::signal_group(pid, rustix::process::Signal::KILL);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    true
}

/// Waits until every controller answers on its health address `/readyz`; fails early
/// when the kubelet is gone.
pub async fn wait_ready(
    opts: &KubeletOptions,
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let addresses = opts.health_addresses();
    loop {
        let mut pending = Vec::new();
        for (name, address) in &addresses {
            if !ready(address).await {
                pending.push(name.as_str());
            }
        }
        if pending.is_empty() {
            progress(&format!(
                "{} controllers ready (kubelet log: {})",
                addresses.len(),
                opts.log_file().display()
            ));
            return Ok(());
        }
        if running_pid(&opts.run_dir).is_none() {
            bail!("the local kubelet exited; see {}", opts.log_file().display());
        }
        if Instant::now() > deadline {
            bail!(
                "not ready after {}s: {} (kubelet log: {}, the pods' logs: kubectl logs)",
                timeout.as_secs(),
                pending.join(", "),
                opts.log_file().display()
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Whether `GET http://address/readyz` answers 200.
async fn ready(address: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
        stream.write_all(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n").await.ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        Some(head.ends_with(b"200"))
    };
    tokio::time::timeout(Duration::from_secs(2), attempt).await.ok().flatten().unwrap_or(false)
}

/// Reads the options a kubelet was started with.
pub fn read_options(path: &Path) -> Result<KubeletOptions> {
    let bytes = std::fs::read(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).wrap_err_with(|| format!("parsing {}", path.display()))
}

/// A client whose requests give up quickly, so an API server outage never stalls a round.
async fn client(kubeconfig: &Path) -> Result<kube::Client> {
    let config = kube::config::Kubeconfig::read_from(kubeconfig)?;
    let mut config =
        kube::Config::from_custom_kubeconfig(config, &kube::config::KubeConfigOptions::default()).await?;
    config.connect_timeout = Some(Duration::from_secs(3));
    config.read_timeout = Some(Duration::from_secs(5));
    config.write_timeout = Some(Duration::from_secs(5));
    Ok(kube::Client::try_from(config)?)
}

/// Reads the Flux namespace's pods and the nodes; None when the API cannot be reached.
async fn view(client: &kube::Client, namespace: &str) -> Option<View> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let nodes: Api<Node> = Api::all(client.clone());
    let pods = pods.list(&ListParams::default()).await.ok()?.items;
    let nodes = nodes.list(&ListParams::default()).await.ok()?.items;
    Some(View { pods, alive: pod_choice::alive_nodes(&nodes) })
}

fn say(line: &str) {
    eprintln!("{} {line}", chrono::Utc::now().format("%H:%M:%S"));
}

/// The kubelet itself (`shardwatch kubelet`): a round a second until SIGTERM or SIGINT,
/// then every controller is stopped (SIGTERM, so they release their Leases).
pub async fn run(opts: &KubeletOptions) -> Result<()> {
    // Its starter writes it after the spawn, which a SIGKILL may not let it do.
    write_pid_file(&pid_file(&opts.run_dir), std::process::id())
        .wrap_err("writing the kubelet's pid file")?;
    let client = client(&opts.kubeconfig).await?;
    let ctx = Context {
        client: client.clone(),
        namespace: opts.namespace.clone(),
        kubeconfig: opts.kubeconfig.clone(),
        log_dir: opts.run_dir.join("logs"),
        credentials_dir: opts.run_dir.join("credentials"),
    };
    let mut containers: Vec<Container> = opts.controllers().into_iter().map(Container::new).collect();
    let mut control_plane = ControlPlane::new(opts.cluster_dir.clone());
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    say(&format!("kubelet started (pid {}) for {} controllers", std::process::id(), containers.len()));
    let mut last_status = String::new();
    loop {
        let now = Instant::now();
        for line in control_plane.check(now) {
            say(&line);
        }
        let view = view(&client, &opts.namespace).await;
        for c in &mut containers {
            for line in c.sync(view.as_ref(), &ctx, now).await {
                say(&line);
            }
        }
        let status: String = containers.iter().map(|c| c.status_line() + "\n").collect();
        if status != last_status {
            let running = containers.iter().filter(|c| c.running()).count();
            let text = format!(
                "{status}{running}/{} running (kubelet pid {})\n",
                containers.len(),
                std::process::id()
            );
            let tmp = opts.run_dir.join("status.new");
            if std::fs::write(&tmp, text)
                .and_then(|()| std::fs::rename(&tmp, opts.run_dir.join("status")))
                .is_ok()
            {
                last_status = status;
            }
        }
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    say("stopping every controller");
    let mut said = Vec::new();
    for c in &mut containers {
        c.stop(false, &mut said);
    }
    for c in &mut containers {
        c.stopped().await;
    }
    let _ = std::fs::remove_file(opts.run_dir.join("status"));
    say("kubelet stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> KubeletOptions {
        KubeletOptions {
            kubeconfig: "/k".into(),
            cluster_dir: "/c".into(),
            run_dir: "/r".into(),
            flux_bin: "/bin".into(),
            namespace: "flux-system".into(),
            label_key: "example.com/shard".into(),
            shards: vec!["a".into(), "b".into()],
            port_base: 19800,
            requeue_dependency: "5s".into(),
        }
    }

    #[test]
    fn every_set_runs_three_controllers_on_its_own_ports_and_label() {
        let specs = opts().controllers();
        assert_eq!(specs.len(), 10);
        let kc_b = specs.iter().find(|s| s.name == "kustomize-controller-b").unwrap();
        assert!(kc_b.args.contains(&"--watch-label-selector=example.com/shard=b".to_string()));
        assert!(kc_b.args.contains(&"--health-addr=127.0.0.1:19824".to_string()));
        let main = specs.iter().find(|s| s.name == "source-controller").unwrap();
        assert!(main.args.contains(&"--watch-label-selector=!example.com/shard".to_string()));
        assert!(main.args.contains(&"--storage-adv-addr=127.0.0.1:19802".to_string()));
        assert_eq!(main.binary, Path::new("/bin/source-controller"));
        // The 10th: notification-controller's stand-in, on the ports after the last shard's.
        let notification = specs.iter().find(|s| s.name == "notification-controller").unwrap();
        assert_eq!(notification.args, ["local", "notification-stand-in", "--health-addr=127.0.0.1:19831"]);
        assert_eq!(opts().health_addresses().last().unwrap().1, "127.0.0.1:19831");
    }
}
