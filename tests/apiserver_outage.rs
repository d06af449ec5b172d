//! The local cluster's kube-apiserver killed (SIGKILL) and started again under a running
//! `snapshot --follow`: the outage is reported with the time it began, every watch is Live
//! again soon after the server is back (relist or not, idle kinds too), and what is then
//! shown equals a fresh `snapshot`.
//!
//! Only this cluster's apiserver is touched (`cluster.sh stop-apiserver|start-apiserver`);
//! etcd, the controllers and kwok keep running. The tests of this file take turns, and a
//! guard starts the apiserver again even when a test fails. `SHARDWATCH_OUTAGE_RESTARTS`
//! (default 2) sets how many restarts the churn test goes through (the README's figure
//! is from 10).

#[path = "support/flux_stack.rs"]
mod flux_stack;
#[path = "support/pty.rs"]
mod pty;
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use support::{Cluster, cluster_script};

/// The bound: within this of a loss, or of the server being back, the screen says so.
const WITHIN: Duration = Duration::from_secs(5);

static ONE_OUTAGE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The apiserver, killed by a test; started again on drop if the test did not.
struct Outage {
    down: bool,
}

impl Outage {
    fn begin() -> (Outage, DateTime<Utc>) {
        let at = Utc::now();
        script(&["stop-apiserver"]);
        (Outage { down: true }, at)
    }

    /// Starts it again and returns when /readyz answered (the time it answered).
    fn end(&mut self) -> DateTime<Utc> {
        script(&["start-apiserver"]);
        let back = Utc::now();
        self.down = false;
        // After repeated outages kube-controller-manager's informers back off for minutes
        // (a deleted pod in a later test was not replaced within 90 s): they start afresh,
        // so the tests after this one meet controllers that act. Not shardwatch's watches.
        script(&["restart-controllers"]);
        back
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if self.down {
            let _ = Command::new(cluster_script()).arg("start-apiserver").status();
            let _ = Command::new(cluster_script()).arg("restart-controllers").status();
        }
    }
}

fn script(args: &[&str]) {
    let out = Command::new(cluster_script()).args(args).output().expect("run cluster.sh");
    assert!(out.status.success(), "cluster.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Flux controllers lose their leader election when the apiserver goes and exit; when this
/// cluster ran them, they are started again afterwards, as a kubelet would.
fn restart_flux_controllers_if_they_ran(were_running: bool) {
    if were_running {
        let _ = Command::new(flux_script()).arg("start").status();
    }
}

fn flux_script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/localcluster/flux-controllers.sh")
}

fn flux_controllers_running() -> bool {
    Command::new(flux_script()).arg("status").output().is_ok_and(|o| o.status.success())
}

/// `snapshot --follow -o json` running against the cluster, its lines parsed as they come.
struct Follow {
    child: Child,
    lines: Receiver<Value>,
    /// Its stderr, so a follow that ends says why.
    stderr: std::path::PathBuf,
    /// The newest line [`Follow::until`] has read: a follow that has converged prints
    /// nothing more, so what it shows now may be a line already read.
    newest: std::cell::RefCell<Option<Value>>,
}

impl Follow {
    fn start(cluster: &Cluster) -> Follow {
        Follow::logged(cluster, std::path::Path::new("/dev/null"))
    }

    /// [`Follow::start`] logging to `log`.
    fn logged(cluster: &Cluster, log: &std::path::Path) -> Follow {
        let stderr = std::env::temp_dir().join(support::unique_name("sw-follow-stderr"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .arg("--log-file")
            .arg(log)
            .args(["snapshot", "--follow", "-o", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("a file for stderr"))
            .spawn()
            .expect("run shardwatch snapshot --follow");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        return;
                    }
                }
            }
        });
        Follow { child, lines, stderr, newest: std::cell::RefCell::new(None) }
    }

    /// The newest of the lines printed since the last read, if any (remembered as newest).
    fn drain(&self) -> Option<Value> {
        let line = self.lines.try_iter().last();
        if line.is_some() {
            self.newest.borrow_mut().clone_from(&line);
        }
        line
    }

    /// The first line `pred` accepts within `deadline`; panics with the last line seen.
    fn until(&self, deadline: Duration, what: &str, mut pred: impl FnMut(&Value) -> bool) -> Value {
        let start = Instant::now();
        let mut last = Value::Null;
        loop {
            let left = deadline.saturating_sub(start.elapsed());
            let line = self.lines.recv_timeout(left);
            if let Ok(v) = &line {
                *self.newest.borrow_mut() = Some(v.clone());
            }
            match line {
                Ok(v) if pred(&v) => return v,
                Ok(v) => last = v,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no line with {what} within {deadline:?}; last: {}", watches(&last))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let said = std::fs::read_to_string(&self.stderr).unwrap_or_default();
                    panic!("snapshot --follow ended waiting for {what}; its stderr: {said}")
                }
            }
        }
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stderr);
    }
}

fn watches(snap: &Value) -> String {
    snap["watches"].to_string()
}

/// Every watch is as it was before the outage: Live, or (Flux CRDs absent) NotInstalled;
/// none Lost or still listing.
fn all_live(snap: &Value) -> bool {
    snap["watches"].as_object().is_some_and(|w| {
        !w.is_empty() && w.contains_key("nodes") && w.values().all(|s| s == "Live" || s == "NotInstalled")
    })
}

/// The start of the outage each lost watch reports.
fn lost_since(snap: &Value) -> Vec<DateTime<Utc>> {
    let Some(w) = snap["watches"].as_object() else { return vec![] };
    w.values()
        .filter_map(|s| s["Lost"]["since"].as_str())
        .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .collect()
}

fn taken_at(snap: &Value) -> DateTime<Utc> {
    snap["taken_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn secs(d: chrono::TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

/// Goes through one outage under `follow`: the loss reported with its start, retries not
/// moving it, then every watch Live again. Returns (seconds to say lost, seconds to Live).
fn one_outage(follow: &Follow, hold: Duration) -> (f64, f64) {
    let (mut outage, killed) = Outage::begin();
    let lost = follow.until(Duration::from_secs(20), "a lost watch", |s| !lost_since(s).is_empty());
    let since = lost_since(&lost);
    let first = *since.iter().min().expect("a lost watch");
    assert!(
        first >= killed - chrono::TimeDelta::seconds(1),
        "outage start {first} before the kill at {killed}"
    );
    let noticed = secs(first - killed);
    assert!(noticed <= WITHIN.as_secs_f64(), "the loss was noticed {noticed} s after the kill");
    std::thread::sleep(hold);
    // Retries while the server is away keep the start of the outage.
    let later = follow.drain().unwrap_or(lost);
    if let Some(again) = lost_since(&later).into_iter().min() {
        assert_eq!(again, first, "retries moved the start of the outage: {}", watches(&later));
    }
    let back = outage.end();
    let live = follow.until(Duration::from_secs(60), "every watch Live", all_live);
    (noticed, secs(taken_at(&live) - back))
}

#[test]
fn a_killed_apiserver_is_reported_from_when_it_went_and_every_watch_is_live_again_after() {
    let Some(cluster) = support::cluster() else { return };
    let _turn = ONE_OUTAGE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let flux = flux_controllers_running();
    let follow = Follow::start(&cluster);
    follow.until(Duration::from_secs(60), "every watch Live", all_live);
    // Held 8 s: longer than the first retries, so a retry that replaced the start would show.
    let (noticed, live_after) = one_outage(&follow, Duration::from_secs(8));
    eprintln!("loss noticed {noticed:.1} s after the kill; every watch Live {live_after:.1} s after /readyz");
    // A line is printed at most once a second after the change that made it.
    assert!(
        live_after <= WITHIN.as_secs_f64() + 1.0,
        "watches Live only {live_after} s after the server was back"
    );
    restart_flux_controllers_if_they_ran(flux);
}

/// How many restarts the churn test goes through (`SHARDWATCH_OUTAGE_RESTARTS`, default 2).
fn restarts() -> usize {
    std::env::var("SHARDWATCH_OUTAGE_RESTARTS").ok().and_then(|v| v.parse().ok()).unwrap_or(2)
}

/// The Kustomizations of `namespace` a snapshot shows, by name, with their state.
fn kustomizations(snap: &Value, namespace: &str) -> std::collections::BTreeMap<String, String> {
    let a = &snap["assignment"];
    a["shards"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["objects"].as_array().into_iter().flatten())
        .chain(a["orphans"].as_array().into_iter().flatten())
        .filter(|o| o["key"]["kind"] == "Kustomization" && o["key"]["namespace"] == namespace)
        .map(|o| (o["key"]["name"].as_str().unwrap_or("").to_string(), o["state"]["state"].to_string()))
        .collect()
}

/// Node names a snapshot shows.
fn nodes(snap: &Value) -> Vec<String> {
    let mut n: Vec<String> = snap["placement"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["name"].as_str().map(str::to_string))
        .collect();
    n.sort();
    n
}

#[test]
fn restarts_during_a_burst_of_changes_converge_to_what_a_fresh_snapshot_reports() {
    let Some(cluster) = support::cluster() else { return };
    let _turn = ONE_OUTAGE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let flux = flux_controllers_running();
    flux_stack::install_flux_crds(&cluster);
    let ns = cluster.bare_namespace("outage-churn");
    let follow = Follow::start(&cluster);
    follow.until(Duration::from_secs(60), "every watch Live", all_live);
    // The burst: Kustomizations created, and every third one's elder deleted, one every
    // 50 ms, through the restarts (kubectl fails while the server is away; it goes on).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let burst = {
        let (cluster, ns, stop) = (cluster.clone(), ns.name.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = cluster.kubectl_stdin(
                    &["apply", "-f", "-"],
                    &flux_stack::kustomization(&ns, &format!("ks-{i}"), Some("shard1"), &[]),
                );
                if i % 3 == 2 {
                    let _ = cluster.kubectl(&[
                        "-n",
                        &ns,
                        "delete",
                        "kustomization",
                        &format!("ks-{}", i - 2),
                        "--wait=false",
                    ]);
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            i
        })
    };
    let mut figures = Vec::new();
    for _ in 0..restarts() {
        std::thread::sleep(Duration::from_secs(2));
        figures.push(one_outage(&follow, Duration::from_secs(3)));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let made = burst.join().expect("the burst thread");
    restart_flux_controllers_if_they_ran(flux);
    // What the long-running follow shows equals a fresh snapshot: no ghosts, nothing missed.
    let fresh = || {
        let (code, out, err) = cluster.shardwatch(&["snapshot", "-o", "json"]);
        assert_eq!(code, 0, "snapshot: {err}");
        serde_json::from_str::<Value>(&out).expect("snapshot JSON")
    };
    let mut last_diff = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    // The newest line so far, including one `until` already read: a follow that has
    // converged prints nothing more.
    let mut newest: Option<Value> = follow.newest.borrow().clone();
    loop {
        let want = fresh();
        newest = follow.drain().or(newest);
        if let Some(seen) = &newest {
            let (a, b) = (kustomizations(seen, &ns.name), kustomizations(&want, &ns.name));
            if a == b && nodes(seen) == nodes(&want) && all_live(seen) {
                eprintln!(
                    "{} restarts, {made} Kustomizations created (a third deleted); (noticed s, Live s after /readyz): {figures:?}; {} shown, as a fresh snapshot",
                    figures.len(),
                    a.len()
                );
                break;
            }
            last_diff = format!(
                "follow {} vs fresh {} Kustomizations: {:?}",
                a.len(),
                b.len(),
                a.keys().filter(|k| !b.contains_key(*k)).collect::<Vec<_>>()
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the followed model never equalled a fresh snapshot: {last_diff}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    for (noticed, live) in figures {
        assert!(noticed <= WITHIN.as_secs_f64(), "a loss noticed after {noticed} s");
        assert!(live <= WITHIN.as_secs_f64() + 1.0, "watches Live {live} s after the server was back");
    }
}

/// This cluster's etcd, stopped (SIGSTOP) so that lists hang while the apiserver still
/// answers `/version`; continued on drop if the test did not.
struct PausedEtcd {
    paused: bool,
}

impl PausedEtcd {
    fn begin() -> PausedEtcd {
        script(&["pause-etcd"]);
        PausedEtcd { paused: true }
    }

    fn end(&mut self) {
        script(&["resume-etcd"]);
        self.paused = false;
    }
}

impl Drop for PausedEtcd {
    fn drop(&mut self) {
        if self.paused {
            let _ = Command::new(cluster_script()).arg("resume-etcd").status();
        }
    }
}

/// The header's watch line (the third line of the screen).
fn watch_line(screen: &str) -> String {
    screen.lines().find(|l| l.starts_with("watch ")).unwrap_or_default().to_string()
}

/// Waits until the dashboard's screen satisfies `pred`; panics with the screen.
fn screen_until(term: &pty::Terminal, deadline: Duration, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let screen = term.contents();
        if pred(&screen) {
            return screen;
        }
        assert!(start.elapsed() < deadline, "the screen never showed {what} within {deadline:?}:\n{screen}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn during_the_initial_list_the_header_says_syncing_and_a_restart_then_converges() {
    let Some(cluster) = support::cluster() else { return };
    let _turn = ONE_OUTAGE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let flux = flux_controllers_running();
    flux_stack::install_flux_crds(&cluster);
    let ns = cluster.bare_namespace("outage-list");
    for i in 0..3 {
        cluster.apply(&flux_stack::kustomization(&ns.name, &format!("ks-{i}"), Some("shard1"), &[]));
    }
    // With etcd stopped the apiserver answers /version (so shardwatch connects) but no
    // list: every kind stays in its initial list, for as long as the test wants.
    let mut etcd = PausedEtcd::begin();
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    let term = pty::Terminal::spawn(
        env!("CARGO_BIN_EXE_shardwatch"),
        &["--kubeconfig", &kubeconfig, "--log-file", "/dev/null"],
        &[("NO_COLOR", "1")],
        160,
        48,
    );
    let follow = Follow::start(&cluster);
    let syncing = screen_until(&term, Duration::from_secs(30), "the syncing header", |s| {
        watch_line(s).contains("syncing: ")
    });
    let line = watch_line(&syncing);
    assert!(line.contains(" of 13 kinds listed"), "the header counts the kinds listed: {line}");
    assert!(!line.contains("live"), "nothing is live while listing: {line}");
    assert!(syncing.contains("? UNKNOWN"), "no verdict from half a list:\n{syncing}");
    eprintln!("header during the initial list: {}", line.trim_end());

    // The apiserver killed while every list hangs, then etcd and the apiserver back.
    let (mut outage, _) = Outage::begin();
    etcd.end();
    outage.end();
    restart_flux_controllers_if_they_ran(flux);
    let back = Instant::now();
    screen_until(&term, Duration::from_secs(60), "the lists done", |s| {
        let w = watch_line(s);
        !w.contains("syncing") && !w.contains("connection lost") && !w.is_empty()
    });
    eprintln!("lists done on screen {:.1} s after /readyz", back.elapsed().as_secs_f64());
    follow.until(Duration::from_secs(60), "every watch Live", all_live);

    // A change after the restart, and the model equals a fresh snapshot.
    cluster.kubectl(&["-n", &ns.name, "delete", "kustomization", "ks-0"]).expect("delete ks-0");
    cluster.apply(&flux_stack::kustomization(&ns.name, "ks-3", Some("shard1"), &[]));
    let want: Vec<String> = ["ks-1", "ks-2", "ks-3"].map(String::from).to_vec();
    let seen = follow.until(Duration::from_secs(30), "ks-1..3 and no ks-0", |s| {
        kustomizations(s, &ns.name).into_keys().collect::<Vec<_>>() == want
    });
    let (code, out, err) = cluster.shardwatch(&["snapshot", "-o", "json"]);
    assert_eq!(code, 0, "snapshot: {err}");
    let fresh: Value = serde_json::from_str(&out).expect("snapshot JSON");
    assert_eq!(kustomizations(&seen, &ns.name), kustomizations(&fresh, &ns.name), "followed vs fresh");
    assert_eq!(nodes(&seen), nodes(&fresh), "followed vs fresh nodes");
}

fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().expect("kill");
    assert!(ok.success(), "kill -{name} {pid}");
}

/// The follow's process, continued on drop if a test stopped it and failed.
struct Stopped(u32);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.0.to_string()]).status();
    }
}

#[test]
fn a_paused_watch_whose_history_was_compacted_gets_410_and_relists_to_a_fresh_snapshot() {
    let Some(cluster) = support::cluster() else { return };
    let _turn = ONE_OUTAGE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let flux = flux_controllers_running();
    flux_stack::install_flux_crds(&cluster);
    let ns = cluster.bare_namespace("outage-gone");
    for i in 0..5 {
        cluster.apply(&flux_stack::kustomization(&ns.name, &format!("ks-{i}"), Some("shard1"), &[]));
    }
    let log = std::env::temp_dir().join(support::unique_name("gone-log"));
    let follow = Follow::logged(&cluster, &log);
    follow.until(Duration::from_secs(60), "every watch Live with ks-0..4", |s| {
        all_live(s) && kustomizations(s, &ns.name).len() == 5
    });
    // The watch paused: shardwatch stopped while the cluster moves on without it.
    signal(follow.child.id(), "STOP");
    let stopped = Stopped(follow.child.id());
    for name in ["ks-0", "ks-1"] {
        cluster.kubectl(&["-n", &ns.name, "delete", "kustomization", name]).expect("delete");
    }
    for name in ["ks-5", "ks-6"] {
        cluster.apply(&flux_stack::kustomization(&ns.name, name, Some("shard1"), &[]));
    }
    cluster
        .kubectl(&[
            "-n",
            &ns.name,
            "patch",
            "kustomization",
            "ks-2",
            "--subresource=status",
            "--type=merge",
            "-p",
            &flux_stack::status("False", "BuildFailed", "changed while the watch was paused", None),
        ])
        .expect("patch ks-2's status");
    // History compacted past what the paused watch saw, and the apiserver restarted so its
    // watch cache starts after the compaction too: the watch resumes from a version that
    // no longer exists anywhere.
    script(&["compact-etcd"]);
    let (mut outage, _) = Outage::begin();
    outage.end();
    restart_flux_controllers_if_they_ran(flux);
    let resumed = Instant::now();
    drop(stopped);
    let seen = follow.until(Duration::from_secs(60), "ks-2..6 with ks-2 failed, every watch Live", |s| {
        let ks = kustomizations(s, &ns.name);
        all_live(s)
            && ks.keys().cloned().collect::<Vec<_>>() == ["ks-2", "ks-3", "ks-4", "ks-5", "ks-6"]
            && ks.get("ks-2").is_some_and(|st| st.contains("Failed"))
    });
    let took = resumed.elapsed();
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let gone = logged.lines().filter(|l| l.contains("410 Gone")).count();
    assert!(gone > 0, "no 410 Gone was logged: the watch resumed without a relist\n{logged}");
    let (code, out, err) = cluster.shardwatch(&["snapshot", "-o", "json"]);
    assert_eq!(code, 0, "snapshot: {err}");
    let fresh: Value = serde_json::from_str(&out).expect("snapshot JSON");
    assert_eq!(kustomizations(&seen, &ns.name), kustomizations(&fresh, &ns.name), "followed vs fresh");
    assert_eq!(nodes(&seen), nodes(&fresh), "followed vs fresh nodes");
    eprintln!(
        "{gone} kinds relisted after 410 Gone; converged {:.1} s after the watch resumed",
        took.as_secs_f64()
    );
}
