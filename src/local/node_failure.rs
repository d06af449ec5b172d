//! Failing and restoring a node of the local cluster. kwok v0.8 keeps heartbeating a node
//! whose annotation stops matching its selector (its informer drops the update instead of
//! forgetting the node), but it only manages nodes whose Lease it holds. So a failure
//! takes the node's Lease over for a day and stops renewing it, exactly what a dead
//! kubelet looks like to the node lifecycle controller; the annotation flip keeps the node
//! unmanaged should kwok restart meanwhile. The local kubelet (`shardwatch kubelet`) then
//! SIGKILLs the Flux controllers of the pods on it, and starts them again once it is back.

use std::time::{Duration, Instant};

use chrono::Utc;
use color_eyre::eyre::{Result, WrapErr, bail};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

/// kwok manages the nodes whose annotation has the value `fake` (its selector).
pub const MANAGED_ANNOTATION: &str = "kwok.x-k8s.io/node";
/// The Lease holder a failed node is left with.
pub const FAIL_HOLDER: &str = "shardwatch-fail-node";
const NODE_LEASES: &str = "kube-node-lease";

/// Whether the node's Ready condition is True.
pub fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Whether node `name`'s Lease is held by a failure.
pub async fn held_failed(leases: &Api<Lease>, name: &str) -> bool {
    leases
        .get_opt(name)
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec?.holder_identity)
        .is_some_and(|h| h == FAIL_HOLDER)
}

async fn annotate(client: &Client, name: &str, value: &str) -> Result<()> {
    let nodes: Api<Node> = Api::all(client.clone());
    let patch = json!({ "metadata": { "annotations": { MANAGED_ANNOTATION: value } } });
    nodes
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .wrap_err_with(|| format!("no node {name}"))?;
    Ok(())
}

/// Stops node `name`'s heartbeats: NotReady after the node monitor's grace period.
pub async fn fail(client: &Client, name: &str) -> Result<()> {
    annotate(client, name, "shardwatch-failed").await?;
    let leases: Api<Lease> = Api::namespaced(client.clone(), NODE_LEASES);
    let now = Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let patch =
        json!({ "spec": { "holderIdentity": FAIL_HOLDER, "leaseDurationSeconds": 86400, "renewTime": now } });
    leases.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    Ok(())
}

/// Hands node `name` back: the annotation matches kwok's selector again and the Lease is
/// expired, so kwok acquires it, manages the node and its stages make it Ready.
pub async fn restore(client: &Client, name: &str) -> Result<()> {
    annotate(client, name, "fake").await?;
    let leases: Api<Lease> = Api::namespaced(client.clone(), NODE_LEASES);
    if held_failed(&leases, name).await {
        let patch =
            json!({ "spec": { "leaseDurationSeconds": 1, "renewTime": "1970-01-01T00:00:00.000000Z" } });
        leases.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    }
    Ok(())
}

/// Waits until node `name` is Ready (`ready`) or has a Ready condition that is not True.
pub async fn wait(client: &Client, name: &str, ready: bool, timeout: Duration) -> Result<()> {
    let nodes: Api<Node> = Api::all(client.clone());
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(node) = nodes.get(name).await {
            let has_condition = node
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready"));
            if is_ready(&node) == ready && (ready || has_condition) {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            let state = if ready { "not Ready" } else { "still Ready" };
            bail!("node {name} {state} after {}s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
