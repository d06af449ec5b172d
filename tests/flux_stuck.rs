//! The stuck reconciliation the seed met, reproduced with the real Flux controllers: the
//! demo scenario (manifests/clusters/demo/stuck.yaml) applies a Deployment no node can
//! take; kustomize-controller-shard3 reports HealthCheckFailed after the 30 s timeout, the
//! dependent Kustomization waits, and `shardwatch explain` names the unschedulable pod.
//! And a layer applied before the CRDs it needs: `explain` names the missing kind.
//! Needs `tests/localcluster/cluster.sh start` and the Flux binaries (test.sh builds them).

#[path = "support/real_flux.rs"]
mod real_flux;
mod support;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use real_flux::{FLUX_NS, kustomization, ready_message};
use serde_json::Value;
use support::{Cluster, wait_until};

/// The timeout (30 s) plus a reconcile's own time and the controller's dependency requeue.
const DEADLINE: Duration = Duration::from_secs(150);

/// Both tests run `up` and apply a scenario in flux-system: one at a time.
static STACK: Mutex<()> = Mutex::new(());

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("manifests/clusters/demo/{name}.yaml"))
}

/// A demo scenario, applied; removed when the test ends, however it ends (prune deletes
/// what it applied).
struct Scenario<'a>(&'a Cluster, PathBuf);

impl<'a> Scenario<'a> {
    fn apply(cluster: &'a Cluster, name: &str) -> Scenario<'a> {
        let file = scenario(name);
        let guard = Scenario(cluster, file.clone());
        cluster.kubectl(&["apply", "-f", &file.to_string_lossy()]).expect("apply the scenario");
        guard
    }
}

impl Drop for Scenario<'_> {
    fn drop(&mut self) {
        let file = self.1.to_string_lossy();
        if let Err(e) = self.0.kubectl(&["delete", "--ignore-not-found", "--wait=false", "-f", &file]) {
            eprintln!("could not remove {file}: {e}");
        }
    }
}

/// Waits until Kustomization `name` has Ready=False with `reason`; returns it.
fn not_ready_with(cluster: &Cluster, name: &str, reason: &str) -> Value {
    wait_until(DEADLINE, &format!("{name} Ready=False {reason}"), || {
        let ks = kustomization(cluster, name)?;
        let ready = real_flux::ready_condition(&ks).cloned().unwrap_or_default();
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
    let _stack = STACK.lock().unwrap_or_else(|p| p.into_inner());
    let _nodes = support::healthy_nodes();
    real_flux::up(&cluster);
    real_flux::chain_ready(&cluster);

    let _scenario = Scenario::apply(&cluster, "stuck");

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

#[test]
fn a_layer_whose_crd_is_missing_is_explained_as_such() {
    let Some(cluster) = support::cluster() else { return };
    let _stack = STACK.lock().unwrap_or_else(|p| p.into_inner());
    real_flux::up(&cluster);
    real_flux::chain_ready(&cluster);
    // `up` may just have published the scenario's folder: fetch it before applying.
    let token = real_flux::request_reconcile(&cluster, "gitrepository", "shardwatch-infra");
    real_flux::wait_handled(&cluster, "gitrepository", "shardwatch-infra", &token, DEADLINE);

    let _scenario = Scenario::apply(&cluster, "missing-crd");
    let ks = wait_until(DEADLINE, "demo-missing-crd failing on the missing kind", || {
        let ks = kustomization(&cluster, "demo-missing-crd")?;
        let message = ready_message(&ks);
        if message.contains("no matches for kind") { Ok(ks) } else { Err(message) }
    });
    assert_eq!(support::condition(&ks, "Ready"), Some("False"), "{ks}");

    let (code, out, err) =
        cluster.shardwatch(&["explain", "ks/flux-system/demo-missing-crd", "-o", "json", "--timeout", "60"]);
    assert_eq!(code, 1, "not Ready exits 1: {err}\n{out}");
    let e: Value = serde_json::from_str(&out).unwrap_or_else(|err| panic!("explain JSON: {err}\n{out}"));
    assert_eq!(e["missing_kinds"][0]["kind"], "Widget", "{e}");
    assert_eq!(e["missing_kinds"][0]["version"], "demo.shardwatch.dev/v1", "{e}");
    let cause = e["cause"].as_str().unwrap_or_default();
    assert!(cause.starts_with("CRD not installed or not established: no kind Widget"), "cause: {cause}");
}
