//! Shared helpers for tests that run against the local cluster (tests/localcluster):
//! finding it, kubectl, waiting with deadlines, throwaway namespaces and node failures.
//!
//! The rule for a missing cluster: under `CI=true` a cluster test fails; elsewhere it
//! prints why and returns early. Use it as
//! `let Some(cluster) = support::cluster() else { return };`.
//!
//! Sibling helper files (flux_stack.rs, pty.rs) are not declared here, so a cluster test
//! does not compile the PTY code and vice versa; a test binary that needs one adds
//! `#[path = "support/pty.rs"] mod pty;` (or declare it here once it suits every test).
#![allow(dead_code)] // every test binary uses its own subset

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The local cluster as the tests reach it: a kubeconfig and a kubectl of the right version.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Path of the cluster's kubeconfig.
    pub kubeconfig: PathBuf,
    /// The kubectl binary built with the cluster (or `SHARDWATCH_KUBECTL`).
    pub kubectl: PathBuf,
}

/// `tests/localcluster/cluster.sh` in this repository.
pub fn cluster_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/localcluster/cluster.sh")
}

/// Whether `go` or `bash`, which the local target needs, is missing: under CI that is a
/// failure (panics), elsewhere the test is skipped (prints why, returns true).
pub fn local_target_tools_missing() -> bool {
    let on_path = |tool: &str| {
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
    };
    match ["go", "bash"].into_iter().find(|t| !on_path(t)) {
        None => false,
        Some(tool) if under_ci() => {
            panic!("`{tool}` is required on PATH under CI=true (the local target needs it)")
        }
        Some(tool) => {
            eprintln!("skipping: `{tool}` is not on PATH");
            true
        }
    }
}

/// Whether the tests run under CI, where a missing cluster is a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The reachable local cluster, or `None` (reason printed) when it is missing outside
/// CI. Panics under CI when the cluster cannot be reached.
pub fn cluster() -> Option<Cluster> {
    static FOUND: OnceLock<Result<Cluster, String>> = OnceLock::new();
    match FOUND.get_or_init(find_cluster) {
        Ok(cluster) => Some(cluster.clone()),
        Err(why) if under_ci() => panic!(
            "the local cluster is required under CI=true but is unreachable: {why}\n\
             start it with `tests/localcluster/cluster.sh start` or run `tests/localcluster/test.sh`"
        ),
        Err(why) => {
            eprintln!(
                "skipping: local cluster unreachable ({why}); start it with tests/localcluster/cluster.sh start"
            );
            None
        }
    }
}

fn find_cluster() -> Result<Cluster, String> {
    let kubeconfig = match std::env::var_os("SHARDWATCH_TEST_KUBECONFIG") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(script_output(&["kubeconfig"])?),
    };
    if !kubeconfig.is_file() {
        return Err(format!("kubeconfig {} does not exist", kubeconfig.display()));
    }
    let kubectl = match std::env::var_os("SHARDWATCH_KUBECTL") {
        Some(path) => PathBuf::from(path),
        None => Path::new(&script_output(&["bin"])?).join("kubectl"),
    };
    if !kubectl.is_file() {
        return Err(format!(
            "kubectl {} does not exist (tests/localcluster/build.sh builds it)",
            kubectl.display()
        ));
    }
    let cluster = Cluster { kubeconfig, kubectl };
    cluster
        .kubectl(&["get", "--raw", "/readyz", "--request-timeout=5s"])
        .map_err(|e| format!("API server not ready: {e}"))?;
    cluster.settled_nodes(Duration::from_secs(120))?;
    cluster.settled_controllers(Duration::from_secs(180))?;
    Ok(cluster)
}

fn script_output(args: &[&str]) -> Result<String, String> {
    let out = Command::new(cluster_script())
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cluster_script().display()))?;
    if !out.status.success() {
        return Err(format!(
            "cluster.sh {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "`kubectl {}` exited with {}: {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

impl Cluster {
    /// Waits until every node is Ready with no not-ready/unreachable taint: a test binary
    /// that restarted the apiserver (or failed a node) before this one may leave nodes
    /// tainted for a while, and pods would then be evicted or stay unscheduled under the
    /// next binary's tests.
    fn settled_nodes(&self, deadline: Duration) -> Result<(), String> {
        let start = Instant::now();
        loop {
            let nodes = self.get_json(&["get", "nodes"])?;
            let unsettled: Vec<String> = nodes["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|n| {
                    let tainted = n["spec"]["taints"].as_array().into_iter().flatten().any(|t| {
                        matches!(
                            t["key"].as_str(),
                            Some("node.kubernetes.io/unreachable" | "node.kubernetes.io/not-ready")
                        )
                    });
                    tainted || condition(n, "Ready") != Some("True")
                })
                .map(|n| n["metadata"]["name"].as_str().unwrap_or_default().to_string())
                .collect();
            if unsettled.is_empty() {
                return Ok(());
            }
            if start.elapsed() >= deadline {
                return Err(format!("nodes not Ready (or still tainted) after {deadline:?}: {unsettled:?}"));
            }
            thread::sleep(Duration::from_millis(500));
        }
    }

    /// Waits until kube-controller-manager acts on new objects again: a new namespace gets
    /// its default ServiceAccount. After an apiserver restart (a previous binary's outage
    /// tests) its informers can stay backed off for a minute or more, and until then no
    /// namespace gets that account, so no pod can be created in it.
    fn settled_controllers(&self, deadline: Duration) -> Result<(), String> {
        let name = unique_name("sw-settle");
        self.kubectl(&["create", "namespace", &name])?;
        let start = Instant::now();
        let result = loop {
            match self.kubectl(&["-n", &name, "get", "serviceaccount", "default"]) {
                Ok(_) => break Ok(()),
                Err(e) if start.elapsed() >= deadline => {
                    break Err(format!(
                        "no default ServiceAccount in a new namespace after {deadline:?}: {e}"
                    ));
                }
                Err(_) => thread::sleep(Duration::from_millis(500)),
            }
        };
        let _ = self.kubectl(&["delete", "namespace", &name, "--wait=false"]);
        if start.elapsed() > Duration::from_secs(5) {
            eprintln!("kube-controller-manager took {:?} to act on a new namespace", start.elapsed());
        }
        result
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.kubectl);
        cmd.arg("--kubeconfig").arg(&self.kubeconfig);
        cmd
    }

    /// Runs the real shardwatch binary against this cluster, stdin closed and logs
    /// discarded; returns (exit code, stdout, stderr).
    pub fn shardwatch(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--log-file", "/dev/null"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run shardwatch");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    }

    /// Runs kubectl; its stdout on success, a description with stderr otherwise.
    pub fn kubectl(&self, args: &[&str]) -> Result<String, String> {
        let out = self.command().args(args).output().map_err(|e| format!("cannot run kubectl: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(describe(args, &out))
        }
    }

    /// Runs kubectl with `input` on stdin (e.g. `apply -f -`).
    pub fn kubectl_stdin(&self, args: &[&str], input: &str) -> Result<String, String> {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run kubectl: {e}"))?;
        child.stdin.take().expect("piped stdin").write_all(input.as_bytes()).map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(describe(args, &out))
        }
    }

    /// `kubectl ... -o json`, parsed.
    pub fn get_json(&self, args: &[&str]) -> Result<serde_json::Value, String> {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let text = self.kubectl(&all)?;
        serde_json::from_str(&text).map_err(|e| format!("kubectl {} gave invalid JSON: {e}", args.join(" ")))
    }

    /// Applies YAML or JSON manifests; panics with kubectl's message on failure.
    pub fn apply(&self, manifests: &str) {
        if let Err(e) = self.kubectl_stdin(&["apply", "-f", "-"], manifests) {
            panic!("apply failed: {e}\n{manifests}");
        }
    }

    /// Creates a uniquely named namespace, deleted again when the guard drops.
    pub fn namespace(&self, prefix: &str) -> Namespace {
        let name = unique_name(prefix);
        if let Err(e) = self.kubectl(&["create", "namespace", &name]) {
            panic!("cannot create namespace {name}: {e}");
        }
        // Leftovers of crashed runs can be found (and deleted) by this label.
        let _ = self.kubectl(&["label", "namespace", &name, "shardwatch.test/owner=cargo-test"]);
        // Pods are refused until the namespace's default ServiceAccount exists.
        wait_until(Duration::from_secs(60), &format!("default ServiceAccount in {name}"), || {
            self.kubectl(&["-n", &name, "get", "serviceaccount", "default"]).map(|_| ())
        });
        Namespace { cluster: self.clone(), name }
    }

    /// [`Cluster::namespace`] without waiting for its default ServiceAccount: for tests that
    /// create no pods, right after an apiserver restart, when kube-controller-manager's
    /// informers may still be backing off (client-go waits up to a minute between retries).
    pub fn bare_namespace(&self, prefix: &str) -> Namespace {
        let name = unique_name(prefix);
        if let Err(e) = self.kubectl(&["create", "namespace", &name]) {
            panic!("cannot create namespace {name}: {e}");
        }
        let _ = self.kubectl(&["label", "namespace", &name, "shardwatch.test/owner=cargo-test"]);
        Namespace { cluster: self.clone(), name }
    }

    /// Stops the node's heartbeats (`cluster.sh fail-node`) until the guard drops or
    /// [`FailedNode::restore`] is called. Waits for tests using healthy nodes to finish.
    pub fn fail_node(&self, node: &str) -> FailedNode {
        let exclusive = node_faults_exclusive();
        let node = node.to_string();
        // Armed before failing, so even a half-done failure is undone.
        let guard = FailedNode { node: node.clone(), restored: false, _exclusive: exclusive };
        if let Err(e) = script_output(&["fail-node", &node]) {
            panic!("cannot fail node {node}: {e}");
        }
        guard
    }

    /// The Ready condition's status of a node ("True", "False", "Unknown"), if any.
    pub fn node_ready(&self, node: &str) -> Result<String, String> {
        let node = self.get_json(&["get", "node", node])?;
        Ok(condition(&node, "Ready").unwrap_or("").to_string())
    }
}

/// The `status` of condition `kind` in an object's `.status.conditions`.
pub fn condition<'a>(object: &'a serde_json::Value, kind: &str) -> Option<&'a str> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .and_then(|c| c["status"].as_str())
}

/// A throwaway namespace; deleted (without waiting) on drop.
pub struct Namespace {
    cluster: Cluster,
    /// The namespace's name.
    pub name: String,
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Err(e) = self.cluster.kubectl(&["delete", "namespace", &self.name, "--wait=false"]) {
            eprintln!("could not delete namespace {}: {e}", self.name);
        }
    }
}

/// A node failed by a test; restored (and waited Ready) on drop, even when the test panics.
pub struct FailedNode {
    node: String,
    restored: bool,
    _exclusive: RwLockWriteGuard<'static, ()>,
}

impl FailedNode {
    /// Restores the node and waits until it is Ready again; panics if it does not come back.
    pub fn restore(mut self) {
        self.restored = true;
        if let Err(e) = script_output(&["restore-node", &self.node, "--wait"]) {
            panic!("cannot restore node {}: {e}", self.node);
        }
    }
}

impl Drop for FailedNode {
    fn drop(&mut self) {
        if self.restored {
            return;
        }
        if let Err(e) = script_output(&["restore-node", &self.node, "--wait"]) {
            eprintln!(
                "could not restore node {}: {e}; `tests/localcluster/cluster.sh start` heals it",
                self.node
            );
        }
    }
}

static NODE_FAULTS: RwLock<()> = RwLock::new(());

/// Held by tests that need every node healthy; node failures wait for them (and they
/// for a failure in progress). Only within one test binary: cargo runs binaries one by one.
pub fn healthy_nodes() -> RwLockReadGuard<'static, ()> {
    NODE_FAULTS.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn node_faults_exclusive() -> RwLockWriteGuard<'static, ()> {
    NODE_FAULTS.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A DNS-1123 name unique to this process and call: `prefix-<pid>-<n>-<time>`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() % 1_000_000).unwrap_or(0);
    let prefix: String = prefix.chars().take(30).collect();
    format!("{prefix}-{}-{n}-{millis}", std::process::id())
}

/// Polls `check` until it returns `Ok`, or panics after `deadline` with `what` and the
/// last `Err` it returned (say what was seen, so a timeout explains itself).
pub fn wait_until<T>(deadline: Duration, what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match check() {
            Ok(value) => return value,
            Err(last) if start.elapsed() >= deadline => {
                panic!("timed out after {deadline:?} waiting for {what}; last seen: {last}")
            }
            Err(_) => thread::sleep(Duration::from_millis(500)),
        }
    }
}
