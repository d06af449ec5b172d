//! End to end: the real binary in a pseudo-terminal against the local cluster, read
//! through a vt100 parser, with keys pressed the way a person would.
//! Needs `tests/localcluster/cluster.sh start`.

#[path = "support/flux_stack.rs"]
mod flux_stack;
#[path = "support/pty.rs"]
mod pty;
mod support;

use std::time::Duration;

use pty::Terminal;

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
    let screen = term.wait_for("shardwatch up — the sharded Flux stack", SCREEN);
    assert!(screen.contains("1. cluster (Local)"), "the first step is the cluster:\n{screen}");
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
