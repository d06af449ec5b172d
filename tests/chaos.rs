//! `shardwatch chaos ...` against the local cluster: refusals under `--read-only` and
//! without confirmation, cordon/uncordon, deleting a shard's pod, scaling a shard's
//! controller to zero (and `snapshot` seeing the shard Down). Node failure itself is
//! covered by local_cluster.rs. Needs `tests/localcluster/cluster.sh start`.

#[path = "support/flux_stack.rs"]
mod flux_stack;
mod support;

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use support::{Cluster, condition, wait_until};

const SHARDS: [&str; 3] = ["shard1", "shard2", "shard3"];
const SHARD2_NODE: &str = "shardwatch-worker2";
const SHARD3_NODE: &str = "shardwatch-worker3";
const DEADLINE: Duration = Duration::from_secs(90);

/// The tests cordon shard3's worker, which another test needs schedulable: one at a time.
static WORKER3: Mutex<()> = Mutex::new(());

/// Whether the node is marked unschedulable.
fn cordoned(cluster: &Cluster, node: &str) -> bool {
    let node = cluster.get_json(&["get", "node", node]).expect("get node");
    node["spec"]["unschedulable"].as_bool().unwrap_or(false)
}

/// Uncordons the node on drop, so a failing test never leaves it unschedulable.
struct Uncordon<'a>(&'a Cluster, &'a str);

impl Drop for Uncordon<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.kubectl(&["uncordon", self.1]) {
            eprintln!("could not uncordon {}: {e}", self.1);
        }
    }
}

#[test]
fn refused_unconfirmed_and_confirmed_cordon() {
    let Some(cluster) = support::cluster() else { return };
    let _one = WORKER3.lock().unwrap_or_else(|p| p.into_inner());
    let _healthy = support::healthy_nodes();
    let ns = cluster.namespace("sw-chaos-cordon");
    let _uncordon = Uncordon(&cluster, SHARD3_NODE);
    let flux = ["--flux-namespace", ns.name.as_str()];

    let (code, _, err) =
        cluster.shardwatch(&[&flux[..], &["--read-only", "chaos", "cordon", SHARD3_NODE, "--yes"]].concat());
    assert_eq!(code, 3, "--read-only refuses with exit 3; stderr: {err}");
    assert!(err.contains("--read-only"), "the refusal names --read-only: {err}");
    assert!(!cordoned(&cluster, SHARD3_NODE), "--read-only must not cordon");

    let (code, _, err) = cluster.shardwatch(&[&flux[..], &["chaos", "cordon", SHARD3_NODE]].concat());
    assert_eq!(code, 3, "no TTY and no --yes refuses with exit 3; stderr: {err}");
    assert!(err.contains("--yes"), "the refusal says how to confirm: {err}");
    assert!(!cordoned(&cluster, SHARD3_NODE), "an unconfirmed cordon must not cordon");

    let (code, out, err) =
        cluster.shardwatch(&[&flux[..], &["chaos", "cordon", SHARD3_NODE, "--yes"]].concat());
    assert_eq!(code, 0, "cordon --yes succeeds; stderr: {err}");
    assert!(out.contains("cordoned"), "says what was done: {out}");
    assert!(cordoned(&cluster, SHARD3_NODE), "cordon sets spec.unschedulable");

    let (code, _, err) =
        cluster.shardwatch(&[&flux[..], &["chaos", "uncordon", SHARD3_NODE, "--yes"]].concat());
    assert_eq!(code, 0, "uncordon --yes succeeds; stderr: {err}");
    assert!(!cordoned(&cluster, SHARD3_NODE), "uncordon clears spec.unschedulable");
}

/// The Ready pods of Deployment `name` (labelled `app=<name>`), as (pod, node); when
/// there are none, the error describes every pod of it (so a timeout explains itself).
fn ready_pods(cluster: &Cluster, ns: &str, name: &str) -> Result<Vec<(String, String)>, String> {
    let pods = cluster.get_json(&["-n", ns, "get", "pods", "-l", &format!("app={name}")])?;
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let all: Vec<&Value> = pods["items"].as_array().into_iter().flatten().collect();
    let ready: Vec<(String, String)> = all
        .iter()
        .filter(|p| condition(p, "Ready") == Some("True") && p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| (s(&p["metadata"]["name"]), s(&p["spec"]["nodeName"])))
        .collect();
    if ready.is_empty() {
        let seen: Vec<String> = all
            .iter()
            .map(|p| {
                format!(
                    "{} node={} phase={} ready={:?} deleting={} scheduled={:?}",
                    s(&p["metadata"]["name"]),
                    s(&p["spec"]["nodeName"]),
                    s(&p["status"]["phase"]),
                    condition(p, "Ready"),
                    !p["metadata"]["deletionTimestamp"].is_null(),
                    condition(p, "PodScheduled"),
                )
            })
            .collect();
        return Err(format!("no Ready pod; pods: {seen:?}"));
    }
    Ok(ready)
}

/// A shard's health in `snapshot -o json`.
fn shard_health(cluster: &Cluster, ns: &str, shard: &str) -> Result<String, String> {
    let (code, out, err) = cluster.shardwatch(&["snapshot", "-o", "json", "--flux-namespace", ns, "-n", ns]);
    if code != 0 {
        return Err(format!("snapshot exited {code}: {err}"));
    }
    let snap: Value = serde_json::from_str(&out).map_err(|e| format!("invalid JSON ({e}): {out}"))?;
    snap["shards"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == shard)
        .map(|s| s["health"].as_str().unwrap_or_default().to_string())
        .ok_or_else(|| format!("no shard {shard} in {}", snap["shards"]))
}

#[test]
fn deleted_shard_pod_is_replaced_and_a_controller_scaled_to_zero_takes_its_shard_down() {
    let Some(cluster) = support::cluster() else { return };
    let _one = WORKER3.lock().unwrap_or_else(|p| p.into_inner());
    let _healthy = support::healthy_nodes();
    let ns = cluster.namespace("sw-chaos");
    cluster.apply(&flux_stack::controller_deployments(&ns.name, &SHARDS));
    let flux = ["--flux-namespace", ns.name.as_str()];

    // Delete a shard2 pod: its Deployment makes a new one, pinned to the shard2 worker again.
    let app = "source-controller-shard2";
    let old = wait_until(DEADLINE, &format!("a Ready {app} pod on {SHARD2_NODE}"), || {
        let pods = ready_pods(&cluster, &ns.name, app)?;
        pods.iter().find(|(_, node)| node == SHARD2_NODE).map(|(p, _)| p.clone()).ok_or(format!("{pods:?}"))
    });
    let (code, out, err) = cluster.shardwatch(&[&flux[..], &["chaos", "delete-pod", &old, "--yes"]].concat());
    assert_eq!(code, 0, "delete-pod --yes succeeds; stderr: {err}");
    assert!(out.contains(&old), "names the deleted pod: {out}");
    wait_until(DEADLINE, &format!("a new Ready {app} pod on {SHARD2_NODE}"), || {
        let pods = ready_pods(&cluster, &ns.name, app)?;
        pods.iter().find(|(p, node)| *p != old && node == SHARD2_NODE).ok_or(format!("{pods:?}")).map(|_| ())
    });

    // Scale shard3's kustomize-controller to zero: snapshot reports shard3 Down.
    let dep = "kustomize-controller-shard3";
    wait_until(DEADLINE, "shard3 Healthy before scaling", || {
        match shard_health(&cluster, &ns.name, "shard3")? {
            h if h == "Healthy" => Ok(()),
            h => Err(h),
        }
    });
    let (code, _, err) =
        cluster.shardwatch(&[&flux[..], &["chaos", "scale", dep, "--replicas", "0", "--yes"]].concat());
    assert_eq!(code, 0, "scale --yes succeeds; stderr: {err}");
    let replicas = cluster.get_json(&["-n", &ns.name, "get", "deployment", dep]).expect("get deployment")["spec"]
        ["replicas"]
        .as_i64();
    assert_eq!(replicas, Some(0), "the Deployment asks for 0 replicas");
    wait_until(DEADLINE, "snapshot to report shard3 Down", || {
        match shard_health(&cluster, &ns.name, "shard3")? {
            h if h == "Down" => Ok(()),
            h => Err(h),
        }
    });

    let (code, _, err) =
        cluster.shardwatch(&[&flux[..], &["chaos", "scale", dep, "--replicas", "1", "--yes"]].concat());
    assert_eq!(code, 0, "scaling back succeeds; stderr: {err}");
    wait_until(DEADLINE, "shard3 Healthy again", || match shard_health(&cluster, &ns.name, "shard3")? {
        h if h == "Healthy" => Ok(()),
        h => Err(h),
    });
}
