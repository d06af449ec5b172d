//! `shardwatch up --target local --no-tui` stands up the seed's sharded stack on the
//! local control plane, and a second run changes nothing.
//! Needs `tests/localcluster/cluster.sh start` (up reuses the running cluster).

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use support::Cluster;

fn up(cluster: &Cluster) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .args(["--log-file", "/dev/null", "up", "--target", "local", "--no-tui", "--timeout", "180"])
        .env("KUBECONFIG", &cluster.kubeconfig)
        .output()
        .expect("run shardwatch up");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "up failed ({}):\n{stderr}", out.status);
    stderr
}

fn items(cluster: &Cluster, args: &[&str]) -> Vec<Value> {
    let list = cluster.get_json(args).unwrap_or_else(|e| panic!("kubectl {args:?}: {e}"));
    list["items"].as_array().cloned().unwrap_or_default()
}

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or_default()
}

#[test]
fn up_installs_the_seed_stack_pinned_to_shard_nodes_and_is_idempotent() {
    let Some(cluster) = support::cluster() else { return };
    let _nodes = support::healthy_nodes();
    let log = up(&cluster);
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

    // A second run has nothing to do.
    let again = up(&cluster);
    assert!(again.contains("up to date: nothing changed"), "second up changed something:\n{again}");
}
