//! The local cluster behaves like the seed's kind cluster where shardwatch looks: a pod
//! pinned to a shard lands on that shard's worker and goes Ready, and a failed worker
//! goes NotReady (with its pods) and comes back. Needs `tests/localcluster/cluster.sh start`.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Cluster, condition, wait_until};

const SHARD_KEY: &str = "sharding.fluxcd.io/key";
/// Where kind (and cluster.sh) put the worker labelled shard2.
const SHARD2_NODE: &str = "shardwatch-worker2";
const SCHEDULE_DEADLINE: Duration = Duration::from_secs(120);
const NODE_DEADLINE: Duration = Duration::from_secs(120);
const RECOVERY_DEADLINE: Duration = Duration::from_secs(180);

/// A one-replica Deployment that may only run on the node of `shard`.
fn pinned_deployment(namespace: &str, name: &str, shard: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {{key: {SHARD_KEY}, operator: In, values: [{shard}]}}
      containers:
      - name: app
        image: registry.invalid/shardwatch/none:1
"
    )
}

/// The only node labelled for `shard`.
fn shard_node(cluster: &Cluster, shard: &str) -> String {
    let nodes =
        cluster.get_json(&["get", "nodes", "-l", &format!("{SHARD_KEY}={shard}")]).expect("list nodes");
    let names: Vec<&str> = nodes["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names.len(), 1, "exactly one node should carry {SHARD_KEY}={shard}, found {names:?}");
    names[0].to_string()
}

/// The pods of app `name`, as (pod name, node name, Ready status).
fn app_pods(cluster: &Cluster, namespace: &str, name: &str) -> Result<Vec<(String, String, String)>, String> {
    let pods = cluster.get_json(&["-n", namespace, "get", "pods", "-l", &format!("app={name}")])?;
    Ok(pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p: &Value| {
            (
                p["metadata"]["name"].as_str().unwrap_or("").to_string(),
                p["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
                condition(p, "Ready").unwrap_or("").to_string(),
            )
        })
        .collect())
}

/// Waits until a pod of app `name` is Ready on `node`; returns its name.
fn wait_ready_on(cluster: &Cluster, namespace: &str, name: &str, node: &str, deadline: Duration) -> String {
    wait_until(deadline, &format!("a Ready pod of {namespace}/{name} on {node}"), || {
        let pods = app_pods(cluster, namespace, name)?;
        pods.iter()
            .find(|(_, on, ready)| on == node && ready == "True")
            .map(|(pod, _, _)| pod.clone())
            .ok_or_else(|| format!("pods (name, node, Ready): {pods:?}"))
    })
}

fn has_unreachable_taint(node: &Value) -> bool {
    node["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t["key"] == "node.kubernetes.io/unreachable" && t["effect"] == "NoExecute")
}

#[test]
fn shard_pinned_deployment_runs_ready_on_its_shard_node() {
    let Some(cluster) = support::cluster() else { return };
    let _healthy = support::healthy_nodes();
    assert_eq!(shard_node(&cluster, "shard2"), SHARD2_NODE, "kind names the shard2 worker {SHARD2_NODE}");
    let ns = cluster.namespace("placement");

    cluster.apply(&pinned_deployment(&ns.name, "pinned", "shard2"));

    wait_ready_on(&cluster, &ns.name, "pinned", SHARD2_NODE, SCHEDULE_DEADLINE);
    wait_until(SCHEDULE_DEADLINE, "the Deployment to report 1 ready replica", || {
        let deploy = cluster.get_json(&["-n", &ns.name, "get", "deployment", "pinned"])?;
        match deploy["status"]["readyReplicas"].as_i64() {
            Some(1) => Ok(()),
            _ => Err(format!("status: {}", deploy["status"])),
        }
    });
}

#[test]
fn failed_shard_node_goes_not_ready_and_comes_back_ready() {
    let Some(cluster) = support::cluster() else { return };
    let ns = cluster.namespace("node-failure");
    cluster.apply(&pinned_deployment(&ns.name, "victim", "shard2"));
    let pod = wait_ready_on(&cluster, &ns.name, "victim", SHARD2_NODE, SCHEDULE_DEADLINE);

    let failed = cluster.fail_node(SHARD2_NODE);

    // The node lifecycle controller, not the test, decides: after the grace period the
    // node is NotReady (Ready=Unknown) and tainted unreachable, and its pods not Ready.
    wait_until(NODE_DEADLINE, &format!("{SHARD2_NODE} NotReady and tainted unreachable"), || {
        let node = cluster.get_json(&["get", "node", SHARD2_NODE])?;
        let ready = condition(&node, "Ready").unwrap_or("");
        if ready != "True" && !ready.is_empty() && has_unreachable_taint(&node) {
            Ok(())
        } else {
            Err(format!("Ready={ready:?}, taints={}", node["spec"]["taints"]))
        }
    });
    wait_until(NODE_DEADLINE, &format!("pod {pod} marked not Ready"), || {
        let pods = app_pods(&cluster, &ns.name, "victim")?;
        match pods.iter().find(|(name, _, _)| *name == pod) {
            Some((_, _, ready)) if ready != "True" => Ok(()),
            // Evicted and already gone also means it stopped counting as Ready.
            None => Ok(()),
            Some(_) => Err(format!("pods (name, node, Ready): {pods:?}")),
        }
    });

    failed.restore();

    wait_until(NODE_DEADLINE, &format!("{SHARD2_NODE} Ready again"), || {
        match cluster.node_ready(SHARD2_NODE)? {
            ready if ready == "True" => Ok(()),
            other => Err(format!("Ready={other:?}")),
        }
    });
    // Whether or not the pod was evicted meanwhile, the shard's workload recovers in place.
    wait_ready_on(&cluster, &ns.name, "victim", SHARD2_NODE, RECOVERY_DEADLINE);
}

#[test]
fn the_clusters_kubeconfig_and_private_keys_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let Some(cluster) = support::cluster() else { return };
    // kwokctl writes these 0640 and 0644; starting the cluster narrows them.
    let dir = cluster.kubeconfig.parent().expect("the cluster's folder").to_path_buf();
    let mut files = vec![cluster.kubeconfig.clone()];
    for entry in std::fs::read_dir(dir.join("pki")).expect("the cluster's pki folder") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "key") {
            files.push(path);
        }
    }
    assert!(files.len() >= 3, "the kubeconfig and at least two keys: {files:?}");
    for file in files {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
}
