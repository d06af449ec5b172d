//! HA failover with the real Flux controllers on the local target: failing the shard2
//! worker stops shard2's reconciliation (its controller processes die with the node),
//! shardwatch reports shard2 down, its objects orphaned and the other shards healthy; the
//! node's return recovers it, and the failover timeline holds the measured recovery. With
//! preferred placement the shard moves instead, and recovers on another node.
//! Needs `tests/localcluster/cluster.sh start` and the Flux binaries (test.sh builds them).

#[path = "support/follow.rs"]
mod follow;
#[path = "support/real_flux.rs"]
mod real_flux;
mod support;

use std::sync::Mutex;
use std::time::Duration;

use follow::{Follow, assigned, shard_health};
use real_flux::{FLUX_NS, handled, request_reconcile, wait_handled};
use serde_json::Value;

const NODE: &str = "shardwatch-worker2";
/// Node NotReady takes the grace period (10 s here); losing the Lease its duration (35 s).
const DEADLINE: Duration = Duration::from_secs(150);

/// Both tests fail the shard2 worker and one of them changes the placement: one at a time.
static STACK: Mutex<()> = Mutex::new(());

/// The newest incident of `shard` in a snapshot.
fn incident<'a>(snap: &'a Value, shard: &str) -> Result<&'a Value, String> {
    snap["failover"]
        .as_array()
        .and_then(|i| i.iter().find(|i| i["shard"] == shard))
        .ok_or_else(|| format!("no incident of {shard}; failover = {}", snap["failover"]))
}

fn flux_process_status() -> String {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/localcluster/flux-controllers.sh");
    let out =
        std::process::Command::new(script).arg("status").output().expect("run flux-controllers.sh status");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The status line of one controller process (`kustomize-controller-shard2 running pid ...`).
fn process_line(status: &str, name: &str) -> String {
    status.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap_or_default().to_string()
}

#[test]
fn failing_the_shard2_worker_stops_shard2_and_the_timeline_times_its_recovery() {
    let Some(cluster) = support::cluster() else { return };
    let _stack = STACK.lock().unwrap_or_else(|p| p.into_inner());
    real_flux::up(&cluster);
    real_flux::chain_ready(&cluster);
    let mut follow = Follow::start(&cluster, &["-n", FLUX_NS]);
    follow.wait_for(DEADLINE, "every shard healthy", |s| {
        for shard in ["main", "shard1", "shard2", "shard3"] {
            let h = shard_health(s, shard)?;
            if h != "Healthy" {
                return Err(format!("{shard} is {h}"));
            }
        }
        Ok(())
    });

    let failed = cluster.fail_node(NODE);

    // shardwatch: shard2 down, its Kustomization orphaned, the incident open and named.
    let snap = follow.wait_for(DEADLINE, "shard2 Down and its objects orphaned", |s| {
        let h = shard_health(s, "shard2")?;
        if h != "Down" {
            return Err(format!("shard2 is {h}"));
        }
        let ks = assigned(s, "Kustomization", FLUX_NS, "infra-controllers")?;
        if ks["orphan"] != "controller_not_ready" {
            return Err(format!("infra-controllers orphan = {}", ks["orphan"]));
        }
        incident(s, "shard2").map(|_| s.clone())
    });
    for shard in ["shard1", "shard3"] {
        assert_eq!(shard_health(&snap, shard).unwrap(), "Healthy", "{shard} must stay healthy");
    }
    let inc = incident(&snap, "shard2").unwrap();
    assert_eq!(inc["open"], true, "{inc}");
    assert!(inc["cause"].as_str().unwrap_or_default().contains(NODE), "the cause names the node: {inc}");
    assert!(!inc["lost_ready_at"].is_null(), "readiness loss is timed: {inc}");

    // The node took shard2's controller processes with it; the others run on.
    let status = flux_process_status();
    for c in ["source-controller", "kustomize-controller", "helm-controller"] {
        assert!(process_line(&status, &format!("{c}-shard2")).contains("stopped"), "{c}-shard2:\n{status}");
        assert!(process_line(&status, &format!("{c}-shard1")).contains("running"), "{c}-shard1:\n{status}");
    }

    // Reconciliation: shard1 answers a request, shard2 cannot.
    let t1 = request_reconcile(&cluster, "kustomization", "infra-sources");
    let t2 = request_reconcile(&cluster, "kustomization", "infra-controllers");
    wait_handled(&cluster, "kustomization", "infra-sources", &t1, DEADLINE);
    assert!(
        !handled(&cluster, "kustomization", "infra-controllers", &t2).unwrap(),
        "nothing reconciles shard2's Kustomization while its worker is down"
    );

    // The dead leader's Lease is not renewed: shardwatch sees the shard lose its leader.
    follow.wait_for(DEADLINE, "shard2's leader lost", |s| {
        let inc = incident(s, "shard2")?;
        if inc["lost_leader_at"].is_null() { Err(format!("{inc}")) } else { Ok(()) }
    });

    failed.restore();

    let snap = follow.wait_for(DEADLINE, "shard2 recovered in the timeline", |s| {
        let inc = incident(s, "shard2")?;
        if inc["open"] != false {
            return Err(format!("still open: {inc}"));
        }
        let h = shard_health(s, "shard2")?;
        if h != "Healthy" {
            return Err(format!("shard2 is {h}"));
        }
        Ok(s.clone())
    });
    let inc = incident(&snap, "shard2").unwrap();
    let secs = inc["recovery_secs"].as_i64().expect("recovery_secs once recovered");
    assert!(secs > 0, "a measured recovery: {inc}");
    let on: Vec<&str> = inc["recovered_on"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(on.contains(&NODE), "required placement: shard2 comes back on its own node: {inc}");
    let waited = inc["waited"].as_array().unwrap();
    assert!(
        waited.iter().any(|k| k["kind"] == "Kustomization" && k["name"] == "infra-controllers"),
        "infra-controllers waited meanwhile: {inc}"
    );
    eprintln!("shard2 recovered in {secs} s on {on:?}");

    // The controllers are back and pick up the request made while they were gone.
    // (the request made while it was down)
    wait_handled(&cluster, "kustomization", "infra-controllers", &t2, DEADLINE);
}

/// Puts the stack back to the seed's required placement, however the test ends.
struct RequiredAgain<'a>(&'a support::Cluster);

impl Drop for RequiredAgain<'_> {
    fn drop(&mut self) {
        let (code, out, err) = self.0.shardwatch(&["up", "--target", "local", "--no-tui"]);
        if code != 0 {
            eprintln!("could not put the required placement back:\n{out}\n{err}");
        }
    }
}

#[test]
fn with_preferred_placement_shard2_moves_off_its_failed_worker_and_recovers_there() {
    let Some(cluster) = support::cluster() else { return };
    let _stack = STACK.lock().unwrap_or_else(|p| p.into_inner());
    let _required = RequiredAgain(&cluster);
    let (code, out, err) =
        cluster.shardwatch(&["up", "--target", "local", "--no-tui", "--placement", "preferred"]);
    assert_eq!(code, 0, "up --placement preferred:\n{out}\n{err}");
    real_flux::chain_ready(&cluster);
    let mut follow = Follow::start(&cluster, &["-n", FLUX_NS]);
    follow.wait_for(DEADLINE, "shard2 healthy on its own worker", |s| {
        let h = shard_health(s, "shard2")?;
        if h != "Healthy" {
            return Err(format!("shard2 is {h}"));
        }
        let nodes: Vec<&str> = follow::shard(s, "shard2")?["controllers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["pods"].as_array().into_iter().flatten())
            .filter_map(|p| p["node"].as_str())
            .collect();
        if nodes.iter().all(|n| *n == NODE) { Ok(()) } else { Err(format!("shard2 pods on {nodes:?}")) }
    });

    let failed = cluster.fail_node(NODE);
    follow.wait_for(DEADLINE, "shard2's incident open", |s| incident(s, "shard2").map(|_| ()));
    // After the toleration (30 s) the pods are evicted and, preferred being only a
    // preference, scheduled on another worker; the controllers follow them there and take
    // over the Leases once the dead holders' run out.
    let snap = follow.wait_for(Duration::from_secs(240), "shard2 recovered while its worker is down", |s| {
        let inc = incident(s, "shard2")?;
        if inc["open"] != false {
            return Err(format!("still open: {inc}"));
        }
        Ok(s.clone())
    });
    let inc = incident(&snap, "shard2").unwrap();
    let on: Vec<&str> = inc["recovered_on"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(!on.is_empty() && !on.contains(&NODE), "recovered on other nodes: {inc}");
    assert!(inc["recovery_secs"].as_i64().is_some_and(|s| s > 0), "{inc}");
    eprintln!("preferred: shard2 recovered in {} s on {on:?}", inc["recovery_secs"]);

    // And it reconciles there: a request is handled while the worker is still down.
    let token = request_reconcile(&cluster, "kustomization", "infra-controllers");
    wait_handled(&cluster, "kustomization", "infra-controllers", &token, DEADLINE);
    failed.restore();
}
