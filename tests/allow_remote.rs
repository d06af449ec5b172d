//! The actions that break things need `--allow-remote` on a cluster that is neither a local
//! one of this machine nor kind: tried on the local cluster made to look remote (a copy of
//! its kubeconfig naming the apiserver `localhost` instead of `127.0.0.1`: the same server
//! and certificate, an address the local detection does not know), from the command line
//! (exit 3, the reason and the flag named, nothing changed) and in the dashboard (the
//! footer); with the flag they proceed. Needs `tests/localcluster/cluster.sh start`.

#[path = "support/pty.rs"]
mod pty;
mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use pty::Terminal;
use support::Cluster;

const NODE: &str = "shardwatch-worker3";
const SCREEN: Duration = Duration::from_secs(60);

/// The tests cordon the node: one at a time.
static NODE_LOCK: Mutex<()> = Mutex::new(());

/// A copy of the cluster's kubeconfig reaching the same apiserver as `localhost`; removed on drop.
struct RemoteLooking(PathBuf);

impl RemoteLooking {
    fn of(cluster: &Cluster) -> Self {
        let text = std::fs::read_to_string(&cluster.kubeconfig).expect("read the kubeconfig");
        assert!(text.contains("https://127.0.0.1:"), "the local kubeconfig names 127.0.0.1:\n{text}");
        let path = std::env::temp_dir().join(support::unique_name("remote-looking")).with_extension("yaml");
        std::fs::write(&path, text.replace("https://127.0.0.1:", "https://localhost:"))
            .expect("write the copy");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
        RemoteLooking(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for RemoteLooking {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Uncordons the node on drop, so a failing test never leaves it unschedulable.
struct Uncordon<'a>(&'a Cluster);

impl Drop for Uncordon<'_> {
    fn drop(&mut self) {
        let _ = self.0.kubectl(&["uncordon", NODE]);
    }
}

fn cordoned(cluster: &Cluster) -> bool {
    let node = cluster.get_json(&["get", "node", NODE]).expect("get node");
    node["spec"]["unschedulable"].as_bool().unwrap_or(false)
}

/// shardwatch with `kubeconfig`; (exit code, stdout, stderr).
fn shardwatch(kubeconfig: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .args(["--kubeconfig", kubeconfig, "--log-file", "/dev/null"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run shardwatch");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn chaos_on_a_remote_looking_cluster_needs_allow_remote() {
    let Some(cluster) = support::cluster() else { return };
    let _one = NODE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let _nodes = support::healthy_nodes();
    let _uncordon = Uncordon(&cluster);
    let remote = RemoteLooking::of(&cluster);
    let scale = ["chaos", "scale-shard", "shard1", "--replicas", "0", "--yes"];
    for args in [
        &["chaos", "cordon", NODE, "--yes"][..],
        &["chaos", "drain", NODE, "--yes"],
        &["chaos", "delete-pod", "no-such-pod", "--yes"],
        &scale,
        // Where the nodes run is told; the cluster is still not known to be local.
        &["chaos", "fail-node", NODE, "--target", "local", "--yes"],
    ] {
        let (code, _, err) = shardwatch(remote.path(), args);
        assert_eq!(code, 3, "{args:?} refused with exit 3; stderr: {err}");
        assert!(
            err.contains("is neither a local cluster of this machine nor a kind cluster"),
            "{args:?}: {err}"
        );
        assert!(err.contains("https://localhost:") && err.contains("pass --allow-remote"), "{args:?}: {err}");
    }
    assert!(!cordoned(&cluster), "a refused cordon or drain changed nothing");

    // The same cluster through its own kubeconfig is local: no flag needed.
    let own = cluster.kubeconfig.to_str().unwrap();
    let (code, out, err) = shardwatch(own, &["chaos", "cordon", NODE, "--yes"]);
    assert_eq!(code, 0, "local: {out}{err}");
    let (code, out, err) = shardwatch(own, &["chaos", "uncordon", NODE, "--yes"]);
    assert_eq!(code, 0, "local: {out}{err}");

    // With the flag, the remote-looking one is changed too.
    let (code, out, err) = shardwatch(remote.path(), &["--allow-remote", "chaos", "cordon", NODE, "--yes"]);
    assert_eq!(code, 0, "--allow-remote cordons: {out}{err}");
    assert!(cordoned(&cluster), "cordoned through the remote-looking kubeconfig");
    // --read-only still refuses everything, whatever else is allowed.
    let (code, _, err) =
        shardwatch(remote.path(), &["--allow-remote", "--read-only", "chaos", "uncordon", NODE, "--yes"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("--read-only"), "{err}");
    let (code, out, err) = shardwatch(remote.path(), &["--allow-remote", "chaos", "uncordon", NODE, "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!cordoned(&cluster));
}

/// Waits until the details pane shows the node (its row is the one selected), moving the
/// selection to the top of the filtered list.
fn wait_node_selected(term: &mut Terminal) {
    let details = format!("─ Node {NODE} ─");
    let deadline = std::time::Instant::now() + SCREEN;
    while !term.contents().contains(&details) {
        assert!(std::time::Instant::now() < deadline, "the node never selected:\n{}", term.contents());
        term.send("g");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_dashboards_node_keys_on_a_remote_looking_cluster_need_allow_remote() {
    let Some(cluster) = support::cluster() else { return };
    let _one = NODE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let _nodes = support::healthy_nodes();
    let _uncordon = Uncordon(&cluster);
    let remote = RemoteLooking::of(&cluster);
    let open = |extra: &[&str]| {
        let mut args = vec!["--kubeconfig", remote.path(), "--log-file", "/dev/null"];
        args.extend(extra);
        let mut term =
            Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], 220, 40);
        term.send("2");
        term.wait_for("Placement [", SCREEN);
        term.send("/worker3\r");
        term.wait_for("(Esc clears)", SCREEN);
        // The node's row selected (its details shown), not a pod's: rows arriving while the
        // filter is typed can leave the selection elsewhere.
        wait_node_selected(&mut term);
        term
    };

    let mut term = open(&[]);
    term.send("c");
    let screen = term.wait_for("pass --allow-remote", SCREEN);
    assert!(screen.contains("c: refused: context "), "the footer says why:\n{screen}");
    assert!(!screen.contains("y/N"), "no confirmation is offered:\n{screen}");
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "q did not quit:\n{}", term.contents());

    let mut term = open(&["--allow-remote"]);
    term.send("c");
    let screen = term.wait_for("y/N", SCREEN);
    assert!(screen.contains(&format!("Cordon node {NODE}?")), "{screen}");
    term.send("n");
    term.wait_for("cancelled", SCREEN);
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "q did not quit:\n{}", term.contents());
    assert!(!cordoned(&cluster), "cancelled: nothing changed");
}
