//! End to end: the real binary in a pseudo-terminal against the local cluster, read
//! through a vt100 parser, with keys pressed the way a person would.
//! Needs `tests/localcluster/cluster.sh start`.

#[path = "support/flux_stack.rs"]
mod flux_stack;
#[path = "support/pty.rs"]
mod pty;
mod support;

use std::sync::Mutex;
use std::time::Duration;

use pty::Terminal;
use support::wait_until;

const SCREEN: Duration = Duration::from_secs(60);

/// The seed's 13 controllers in a fresh namespace, and the dashboard watching them in a
/// `cols`×40 terminal with NO_COLOR. The namespace lives as long as the guard returned.
fn dashboard_on_seed_stack(
    cluster: &support::Cluster,
    prefix: &str,
    cols: u16,
) -> (support::Namespace, Terminal) {
    flux_stack::install_flux_crds(cluster);
    let flux = cluster.namespace(prefix);
    cluster.apply(&flux_stack::controller_deployments(&flux.name, &["shard1", "shard2", "shard3"]));
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    let args = [
        "--kubeconfig",
        &kubeconfig,
        "--flux-namespace",
        &flux.name,
        "-n",
        &flux.name,
        "--log-file",
        "/dev/null",
    ];
    let term = Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], cols, 40);
    (flux, term)
}

#[test]
fn dashboard_shows_live_shards_and_switches_panels_with_keys() {
    let Some(cluster) = support::cluster() else { return };
    let _nodes = support::healthy_nodes();
    let (_flux, mut term) = dashboard_on_seed_stack(&cluster, "sw-tui", 120);

    // The Shards panel fills in as the watches deliver: all four shards, then ready pods.
    let screen = term.wait_for("shard3", SCREEN);
    assert!(screen.contains("Shards"), "the Shards panel is first:\n{screen}");
    assert!(screen.contains("main"), "the unsharded controllers form the main shard:\n{screen}");
    let screen = term.wait_for("HEALTHY", SCREEN);
    for shard in ["shard1", "shard2", "shard3"] {
        assert!(screen.contains(shard), "{shard} missing:\n{screen}");
    }
    assert!(screen.contains("1/1"), "ready/desired per controller:\n{screen}");

    // 2: Placement lists the nodes from kind-config.yaml with their shard pods.
    term.send("2");
    let screen = term.wait_for("Placement [", SCREEN);
    term.wait_for("shardwatch-worker3", SCREEN);
    assert!(screen.contains("shardwatch-worker2"), "nodes listed:\n{screen}");

    // 3: Dependencies (no Kustomizations in this namespace yet).
    term.send("3");
    term.wait_for("Dependencies [", SCREEN);

    // ? opens help, Esc closes it.
    term.send("?");
    term.wait_for("show / hide this help", SCREEN);
    term.send("\x1b");
    let start = std::time::Instant::now();
    while term.contents().contains("show / hide this help") {
        assert!(start.elapsed() < SCREEN, "Esc did not close help:\n{}", term.contents());
        std::thread::sleep(Duration::from_millis(100));
    }

    // Tab moves on to Assignment; q quits and the terminal is given back.
    term.send("\t");
    term.wait_for("Assignment [", SCREEN);
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "q did not quit:\n{}", term.contents());
}

#[test]
fn up_shows_its_steps_then_opens_the_dashboard_on_the_same_screen() {
    let Some(cluster) = support::cluster() else { return };
    let _nodes = support::healthy_nodes();
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    let mut term = Terminal::spawn(
        env!("CARGO_BIN_EXE_shardwatch"),
        &["--log-file", "/dev/null", "up", "--target", "local"],
        &[("NO_COLOR", "1"), ("KUBECONFIG", &kubeconfig)],
        120,
        40,
    );
    term.wait_for("shardwatch up — the sharded Flux stack", SCREEN);
    // The steps are listed as they come, the cluster first. (Whether step 2 has already
    // begun when the screen is read depends on timing, so only the order is checked.)
    term.wait_for("1. cluster (Local)", SCREEN);
    let screen = term.wait_for("2. ", SCREEN);
    let (first, second) = (screen.find("1. cluster (Local)"), screen.find("2. "));
    assert!(
        matches!((first, second), (Some(a), Some(b)) if a < b),
        "the cluster is step 1, above step 2:\n{screen}"
    );
    // Then the dashboard replaces the progress screen, live on the stack up just applied.
    term.wait_for("Shards [", SCREEN);
    // The header names the Flux version installed, once the Deployments are listed.
    term.wait_for("flux v2.7.3", SCREEN);
    term.wait_for("shard3", SCREEN);
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "q did not quit:\n{}", term.contents());
}

/// The first screen line holding every one of `parts`, if any.
fn line_with<'a>(screen: &'a str, parts: &[&str]) -> Option<&'a str> {
    screen.lines().find(|l| parts.iter().all(|p| l.contains(p)))
}

/// Waits until some line of the screen holds every one of `parts`; returns that line.
fn wait_for_line(term: &Terminal, parts: &[&str], timeout: Duration) -> String {
    let start = std::time::Instant::now();
    loop {
        let screen = term.contents();
        if let Some(line) = line_with(&screen, parts) {
            return line.trim_matches(|c: char| c == '│' || c.is_whitespace()).to_string();
        }
        assert!(
            start.elapsed() < timeout,
            "no line with {parts:?} within {timeout:?}; the screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn events_panel_shows_a_node_failover_open_then_recovered() {
    const DEADLINE: Duration = Duration::from_secs(120);
    let Some(cluster) = support::cluster() else { return };
    // No healthy_nodes() guard here: fail_node takes the write side of that lock.
    let (_flux, mut term) = dashboard_on_seed_stack(&cluster, "sw-tui-failover", 160);
    term.wait_for("HEALTHY", DEADLINE);
    term.send("5");
    term.wait_for("Events [", DEADLINE);

    let failed = cluster.fail_node("shardwatch-worker2");
    let open = wait_for_line(&term, &["shard2", "open"], DEADLINE);
    eprintln!("open incident row: {open}");
    assert!(open.contains("node shardwatch-worker2 NotReady"), "the incident names the failed node: {open}");

    failed.restore();
    let recovered = wait_for_line(&term, &["shard2", "recovered in"], DEADLINE);
    eprintln!("recovered incident row: {recovered}");
    let screen = term.contents();
    assert!(screen.contains("Failover"), "the Failover section heads the panel:\n{screen}");
    assert!(line_with(&screen, &["shard2", "open"]).is_none(), "shard2 is no longer open:\n{screen}");
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "q did not quit:\n{}", term.contents());
}

/// Tests here that cordon shard3's worker run one at a time (tests/chaos.rs does the same
/// in its own binary; cargo runs test binaries one by one).
static WORKER3: Mutex<()> = Mutex::new(());

/// Uncordons the node on drop, so a failing test never leaves it unschedulable.
struct Uncordon<'a>(&'a support::Cluster, &'a str);

impl Drop for Uncordon<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.kubectl(&["uncordon", self.1]) {
            eprintln!("could not uncordon {}: {e}", self.1);
        }
    }
}

/// The names of the namespace's pods on `node` that are not being deleted.
fn pods_on(cluster: &support::Cluster, ns: &str, node: &str) -> Result<Vec<String>, String> {
    let pods =
        cluster.get_json(&["-n", ns, "get", "pods", "--field-selector", &format!("spec.nodeName={node}")])?;
    Ok(pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| p["metadata"]["name"].as_str().unwrap_or_default().to_string())
        .collect())
}

#[test]
fn d_on_a_node_drains_it_for_real_after_y() {
    const NODE: &str = "shardwatch-worker3";
    let Some(cluster) = support::cluster() else { return };
    let _one = WORKER3.lock().unwrap_or_else(|p| p.into_inner());
    let _nodes = support::healthy_nodes();
    let (flux, mut term) = dashboard_on_seed_stack(&cluster, "sw-tui-drain", 160);
    let _uncordon = Uncordon(&cluster, NODE);
    term.wait_for("HEALTHY", SCREEN);
    // shard3's three controller pods run on its worker (unsharded ones may run there too).
    let before = wait_until(SCREEN, &format!("shard3's three pods on {NODE}"), || {
        let pods = pods_on(&cluster, &flux.name, NODE)?;
        match pods.iter().filter(|p| p.contains("-shard3-")).count() {
            3 => Ok(pods),
            _ => Err(format!("{pods:?}")),
        }
    });

    // Placement, filtered down to the node's row (pod rows do not name their node).
    term.send("2");
    term.wait_for("Placement [", SCREEN);
    term.send("/worker3\r");
    term.wait_for("(Esc clears)", SCREEN);
    term.send("d");
    let screen = term.wait_for("y/N", SCREEN);
    assert!(screen.contains(&format!("Drain node {NODE}? y/N")), "d asks about the selected node:\n{screen}");
    assert!(screen.contains("Cordons it and deletes the Flux pods on it"), "with the consequence:\n{screen}");
    assert!(!cordoned(&cluster, NODE), "nothing happens before y");
    term.send("y");
    let line = wait_for_line(&term, &[&format!("node {NODE} drained: cordoned,")], SCREEN);
    eprintln!("footer: {line}");
    assert!(
        line.ends_with(&format!("cordoned, {} pods deleted", before.len())),
        "{line}; drained {before:?}"
    );

    let node = cluster.kubectl(&["get", "node", NODE]).expect("get node");
    assert!(node.contains("SchedulingDisabled"), "kubectl shows the node cordoned:\n{node}");
    // Nothing of the namespace is left on the node; shard3's Deployments made new pods,
    // which the cordon keeps off shard3's only node (required placement): they wait.
    wait_until(SCREEN, "the drained pods gone and replaced off the node", || {
        let pods = cluster.get_json(&["-n", &flux.name, "get", "pods"])?;
        let items = pods["items"].as_array().cloned().unwrap_or_default();
        let name = |p: &serde_json::Value| p["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let left = pods_on(&cluster, &flux.name, NODE)?;
        let replacements = items
            .iter()
            .filter(|p| name(p).contains("-shard3-") && !before.contains(&name(p)))
            .filter(|p| p["spec"]["nodeName"].as_str().is_none_or(|n| n != NODE))
            .count();
        if left.is_empty() && replacements == 3 {
            Ok(())
        } else {
            Err(format!("on {NODE}: {left:?}; {replacements} shard3 replacements off it"))
        }
    });
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "q did not quit:\n{}", term.contents());
}

/// Whether the node is marked unschedulable.
fn cordoned(cluster: &support::Cluster, node: &str) -> bool {
    let node = cluster.get_json(&["get", "node", node]).expect("get node");
    node["spec"]["unschedulable"].as_bool().unwrap_or(false)
}
