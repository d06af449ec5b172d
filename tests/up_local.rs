//! `shardwatch up --target local --no-tui` stands up the seed's sharded stack on the
//! local control plane with real reconciliation: the Flux controllers as local processes,
//! one set per shard holding its Lease, the infrastructure chain Ready in dependency
//! order from the local Git server; and a second run changes nothing.
//! Needs `tests/localcluster/cluster.sh start` (up reuses the running cluster) and the
//! Flux controllers' binaries (`tests/localcluster/build-flux.sh`; test.sh builds them).

#[path = "support/real_flux.rs"]
mod real_flux;
mod support;

use std::collections::BTreeMap;

use real_flux::{CHAIN, CONTROLLERS, FLUX_NS, flux_prerequisite_missing};
use serde_json::Value;
use support::Cluster;

fn items(cluster: &Cluster, args: &[&str]) -> Vec<Value> {
    let list = cluster.get_json(args).unwrap_or_else(|e| panic!("kubectl {args:?}: {e}"));
    list["items"].as_array().cloned().unwrap_or_default()
}

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or_default()
}

/// The Kustomization names of the log's "Ready in order: a (time) → b (time)" line.
fn printed_ready_order(log: &str) -> Vec<&str> {
    let Some(line) = log.lines().find_map(|l| l.split_once("Ready in order: ").map(|(_, rest)| rest)) else {
        return Vec::new();
    };
    line.split(" → ").filter_map(|part| part.split_whitespace().next()).collect()
}

/// The lastTransitionTime of an object's Ready condition.
fn ready_since(object: &Value) -> String {
    real_flux::ready_condition(object)
        .and_then(|c| c["lastTransitionTime"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn up_installs_the_seed_stack_reconciles_the_chain_in_order_and_is_idempotent() {
    let Some(cluster) = support::cluster() else { return };
    if let Some(why) = flux_prerequisite_missing() {
        assert!(!support::under_ci(), "the real Flux controllers are required under CI=true: {why}");
        eprintln!("skipping: {why}");
        return;
    }
    let _nodes = support::healthy_nodes();
    let log = real_flux::up(&cluster);
    assert!(log.contains("13 Deployments"), "up names the 13 Deployments it waits for:\n{log}");

    // The seed's step 4: 13 Deployments, all Available.
    let deployments = items(&cluster, &["-n", "flux-system", "get", "deployments"]);
    let mut names: Vec<&str> = deployments.iter().map(name).collect();
    names.sort();
    let mut expected = vec!["notification-controller".to_string()];
    for c in ["helm-controller", "kustomize-controller", "source-controller"] {
        expected.push(c.to_string());
        expected.extend((1..=3).map(|i| format!("{c}-shard{i}")));
    }
    expected.sort();
    assert_eq!(names, expected);
    for d in &deployments {
        assert_eq!(support::condition(d, "Available"), Some("True"), "{} not Available", name(d));
    }

    // The seed's step 5: each shard's pods on the worker labelled for that shard.
    let node_shard: BTreeMap<String, String> = items(&cluster, &["get", "nodes"])
        .iter()
        .filter_map(|n| {
            Some((
                name(n).to_string(),
                n["metadata"]["labels"]["sharding.fluxcd.io/key"].as_str()?.to_string(),
            ))
        })
        .collect();
    let mut shard_pods = 0;
    for pod in items(&cluster, &["-n", "flux-system", "get", "pods"]) {
        let app = pod["metadata"]["labels"]["app"].as_str().unwrap_or_default();
        let Some(shard) = app.rsplit_once("-shard").map(|(_, n)| format!("shard{n}")) else { continue };
        let node = pod["spec"]["nodeName"].as_str().unwrap_or_default();
        assert_eq!(node_shard.get(node), Some(&shard), "pod {} of {shard} runs on {node}", name(&pod));
        shard_pods += 1;
    }
    assert!(shard_pods >= 9, "three pods per shard, found {shard_pods}");

    // The infrastructure layer with its dependsOn chain, one shard each.
    let ks = items(&cluster, &["-n", "flux-system", "get", "kustomizations.kustomize.toolkit.fluxcd.io"]);
    let by_name: BTreeMap<&str, &Value> = ks.iter().map(|k| (name(k), k)).collect();
    for (layer, shard, dep) in [
        ("infra-sources", "shard1", None),
        ("infra-controllers", "shard2", Some("infra-sources")),
        ("infra-configs", "shard3", Some("infra-controllers")),
    ] {
        let k = by_name.get(layer).unwrap_or_else(|| panic!("Kustomization {layer} missing"));
        assert_eq!(k["metadata"]["labels"]["sharding.fluxcd.io/key"], shard, "{layer}'s shard");
        assert_eq!(k["spec"]["dependsOn"][0]["name"].as_str(), dep, "{layer} depends on {dep:?}");
    }

    // Real reconciliation: up built (or reused) the controllers, served the layer, ran them.
    for step in [
        "Flux controllers (build on first use)",
        "local Git server",
        "real Flux controllers as local processes",
    ] {
        assert!(log.contains(step), "up shows the step {step:?}:\n{log}");
    }
    let url = log
        .lines()
        .find_map(|l| l.trim().strip_suffix(" serves the built-in manifests/"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("up names the served URL:\n{log}"))
        .to_string();
    let source =
        cluster.get_json(&["-n", FLUX_NS, "get", "gitrepository", "shardwatch-infra"]).expect("source");
    assert_eq!(source["spec"]["url"], url.as_str(), "shardwatch-infra reads the served repository");
    assert_eq!(
        by_name["infra-sources"]["spec"]["postBuild"]["substitute"]["SHARDWATCH_GIT_URL"],
        url.as_str(),
        "infra-sources hands the served URL to the GitRepositories it creates"
    );

    // The chain from nothing: without its Kustomizations (their finalizers prune what
    // they applied, the controllers being up now), up recreates them and waits until all
    // are Ready, each after the one it depends on; up prints the order it saw.
    let chain: Vec<&str> = CHAIN.iter().map(|(name, _)| *name).collect();
    let mut delete = vec!["-n", FLUX_NS, "delete", "kustomizations.kustomize.toolkit.fluxcd.io"];
    delete.extend(&chain);
    delete.extend(["--ignore-not-found", "--timeout=180s"]);
    cluster.kubectl(&delete).unwrap_or_else(|e| panic!("deleting the chain: {e}"));
    let fresh = real_flux::up(&cluster);
    assert_eq!(printed_ready_order(&fresh), chain, "up prints the order they became Ready:\n{fresh}");
    let mut previous = String::new();
    for name in &chain {
        let k = real_flux::kustomization(&cluster, name).expect("kustomization");
        assert_eq!(support::condition(&k, "Ready"), Some("True"), "{name}: {}", real_flux::ready_message(&k));
        let since = ready_since(&k);
        // RFC 3339 UTC times of one format order as text.
        assert!(since >= previous, "{name} Ready at {since}, before what it depends on ({previous})");
        previous = since;
    }

    // Every shard's controller set holds its Lease: the holder names the set's kwok pod.
    let leases = items(&cluster, &["-n", FLUX_NS, "get", "leases"]);
    let holders: Vec<&str> = leases.iter().filter_map(|l| l["spec"]["holderIdentity"].as_str()).collect();
    for (_, shard) in CHAIN {
        for c in CONTROLLERS {
            let prefix = format!("{c}-{shard}-");
            assert!(
                holders.iter().any(|h| h.starts_with(&prefix)),
                "no Lease in {FLUX_NS} held by {c} of {shard}; holders: {holders:?}"
            );
        }
    }

    // A second run has nothing to do: already-running processes and an unchanged served
    // tree are no change.
    let again = real_flux::up(&cluster);
    assert!(again.contains("up to date: nothing changed"), "second up changed something:\n{again}");
}

#[test]
fn the_printed_ready_order_is_read_from_the_log() {
    let log = "[  43.8s]      Ready in order: infra-sources (2026-01-01T10:00:00Z) → infra-controllers (2026-01-01T10:00:09Z) → infra-configs (2026-01-01T10:00:20Z)\n";
    assert_eq!(printed_ready_order(log), ["infra-sources", "infra-controllers", "infra-configs"]);
    assert!(printed_ready_order("nothing\n").is_empty());
}
