//! Actions that change the cluster on purpose (failover demos): the only writes outside
//! `up`. Each is a plain value so the command line and the dashboard's command channel
//! ([`serve`]) can describe it for a confirmation prompt before [`perform`] carries it out.

use color_eyre::eyre::{Report, Result, WrapErr, bail, eyre};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use tokio::sync::mpsc;

use crate::bootstrap::{kind, local};
use crate::model::discovery::controller_ref;

/// Where a node runs, which decides how it is failed and restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NodeHost {
    /// The local control plane (tests/localcluster/cluster.sh): kwok stops heartbeating the node.
    Local,
    /// A kind cluster: the node's Docker container is stopped or started.
    Kind,
}

/// One change to the cluster, described before it is performed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Make a node fail (NotReady, its pods with it).
    FailNode { node: String, host: NodeHost },
    /// Bring a failed node back.
    RestoreNode { node: String, host: NodeHost },
    /// Delete a pod in the Flux namespace (its Deployment makes a new one).
    DeletePod { pod: String },
    /// Mark a node unschedulable.
    Cordon { node: String },
    /// Mark a node schedulable again.
    Uncordon { node: String },
    /// Cordon a node, then delete the Flux namespace's pods on it (not an eviction-API drain).
    Drain { node: String },
    /// Set the replicas of a Deployment in the Flux namespace.
    Scale { deployment: String, replicas: i32 },
    /// Set the replicas of every controller Deployment of a shard.
    ScaleShard { shard: String, replicas: i32, shard_label: String },
}

impl Action {
    /// What the action will do, for "About to <describe>." prompts.
    pub fn describe(&self, flux_ns: &str) -> String {
        let how = |host: &NodeHost, local: &str, kind: &str| match host {
            NodeHost::Local => local.to_string(),
            NodeHost::Kind => kind.to_string(),
        };
        match self {
            Action::FailNode { node, host } => format!(
                "fail node {node} ({})",
                how(host, "the local cluster stops its heartbeats", &format!("docker stop {node}"))
            ),
            Action::RestoreNode { node, host } => format!(
                "restore node {node} ({})",
                how(host, "the local cluster resumes its heartbeats", &format!("docker start {node}"))
            ),
            Action::DeletePod { pod } => format!("delete pod {flux_ns}/{pod}"),
            Action::Cordon { node } => format!("cordon node {node} (mark it unschedulable)"),
            Action::Uncordon { node } => format!("uncordon node {node} (mark it schedulable)"),
            Action::Drain { node } => {
                format!("drain node {node}: cordon it, then delete every pod of namespace {flux_ns} on it")
            }
            Action::Scale { deployment, replicas } => {
                format!("scale deployment {flux_ns}/{deployment} to {replicas} replicas")
            }
            Action::ScaleShard { shard, replicas, .. } => {
                format!(
                    "scale every controller Deployment of shard {shard} in {flux_ns} to {replicas} replicas"
                )
            }
        }
    }
}

/// Carries out `action`; returns what was done, one line per change.
pub async fn perform(client: &Client, flux_ns: &str, action: &Action) -> Result<String> {
    match action {
        Action::FailNode { node, host: NodeHost::Local } => {
            local::fail_node(node).await?;
            Ok(format!(
                "node {node} failed (heartbeats stopped; NotReady once the node monitor grace period passes)"
            ))
        }
        Action::RestoreNode { node, host: NodeHost::Local } => {
            local::restore_node(node).await?;
            Ok(format!("node {node} restored (heartbeats resumed)"))
        }
        Action::FailNode { node, host: NodeHost::Kind } => {
            kind::node_container("stop", node).await?;
            Ok(format!("node {node} failed (container stopped)"))
        }
        Action::RestoreNode { node, host: NodeHost::Kind } => {
            kind::node_container("start", node).await?;
            Ok(format!("node {node} restored (container started)"))
        }
        Action::DeletePod { pod } => {
            Api::<Pod>::namespaced(client.clone(), flux_ns)
                .delete(pod, &DeleteParams::default())
                .await
                .map_err(plain)
                .wrap_err_with(|| format!("deleting pod {flux_ns}/{pod}"))?;
            Ok(format!("deleted pod {flux_ns}/{pod}"))
        }
        Action::Cordon { node } => set_unschedulable(client, node, true).await,
        Action::Uncordon { node } => set_unschedulable(client, node, false).await,
        Action::Drain { node } => drain(client, flux_ns, node).await,
        Action::Scale { deployment, replicas } => scale(client, flux_ns, deployment, *replicas).await,
        Action::ScaleShard { shard, replicas, shard_label } => {
            let api = Api::<Deployment>::namespaced(client.clone(), flux_ns);
            let list = api
                .list(&ListParams::default())
                .await
                .map_err(plain)
                .wrap_err_with(|| format!("listing deployments in {flux_ns}"))?;
            let names: Vec<String> = list
                .items
                .iter()
                .filter(|d| {
                    controller_ref(&super::trim::deployment(d, shard_label), shard_label).shard == *shard
                })
                .map(|d| d.name_any())
                .collect();
            if names.is_empty() {
                bail!("no controller Deployment of shard {shard} in namespace {flux_ns}");
            }
            let mut done = Vec::new();
            for name in names {
                done.push(scale(client, flux_ns, &name, *replicas).await?);
            }
            Ok(done.join("\n"))
        }
    }
}

/// How an action sent to [`serve`] went: what was done, or why it failed (one line each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The action performed.
    pub action: Action,
    /// What was done ([`perform`]'s lines), or the error with its causes.
    pub result: std::result::Result<String, String>,
}

/// The dashboard's command channel: performs each action received, one at a time, logs
/// it and sends back its [`Outcome`]. Ends when `actions` closes or nobody listens.
pub async fn serve(
    client: Client,
    flux_ns: String,
    mut actions: mpsc::Receiver<Action>,
    outcomes: mpsc::Sender<Outcome>,
) {
    while let Some(action) = actions.recv().await {
        let what = action.describe(&flux_ns);
        tracing::info!(action = %what, "performing action from the dashboard");
        let result = perform(&client, &flux_ns, &action).await.map_err(|e| format!("{e:#}"));
        match &result {
            Ok(done) => tracing::info!(action = %what, done = %done, "action done"),
            Err(e) => tracing::warn!(action = %what, error = %e, "action failed"),
        }
        if outcomes.send(Outcome { action, result }).await.is_err() {
            return;
        }
    }
}

/// The API server's own sentence for a refused request (not the whole Status value), and
/// nothing that could carry a token.
fn plain(e: kube::Error) -> Report {
    match e {
        kube::Error::Api(status) => eyre!("{} ({})", status.message, status.reason),
        other => eyre!(super::watch::redact(&other.to_string())),
    }
}

async fn set_unschedulable(client: &Client, node: &str, unschedulable: bool) -> Result<String> {
    let patch = json!({ "spec": { "unschedulable": unschedulable } });
    Api::<Node>::all(client.clone())
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(plain)
        .wrap_err_with(|| format!("patching node {node}"))?;
    Ok(format!("node {node} {}", if unschedulable { "cordoned" } else { "uncordoned" }))
}

async fn drain(client: &Client, flux_ns: &str, node: &str) -> Result<String> {
    let mut done = vec![set_unschedulable(client, node, true).await?];
    let pods = Api::<Pod>::namespaced(client.clone(), flux_ns);
    let on_node = ListParams::default().fields(&format!("spec.nodeName={node}"));
    let list = pods
        .list(&on_node)
        .await
        .map_err(plain)
        .wrap_err_with(|| format!("listing pods of {flux_ns} on {node}"))?;
    for pod in list.items {
        let name = pod.name_any();
        pods.delete(&name, &DeleteParams::default())
            .await
            .map_err(plain)
            .wrap_err_with(|| format!("deleting pod {flux_ns}/{name}"))?;
        done.push(format!("deleted pod {flux_ns}/{name}"));
    }
    if done.len() == 1 {
        done.push(format!("no pod of {flux_ns} on {node}"));
    }
    Ok(done.join("\n"))
}

async fn scale(client: &Client, flux_ns: &str, deployment: &str, replicas: i32) -> Result<String> {
    if replicas < 0 {
        bail!("replicas must be 0 or more, not {replicas}");
    }
    let patch = json!({ "spec": { "replicas": replicas } });
    Api::<Deployment>::namespaced(client.clone(), flux_ns)
        .patch_scale(deployment, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(plain)
        .wrap_err_with(|| format!("scaling deployment {flux_ns}/{deployment}"))?;
    Ok(format!("deployment {flux_ns}/{deployment} scaled to {replicas} replicas"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_name_the_object_and_namespace() {
        let scale = Action::Scale { deployment: "kustomize-controller-shard3".into(), replicas: 0 };
        assert_eq!(
            scale.describe("flux-system"),
            "scale deployment flux-system/kustomize-controller-shard3 to 0 replicas"
        );
        let fail = Action::FailNode { node: "shardwatch-worker2".into(), host: NodeHost::Kind };
        assert_eq!(
            fail.describe("flux-system"),
            "fail node shardwatch-worker2 (docker stop shardwatch-worker2)"
        );
        let drain = Action::Drain { node: "w".into() };
        assert!(drain.describe("flux").contains("delete every pod of namespace flux on it"));
    }
}
