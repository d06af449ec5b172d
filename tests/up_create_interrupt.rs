//! `up --target local` interrupted while `kwokctl create cluster` starts the control plane
//! of a throw-away cluster (its own name, ports picked by kwokctl; never the suite's):
//! Ctrl-C (SIGINT), then SIGKILL, each once the first component runs and before kwokctl
//! says the cluster is ready. After each: kwokctl and everything else `up` ran is gone; only
//! the components started so far are left, as a created cluster's would be. The rerun
//! recreates them and converges (exactly one of each component), a further run adopts the
//! cluster and changes nothing, and `down` leaves no process of it. Runs `up` with
//! `--no-flux-controllers` (the Flux controllers' starts are up_rerun.rs's), needs the
//! control plane's binaries in the cache (the suite's cluster start builds them) and the
//! local target's tools; skipped outside CI when they are missing.
//!
//! Also: the controller supervisor (kubelet) and the Git server write their own pid files,
//! so an `up` SIGKILLed between spawning one and writing its pid file leaves none that the
//! next `up` cannot see (and would start a second of).

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use shardwatch::local::component_build::ControlPlaneVersions;
use shardwatch::local::control_plane::{cluster_dir, cluster_pids, kwok_workdir};

/// The processes kwokctl starts for a cluster, by the names of their binaries.
const COMPONENTS: [&str; 5] =
    ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"];
/// What kwokctl logs before it starts the components (before, it only runs their
/// `--version` through the same links).
const KWOKCTL_STARTING: &str = "\"msg\":\"Cluster is starting\"";
/// What kwokctl logs once the cluster answers (the end of its `create`).
const KWOKCTL_READY: &str = "\"msg\":\"Cluster is ready\"";

/// A throw-away local cluster: every process `up` starts for it carries `marker` in its
/// environment. Dropping it stops the cluster and removes its files, also after a failure.
struct Throwaway {
    name: String,
    marker: String,
}

impl Throwaway {
    fn new() -> Self {
        let name = support::unique_name("swupc");
        let marker = format!("SHARDWATCH_TEST_THROWAWAY={name}");
        Throwaway { name, marker }
    }

    /// `shardwatch ARGS` for this cluster, with kwokctl picking its ports (the suite's fixed
    /// API server port, if any, is the suite cluster's).
    fn shardwatch(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_shardwatch"));
        command
            .args(["--log-file", "/dev/null"])
            .args(args)
            .env("SHARDWATCH_CLUSTER_NAME", &self.name)
            .env("SHARDWATCH_TEST_THROWAWAY", &self.name)
            .env_remove("SHARDWATCH_APISERVER_PORT")
            .env_remove("SHARDWATCH_KIND_CONFIG")
            .stdin(Stdio::null());
        command
    }

    fn up(&self) -> Command {
        self.shardwatch(&[
            "up",
            "--target",
            "local",
            "--no-tui",
            "--no-kubeconfig-update",
            "--no-flux-controllers",
        ])
    }

    fn kwokctl_log(&self) -> PathBuf {
        kwok_workdir().join(format!("{}.kwokctl.log", self.name))
    }

    /// What kwokctl logged from byte `from` on.
    fn kwokctl_log_since(&self, from: usize) -> String {
        let text = std::fs::read(self.kwokctl_log()).unwrap_or_default();
        String::from_utf8_lossy(text.get(from..).unwrap_or_default()).into_owned()
    }

    /// Every process `up` started for this cluster that is still alive.
    fn ours(&self) -> Vec<u32> {
        let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|b| *b == 0).any(|kv| kv == self.marker.as_bytes()))
            })
            .collect()
    }

    /// The cluster's component processes, counted by binary.
    fn components(&self) -> BTreeMap<String, Vec<u32>> {
        let mut by_binary: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for pid in cluster_pids(&self.name) {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
            let binary = String::from_utf8_lossy(argv0).rsplit('/').next().unwrap_or_default().to_string();
            by_binary.entry(binary).or_default().push(pid);
        }
        by_binary
    }

    /// Whether a component kwokctl started (its pid file written) runs.
    fn component_started(&self) -> bool {
        let running = cluster_pids(&self.name);
        let Ok(files) = std::fs::read_dir(cluster_dir(&self.name).join("pids")) else { return false };
        files
            .filter_map(|f| std::fs::read_to_string(f.ok()?.path()).ok()?.trim().parse::<u32>().ok())
            .any(|p| running.contains(&p))
    }

    /// Waits until the only processes of ours left are the cluster's components (what the
    /// rerun adopts or recreates and `down` stops): no kwokctl, kubectl or reaper.
    fn only_components_left(&self, after: &str) {
        support::wait_until(
            Duration::from_secs(20),
            &format!("only the components left after {after}"),
            || {
                let components = cluster_pids(&self.name);
                let others: Vec<String> =
                    self.ours().into_iter().filter(|p| !components.contains(p)).map(describe).collect();
                if others.is_empty() { Ok(()) } else { Err(format!("also running: {others:?}")) }
            },
        );
    }

    /// Starts `up`, waits for its "creating cluster" line, then until the first component
    /// runs while kwokctl still runs, and sends `signal`; returns how `up` ended, once only
    /// the components are left. Fails when kwokctl finished the creation (the interrupt
    /// came too late, or kwokctl outlived `up`).
    fn interrupt_creation(&self, signal: &str) -> std::process::ExitStatus {
        let log_from = std::fs::metadata(self.kwokctl_log()).map_or(0, |m| m.len() as usize);
        let mut up =
            self.up().stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("run shardwatch up");
        let creating = format!("creating cluster {} (", self.name);
        let seen = read_until(&mut up, &creating);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !(self.kwokctl_log_since(log_from).contains(KWOKCTL_STARTING) && self.component_started()) {
            assert!(Instant::now() < deadline, "no component started within 60 s:\n{seen}");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(self.ours().into_iter().any(|p| comm(p) == "kwokctl"), "kwokctl ran no more when signalled");
        kill(&up, signal);
        let status = up.wait().unwrap();
        self.only_components_left(signal);
        // Checked once kwokctl is gone: one that outlived `up` would have finished the
        // creation alone, racing the rerun's.
        let logged = self.kwokctl_log_since(log_from);
        assert!(
            !logged.contains(KWOKCTL_READY),
            "kwokctl finished the cluster after {signal} (too late, or it outlived `up`):\n{logged}"
        );
        status
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        if !self.ours().is_empty() || cluster_dir(&self.name).exists() {
            let _ = self.shardwatch(&["local", "stop"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        let workdir = kwok_workdir();
        for file in ["kwokctl.yaml", "kwokctl.log", "lock"] {
            let _ = std::fs::remove_file(workdir.join(format!("{}.{file}", self.name)));
        }
        let _ = std::fs::remove_dir_all(workdir.join(format!("{}.kubelet", self.name)));
        let _ = std::fs::remove_dir_all(cluster_dir(&self.name));
        let cache = shardwatch::local::cache_dir();
        let lock = shardwatch::bootstrap::up_lock::lock_path(&cache, &format!("local-{}", self.name));
        let _ = std::fs::remove_file(lock);
        let _ = std::fs::remove_file(shardwatch::stood_up::path_in(&cache, &self.name));
    }
}

/// Reads `up`'s stderr until a line containing `wanted`, then drains the rest in the
/// background (a full pipe would stall it); returns the lines read.
fn read_until(up: &mut Child, wanted: &str) -> String {
    let mut stderr = BufReader::new(up.stderr.take().unwrap());
    let (mut seen, mut line) = (String::new(), String::new());
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline && stderr.read_line(&mut line).is_ok_and(|n| n > 0) {
        seen.push_str(&line);
        if line.contains(wanted) {
            break;
        }
        line.clear();
    }
    assert!(seen.contains(wanted), "up never printed {wanted:?}:\n{seen}");
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    seen
}

fn kill(child: &Child, signal: &str) {
    let ok = Command::new("kill").args([signal, &child.id().to_string()]).status().is_ok_and(|s| s.success());
    assert!(ok, "kill {signal}");
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

fn describe(pid: u32) -> String {
    format!("{pid} {}", comm(pid))
}

fn run(command: &mut Command, what: &str) -> String {
    let Output { status, stderr, .. } = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let said = String::from_utf8_lossy(&stderr).into_owned();
    assert!(status.success(), "{what} failed ({status}):\n{said}");
    said
}

/// The control plane's binaries are built by the suite's cluster start; without them `up`
/// would spend tens of minutes building. A failure under CI, a skip elsewhere.
fn binaries_missing() -> bool {
    if support::local_target_tools_missing() {
        return true;
    }
    let missing = ControlPlaneVersions::from_env().missing();
    if missing.is_empty() {
        return false;
    }
    let why = format!(
        "the control plane's binaries are not built: {missing:?} (tests/localcluster/cluster.sh start builds them)"
    );
    assert!(!support::under_ci(), "required under CI=true: {why}");
    eprintln!("skipping: {why}");
    true
}

#[test]
fn up_interrupted_while_kwokctl_creates_the_cluster_leaves_only_its_components_and_a_rerun_converges() {
    if binaries_missing() {
        return;
    }
    let cluster = Throwaway::new();

    // Ctrl-C: `up` exits 130, kwokctl is killed with it.
    let status = cluster.interrupt_creation("-INT");
    assert_eq!(status.code(), Some(130), "Ctrl-C exits 130");

    // SIGKILL (no handler runs) during the next creation, which first removes the
    // half-created cluster: the reaper takes kwokctl with `up`.
    let status = cluster.interrupt_creation("-KILL");
    assert_eq!(status.code(), None, "killed by a signal");

    // The rerun recreates the half-created cluster and runs to the end.
    let log_from = std::fs::metadata(cluster.kwokctl_log()).map_or(0, |m| m.len() as usize);
    let said = run(&mut cluster.up(), "the rerun");
    assert!(said.contains("recreating it"), "the half-created cluster was not recreated:\n{said}");
    assert!(said.contains(&format!("cluster {} ready with nodes", cluster.name)), "{said}");
    assert!(cluster.kwokctl_log_since(log_from).contains(KWOKCTL_READY));
    let components = cluster.components();
    let counts: BTreeMap<&str, usize> = components.iter().map(|(k, v)| (k.as_str(), v.len())).collect();
    assert_eq!(counts, COMPONENTS.iter().map(|c| (*c, 1)).collect(), "one of each component: {components:?}");
    cluster.only_components_left("the rerun");

    // A further run adopts the cluster as it is.
    let said = run(&mut cluster.up(), "a further run");
    assert!(said.contains(&format!("cluster {} already running", cluster.name)), "{said}");
    assert!(said.contains("up to date: nothing changed"), "{said}");
    assert_eq!(cluster.components(), components, "the same processes, adopted");

    run(&mut cluster.shardwatch(&["down", "--target", "local", "--no-kubeconfig-update"]), "down");
    support::wait_until(Duration::from_secs(20), "no process of the cluster after down", || {
        match cluster.ours().as_slice() {
            [] => Ok(()),
            left => {
                Err(format!("still running: {:?}", left.iter().map(|p| describe(*p)).collect::<Vec<_>>()))
            }
        }
    });
    assert!(!cluster_dir(&cluster.name).exists(), "down removed the cluster's folder");
}

/// A fresh temporary folder.
fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(support::unique_name(what));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The pid `file` names, if it names one.
fn pid_in(file: &std::path::Path) -> Option<u32> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

#[test]
fn the_git_server_and_the_kubelet_write_their_own_pid_files() {
    let dir = temp_dir("own-pid-files");
    // The Git server, started the way `up` starts it, minus the starter's own write.
    let pid_file = dir.join("server.pid");
    let mut server = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .args(["--log-file", "/dev/null", "local", "git-serve", "--root"])
        .arg(&dir)
        .args(["--port", "0", "--pid-file"])
        .arg(&pid_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run shardwatch local git-serve");
    let written = support::wait_until(Duration::from_secs(20), "the Git server's own pid file", || {
        pid_in(&pid_file).ok_or_else(|| format!("{} holds no pid", pid_file.display()))
    });
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(written, server.id());

    // The kubelet writes its pid file before anything else (here it then fails: the
    // kubeconfig does not exist).
    let run_dir = dir.join("kubelet");
    std::fs::create_dir_all(&run_dir).unwrap();
    let opts = shardwatch::local::kubelet::KubeletOptions {
        kubeconfig: dir.join("no-such-kubeconfig"),
        cluster_dir: dir.join("no-such-cluster"),
        run_dir: run_dir.clone(),
        flux_bin: dir.join("no-flux"),
        namespace: "flux-system".into(),
        label_key: "sharding.fluxcd.io/key".into(),
        shards: vec!["shard1".into()],
        port_base: 1,
        requeue_dependency: "5s".into(),
    };
    let options = dir.join("kubelet.options.json");
    std::fs::write(&options, serde_json::to_vec(&opts).unwrap()).unwrap();
    let mut kubelet = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .args(["--log-file", "/dev/null", "kubelet", "--options"])
        .arg(&options)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run shardwatch kubelet");
    let status = kubelet.wait().unwrap();
    assert!(!status.success(), "no kubeconfig: the kubelet cannot run");
    assert_eq!(pid_in(&run_dir.join("kubelet.pid")), Some(kubelet.id()), "its own pid, written first");
    let leftovers: Vec<_> =
        std::fs::read_dir(&run_dir).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(leftovers, ["kubelet.pid"], "no partial file left beside it");
    std::fs::remove_dir_all(&dir).unwrap();
}
