//! The local kubelet (`shardwatch kubelet`, started by `up --target local`) against the
//! real local cluster and the real Flux controllers: a controller process that dies is
//! restarted with back-off and the restart shows on its pod and in its Events, as a kubelet
//! reports it; an
//! API server that dies comes back, and with it every Flux controller's leadership
//! (kube-controller-manager and kube-scheduler run without leader election, so they wait
//! the outage out; a new Deployment's pods show they work again);
//! `kubectl logs` of a controller pod reads that process's own output.
//! Needs `tests/localcluster/cluster.sh start` and the Flux binaries (test.sh builds them).

#[path = "support/follow.rs"]
mod follow;
#[path = "support/real_flux.rs"]
mod real_flux;
mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use follow::{Follow, shard_health};
use real_flux::FLUX_NS;
use serde_json::Value;
use support::{Cluster, wait_until};

/// The tests kill processes the others need: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Back-off 10 s, a dead leader's Lease 35 s, a controller's start: within this.
const DEADLINE: Duration = Duration::from_secs(180);
const SHARDS: [&str; 3] = ["shard1", "shard2", "shard3"];

fn flux_controllers(arg: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/localcluster/flux-controllers.sh");
    let out = std::process::Command::new(script).arg(arg).output().expect("run flux-controllers.sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The kubelet's line for one controller: (pid, pod) while it runs.
fn process(name: &str) -> Result<(u32, String), String> {
    let status = flux_controllers("status");
    let line = status.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap_or_default();
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [_, "running", "pid", pid, "pod", pod, ..] => {
            Ok((pid.parse().map_err(|e| format!("{e}"))?, pod.to_string()))
        }
        _ => Err(format!("{name} not running: {line:?}")),
    }
}

fn kill(signal: &str, pid: u32) {
    let ok = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {signal} {pid}");
}

fn container_status(cluster: &Cluster, pod: &str) -> Result<Value, String> {
    let pod = cluster.get_json(&["-n", FLUX_NS, "get", "pod", pod])?;
    Ok(pod["status"]["containerStatuses"][0].clone())
}

fn all_healthy(follow: &mut Follow) {
    follow.wait_for(DEADLINE, "every shard Healthy", |s| {
        for shard in std::iter::once("main").chain(SHARDS) {
            let h = shard_health(s, shard)?;
            if h != "Healthy" {
                return Err(format!("{shard} is {h}"));
            }
        }
        Ok(())
    });
}

#[test]
fn sigkill_of_each_shards_kustomize_controller_is_restarted_visibly_and_the_shard_heals() {
    let Some(cluster) = support::cluster() else { return };
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    real_flux::up(&cluster);
    let mut follow = Follow::start(&cluster, &["-n", FLUX_NS]);
    all_healthy(&mut follow);

    let mut killed = Vec::new();
    for shard in SHARDS {
        let name = format!("kustomize-controller-{shard}");
        let (pid, pod) = process(&name).unwrap();
        let before = container_status(&cluster, &pod).unwrap()["restartCount"].as_i64().unwrap_or(0);
        kill("-KILL", pid);
        killed.push((name, pid, pod, before));
    }

    for (name, pid, pod, before) in &killed {
        // The pod shows the restart as a kubelet reports one: one more restart, the last
        // run ended by SIGKILL (exit code 137), running again.
        let status = wait_until(DEADLINE, &format!("{pod} restarted"), || {
            let c = container_status(&cluster, pod)?;
            let restarts = c["restartCount"].as_i64().unwrap_or(0);
            if restarts > *before && c["state"]["running"].is_object() { Ok(c) } else { Err(format!("{c}")) }
        });
        assert_eq!(status["lastState"]["terminated"]["exitCode"], 137, "{status}");
        // The kubelet writes its status file at the end of a round, after the pods' patches.
        let (new_pid, same_pod) =
            wait_until(DEADLINE, &format!("{name} running in the status file"), || process(name));
        assert_ne!(new_pid, *pid, "{name} runs as a new process");
        assert_eq!(&same_pod, pod, "{name} is restarted in its own pod, not moved");
        // And as Events from the kubelet of the pod's node, as `kubectl describe pod` lists
        // them: a BackOff Warning, then Started again.
        let reasons = wait_until(DEADLINE, &format!("BackOff and Started Events of {pod}"), || {
            let selector = format!("involvedObject.name={pod}");
            let list = cluster.get_json(&["-n", FLUX_NS, "get", "events", "--field-selector", &selector])?;
            let events = list["items"].as_array().cloned().unwrap_or_default();
            let from_kubelet: Vec<&Value> =
                events.iter().filter(|e| e["source"]["component"] == "kubelet").collect();
            let back_off = from_kubelet.iter().find(|e| e["reason"] == "BackOff" && e["type"] == "Warning");
            let started = from_kubelet.iter().filter(|e| e["reason"] == "Started").count();
            match back_off {
                Some(b) if started >= 2 => {
                    Ok((b["message"].clone(), b["involvedObject"]["fieldPath"].clone()))
                }
                _ => Err(format!("{} Events from the kubelet, {started} Started", from_kubelet.len())),
            }
        });
        let message = reasons.0.as_str().unwrap_or_default();
        assert!(
            message.starts_with("Back-off ") && message.contains("s restarting failed container "),
            "{reasons:?}"
        );
        assert!(reasons.1.as_str().unwrap_or_default().starts_with("spec.containers{"), "{reasons:?}");
    }
    // Each new process takes the Lease over once the killed one's runs out.
    all_healthy(&mut follow);
}

/// The Lease's renew time.
fn renewed(lease: &Value) -> Option<DateTime<Utc>> {
    lease["spec"]["renewTime"].as_str()?.parse().ok()
}

#[test]
fn an_api_server_restart_brings_every_leader_back_and_pods_are_scheduled_again() {
    let Some(cluster) = support::cluster() else { return };
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    real_flux::up(&cluster);
    let cluster_dir: PathBuf =
        cluster.kubeconfig.parent().expect("kubeconfig in the cluster's folder").into();
    let pid_file = cluster_dir.join("pids/kube-apiserver.pid");
    let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    let killed_at = Utc::now();
    kill("-KILL", pid);

    wait_until(DEADLINE, "the API server back", || {
        cluster.kubectl(&["get", "--raw", "/readyz", "--request-timeout=3s"]).map(|_| ())
    });
    let new_pid: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert_ne!(new_pid, pid, "a new kube-apiserver process");

    // Every Flux leader renews its Lease after the restart, each as its current pod: the
    // seed's 13 controllers (3 × (main + 3 shards), and notification-controller, which the
    // local world runs as shardwatch's stand-in).
    wait_until(DEADLINE, "every Lease renewed after the restart", || {
        let flux = cluster.get_json(&["-n", FLUX_NS, "get", "leases"])?;
        let leases: Vec<&Value> = flux["items"].as_array().into_iter().flatten().collect();
        if leases.len() != 13 {
            return Err(format!("{} Leases", leases.len()));
        }
        let holders: Vec<&str> = leases.iter().filter_map(|l| l["spec"]["holderIdentity"].as_str()).collect();
        if !holders.iter().any(|h| h.starts_with("notification-controller-")) {
            return Err(format!("no notification-controller leader among {holders:?}"));
        }
        let stale: Vec<&str> = leases
            .iter()
            .filter(|l| renewed(l).is_none_or(|t| t <= killed_at))
            .filter_map(|l| l["metadata"]["name"].as_str())
            .collect();
        if stale.is_empty() { Ok(()) } else { Err(format!("not renewed since the restart: {stale:?}")) }
    });
    let mut follow = Follow::start(&cluster, &["-n", FLUX_NS]);
    all_healthy(&mut follow);

    // The scheduler and the controller manager work again: a new Deployment gets its pods.
    let ns = cluster.namespace("after-apiserver");
    cluster.apply(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: after-restart\n  namespace: {}\n\
         spec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: after-restart}}\n  template:\n    \
         metadata:\n      labels: {{app: after-restart}}\n    spec:\n      containers:\n      - name: c\n        \
         image: example.invalid/after-restart\n",
        ns.name
    ));
    wait_until(DEADLINE, "the new Deployment's pods scheduled and Running", || {
        let pods = cluster.get_json(&["-n", &ns.name, "get", "pods"])?;
        let items = pods["items"].as_array().cloned().unwrap_or_default();
        let running = items
            .iter()
            .filter(|p| p["spec"]["nodeName"].is_string() && p["status"]["phase"] == "Running")
            .count();
        if running == 2 { Ok(()) } else { Err(format!("{running}/2 pods scheduled and Running: {pods}")) }
    });
}

#[test]
fn kubectl_logs_of_a_controller_pod_shows_that_processs_output() {
    let Some(cluster) = support::cluster() else { return };
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    real_flux::up(&cluster);
    let (_, pod) = process("kustomize-controller-shard2").unwrap();
    // The process logs its Lease under its hostname, which is the pod's name.
    let text = wait_until(DEADLINE, "the leader's log line in kubectl logs", || {
        let text = cluster.kubectl(&["-n", FLUX_NS, "logs", "deploy/kustomize-controller-shard2"])?;
        if text.contains("successfully acquired lease") { Ok(text) } else { Err(text) }
    });
    let first: Value =
        serde_json::from_str(text.lines().next().unwrap()).expect("JSON log lines (--log-encoding=json)");
    assert!(first["level"].is_string(), "{first}");
    assert!(text.contains(&pod) || text.contains("kustomize-controller-leader-election"), "{text}");

    // Still so after its node failed and came back (kwok initializes the node again then;
    // the API server must still find an address to reach kwok's kubelet server at).
    let failed = cluster.fail_node(NODE2);
    wait_until(DEADLINE, "shardwatch-worker2 NotReady", || match cluster.node_ready(NODE2)?.as_str() {
        "True" => Err("still Ready".to_string()),
        _ => Ok(()),
    });
    failed.restore();
    wait_until(DEADLINE, "kubectl logs of the process started after the node came back", || {
        let text = cluster.kubectl(&["-n", FLUX_NS, "logs", "deploy/kustomize-controller-shard2"])?;
        if text.contains("successfully acquired lease") { Ok(()) } else { Err(text) }
    });
}

/// shard2's worker.
const NODE2: &str = "shardwatch-worker2";

/// Puts a ClusterRole back as it was, however the test ends.
struct RoleBack<'a> {
    cluster: &'a Cluster,
    role: Value,
}

impl Drop for RoleBack<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.cluster.kubectl_stdin(&["replace", "-f", "-"], &self.role.to_string()) {
            eprintln!("could not put ClusterRole back: {e}; `shardwatch up --target local` restores it");
        }
    }
}

#[test]
fn a_controller_calls_the_api_as_its_service_account_so_its_cluster_role_applies() {
    let Some(cluster) = support::cluster() else { return };
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    real_flux::up(&cluster);
    real_flux::chain_ready(&cluster);
    const ROLE: &str = "source-controller-flux-system";
    let mut role = cluster.get_json(&["get", "clusterrole", ROLE]).unwrap();
    let rules = role["rules"].as_array().cloned().unwrap_or_default();
    let granted = |r: &Value| {
        r["resources"].as_array().into_iter().flatten().any(|res| res == "gitrepositories/status")
    };
    let narrowed_rules: Vec<Value> = rules.iter().filter(|r| !granted(r)).cloned().collect();
    assert!(narrowed_rules.len() < rules.len(), "{ROLE} grants gitrepositories/status: {rules:?}");
    for key in ["resourceVersion", "uid", "creationTimestamp", "managedFields"] {
        role["metadata"].as_object_mut().unwrap().remove(key);
    }
    let back = RoleBack { cluster: &cluster, role: role.clone() };
    let mut narrowed = role.clone();
    narrowed["rules"] = Value::Array(narrowed_rules);
    cluster.kubectl_stdin(&["replace", "-f", "-"], &narrowed.to_string()).unwrap();

    // shard1's source-controller reconciles the infrastructure's GitRepository and can no
    // longer write its status: the admin kubeconfig could, its ServiceAccount cannot.
    let token = real_flux::request_reconcile(&cluster, "gitrepository", "shardwatch-infra");
    let denial = wait_until(DEADLINE, "source-controller-shard1 denied the status update", || {
        let text = cluster.kubectl(&["-n", FLUX_NS, "logs", "deploy/source-controller-shard1"])?;
        text.lines()
            .find(|l| l.contains("forbidden") && l.contains("gitrepositories/status"))
            .map(str::to_string)
            .ok_or_else(|| "no denial logged yet".to_string())
    });
    assert!(
        denial.contains("system:serviceaccount:flux-system:source-controller"),
        "the denial names the ServiceAccount: {denial}"
    );

    // With the permission back, the request is handled.
    drop(back);
    let again = real_flux::request_reconcile(&cluster, "gitrepository", "shardwatch-infra");
    assert_ne!(token, again);
    real_flux::wait_handled(&cluster, "gitrepository", "shardwatch-infra", &again, DEADLINE);
}
