//! `shardwatch up --shards 2` and `--shards 5` on the local target, with the real Flux
//! controllers: the cluster gets one worker per shard, and every layer of the
//! infrastructure chain becomes Ready, spread over the shards that exist; then
//! `--shard-label example.com/shard`, whose key every node and layer object then carries.
//!
//! A long test (about two minutes warm: its own local cluster beside the suite's, three
//! `up`s with real reconciliation), run by the suite because it is what shows the layer
//! spread over any number of shards; it never touches the suite's cluster (its own `SHARDWATCH_CLUSTER_NAME`, ports and
//! records) nor the user's kubeconfig (`--no-kubeconfig-update`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// This test's cluster: the suite's name with `-shards`, ports above the suite's.
fn env() -> Vec<(&'static str, String)> {
    let base = std::env::var("SHARDWATCH_CLUSTER_NAME").unwrap_or_else(|_| "shardwatch".into());
    let port: u16 =
        std::env::var("SHARDWATCH_FLUX_PORT_BASE").ok().and_then(|p| p.parse().ok()).unwrap_or(19400);
    let git: u16 = std::env::var("SHARDWATCH_GIT_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(19480);
    let mut env = vec![
        ("SHARDWATCH_CLUSTER_NAME", format!("{base}-shards")),
        ("SHARDWATCH_FLUX_PORT_BASE", (port + 100).to_string()),
        ("SHARDWATCH_GIT_PORT", (git + 1).to_string()),
        ("SHARDWATCH_BIN", env!("CARGO_BIN_EXE_shardwatch").to_string()),
    ];
    // A fixed API server port for the suite's cluster (running beside this one) must not be
    // this cluster's too; unset, kwokctl picks a free one for each.
    if let Some(api) = std::env::var("SHARDWATCH_APISERVER_PORT").ok().and_then(|p| p.parse::<u16>().ok()) {
        env.push(("SHARDWATCH_APISERVER_PORT", (api + 1).to_string()));
    }
    env
}

/// (success, stdout, stdout and stderr).
fn run_out(program: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(program)
        .args(args)
        .envs(env())
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.success(), stdout, text)
}

fn run(program: &Path, args: &[&str]) -> (bool, String) {
    let (ok, _, all) = run_out(program, args);
    (ok, all)
}

fn shardwatch(args: &[&str]) -> (bool, String) {
    let mut all = vec!["--log-file", "/dev/null"];
    all.extend_from_slice(args);
    run(Path::new(env!("CARGO_BIN_EXE_shardwatch")), &all)
}

fn kubectl(kubeconfig: &str, args: &[&str]) -> Value {
    let (ok, bin, _) = run_out(&repo().join("tests/localcluster/cluster.sh"), &["bin"]);
    assert!(ok, "{bin}");
    let kubectl = PathBuf::from(bin.lines().last().unwrap().trim()).join("kubectl");
    let out = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `up --shards N` and checks every layer Ready on the shards that exist.
fn up_with(shards: usize, kubeconfig: &str, layer_shards: [&str; 3]) {
    up_keyed(shards, kubeconfig, layer_shards, "sharding.fluxcd.io/key");
}

/// [`up_with`] with `--shard-label key`.
fn up_keyed(shards: usize, kubeconfig: &str, layer_shards: [&str; 3], key: &str) {
    let n = shards.to_string();
    let started = Instant::now();
    let (ok, log) = shardwatch(&[
        "--shard-label",
        key,
        "up",
        "--target",
        "local",
        "--no-tui",
        "--no-kubeconfig-update",
        "--shards",
        &n,
        "--timeout",
        "300",
    ]);
    assert!(ok, "up --shards {shards} failed:\n{log}");
    assert!(log.contains("Ready"), "up waited for the layer:\n{log}");
    let order = log
        .lines()
        .find(|l| l.contains("Ready in order") || l.contains("already Ready"))
        .unwrap_or("(no order line)");
    eprintln!("up --shards {shards}: {:.1} s; {}", started.elapsed().as_secs_f64(), order.trim());
    let deployments = kubectl(kubeconfig, &["-n", "flux-system", "get", "deployments"]);
    let names: Vec<&str> = deployments["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    for s in 1..=shards {
        assert!(names.contains(&format!("kustomize-controller-shard{s}").as_str()), "{names:?}");
    }
    let nodes = kubectl(kubeconfig, &["get", "nodes", "-l", key]);
    let labelled: Vec<&str> = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["metadata"]["labels"][key].as_str())
        .collect();
    for s in 1..=shards {
        assert!(labelled.contains(&format!("shard{s}").as_str()), "a node for shard{s}: {labelled:?}");
    }
    for (layer, shard) in ["infra-sources", "infra-controllers", "infra-configs"].iter().zip(layer_shards) {
        let k = kubectl(kubeconfig, &["-n", "flux-system", "get", "kustomization", layer]);
        assert_eq!(k["metadata"]["labels"][key], shard, "{layer}");
        let ready =
            k["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Ready").unwrap();
        assert_eq!(ready["status"], "True", "{layer}: {ready}");
    }
    for hr in ["cert-manager", "postgres-operator"] {
        let h = kubectl(kubeconfig, &["-n", "flux-system", "get", "helmrelease", hr]);
        let ready =
            h["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Ready").unwrap();
        assert_eq!(ready["status"], "True", "{hr}: {ready}");
    }
}

/// Stops this test's cluster when the test ends, passed or failed, so a failure leaves
/// nothing running beside the suite's cluster.
struct StopOnDrop;

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = shardwatch(&["down", "--no-kubeconfig-update"]);
        let _ = run(&repo().join("tests/localcluster/cluster.sh"), &["stop"]);
    }
}

#[test]
fn up_with_two_then_five_shards_brings_every_layer_to_ready_with_the_real_controllers() {
    let started = Instant::now();
    let _stop = StopOnDrop;
    let (ok, out, all) = run_out(&repo().join("tests/localcluster/cluster.sh"), &["start"]);
    assert!(ok, "cluster.sh start:\n{all}");
    let kubeconfig = out.lines().last().unwrap().trim().to_string();
    // Two shards: the third layer goes round to shard1, and postgres-operator (the seed's
    // shard3) with it.
    up_with(2, &kubeconfig, ["shard1", "shard2", "shard1"]);
    let h = kubectl(&kubeconfig, &["-n", "flux-system", "get", "helmrelease", "postgres-operator"]);
    assert_eq!(h["metadata"]["labels"]["sharding.fluxcd.io/key"], "shard1");
    // Five: two more workers join the running cluster; the layers keep the seed's shards.
    up_with(5, &kubeconfig, ["shard1", "shard2", "shard3"]);
    // The layer that was Ready already is reconciled again with the new variables.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let h = kubectl(&kubeconfig, &["-n", "flux-system", "get", "helmrelease", "postgres-operator"]);
        let ready = h["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Ready").cloned());
        let label = h["metadata"]["labels"]["sharding.fluxcd.io/key"].clone();
        if label == "shard3" && ready.as_ref().is_some_and(|r| r["status"] == "True") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "postgres-operator not moved to shard3 and Ready: {label} {ready:?}"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    // Another label key: nodes, controllers' selectors and every layer object follow it.
    let key = "example.com/shard";
    up_keyed(3, &kubeconfig, ["shard1", "shard2", "shard3"], key);
    for hr in ["cert-manager", "postgres-operator"] {
        let h = kubectl(&kubeconfig, &["-n", "flux-system", "get", "helmrelease", hr]);
        assert!(
            h["metadata"]["labels"][key].is_string(),
            "{hr} labelled with {key}: {}",
            h["metadata"]["labels"]
        );
        assert!(
            h["metadata"]["labels"].get("sharding.fluxcd.io/key").is_none(),
            "{hr}: {}",
            h["metadata"]["labels"]
        );
    }
    let (ok, out) = shardwatch(&["down", "--no-kubeconfig-update"]);
    assert!(ok, "down:\n{out}");
    eprintln!("up_shards: {:.0} s in all", started.elapsed().as_secs_f64());
}
