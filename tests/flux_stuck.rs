//! The stuck reconciliation the seed met, reproduced with the real Flux controllers: the
//! demo scenario (manifests/clusters/demo/stuck.yaml) applies a Deployment no node can
//! take; kustomize-controller-shard3 reports HealthCheckFailed after the 30 s timeout, the
//! dependent Kustomization waits, and `shardwatch explain` names the unschedulable pod.
//! Needs `tests/localcluster/cluster.sh start` and the Flux binaries (test.sh builds them).

#[path = "support/real_flux.rs"]
mod real_flux;
mod support;

use std::path::PathBuf;
use std::time::Duration;

use real_flux::{FLUX_NS, kustomization, ready_message};
use serde_json::Value;
use support::{Cluster, wait_until};

/// The timeout (30 s) plus a reconcile's own time and the controller's dependency requeue.
const DEADLINE: Duration = Duration::from_secs(150);

fn scenario() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("manifests/clusters/demo/stuck.yaml")
}

/// Removes the scenario when the test ends, however it ends (prune deletes what it applied).
struct Scenario<'a>(&'a Cluster);

impl Drop for Scenario<'_> {
    fn drop(&mut self) {
        let file = scenario();
        if let Err(e) =
            self.0.kubectl(&["delete", "--ignore-not-found", "--wait=false", "-f", &file.to_string_lossy()])
        {
            eprintln!("could not remove the stuck scenario: {e}");
        }
    }
}

/// Waits until Kustomization `name` has Ready=False with `reason`; returns it.
fn not_ready_with(cluster: &Cluster, name: &str, reason: &str) -> Value {
    wait_until(DEADLINE, &format!("{name} Ready=False {reason}"), || {
        let ks = kustomization(cluster, name)?;
        let ready = ks["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
            .cloned()
            .unwrap_or_default();
        if ready["status"] == "False" && ready["reason"] == reason {
            Ok(ks)
        } else {
            Err(format!("{name}: {} {}", ready["status"], ready_message(&ks)))
        }
    })
}

#[test]
fn a_health_check_that_can_never_pass_is_explained_down_to_the_unschedulable_pod() {
    let Some(cluster) = support::cluster() else { return };
    let _nodes = support::healthy_nodes();
    real_flux::up(&cluster);
    real_flux::chain_ready(&cluster);

    let _scenario = Scenario(&cluster);
    cluster.kubectl(&["apply", "-f", &scenario().to_string_lossy()]).expect("apply the stuck scenario");

    // The real kustomize-controller of shard3 gives up on the health check...
    let stuck = not_ready_with(&cluster, "demo-stuck", "HealthCheckFailed");
    let message = ready_message(&stuck);
    assert!(message.contains("Deployment/shardwatch-demo/never-scheduled"), "{message}");
    // ...and the dependent waits for it.
    not_ready_with(&cluster, "demo-after-stuck", "DependencyNotReady");

    // shardwatch follows the chain from the dependent down to the pod.
    let (code, out, err) =
        cluster.shardwatch(&["explain", "ks/flux-system/demo-after-stuck", "-o", "json", "--timeout", "60"]);
    assert_eq!(code, 1, "not Ready exits 1: {err}\n{out}");
    let e: Value = serde_json::from_str(&out).unwrap_or_else(|err| panic!("explain JSON: {err}\n{out}"));
    let chain: Vec<&str> =
        e["chain"].as_array().unwrap().iter().filter_map(|l| l["key"]["name"].as_str()).collect();
    assert_eq!(chain, ["demo-after-stuck", "demo-stuck"], "{e}");
    assert_eq!(e["root_cause"]["reason"], "HealthCheckFailed", "{e}");
    let waited = &e["waits_for"][0];
    assert_eq!(
        (waited["kind"].as_str(), waited["name"].as_str()),
        (Some("Deployment"), Some("never-scheduled"))
    );
    let pod = &waited["pods"][0];
    let pod_name = pod["name"].as_str().unwrap_or_default();
    assert!(pod_name.starts_with("never-scheduled-"), "{waited}");
    assert_eq!(pod["reason"], "Unschedulable", "{pod}");
    let cause = e["cause"].as_str().unwrap_or_default();
    assert!(
        cause.starts_with(&format!("pod shardwatch-demo/{pod_name} Pending: Unschedulable: ")),
        "the one-line cause names the pod: {cause}"
    );
    assert!(cause.contains("didn't match Pod's node affinity/selector"), "the scheduler's words: {cause}");

    // The same, as the text a person reads.
    let (code, text, _) = cluster.shardwatch(&["explain", "ks/demo-stuck", "-n", FLUX_NS, "--timeout", "60"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("cause: pod shardwatch-demo/{pod_name} Pending: Unschedulable")),
        "{text}"
    );
}
