//! Actions that change the cluster on purpose (failover demos): the only writes outside
//! `up`. Each is a plain value so the command line and the dashboard's command channel
//! ([`serve`]) can describe it for a confirmation prompt before [`perform`] carries it out,
//! and each result is a plain [`Outcome`] that callers word as they need.

use std::fmt;

use color_eyre::eyre::{Report, Result, WrapErr, bail, eyre};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use tokio::sync::mpsc;

use super::trim::RECONCILE_REQUESTED_AT;
use crate::model::discovery::controller_ref;
use crate::model::objects::{FluxKey, FluxKind};
use crate::node_host::NodeHost;

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
    /// Ask a Flux object's controller to reconcile it now (with its source first).
    Reconcile { key: FluxKey, with_source: bool },
    /// Suspend (`true`) or resume a Flux object.
    Suspend { key: FluxKey, suspend: bool },
}

impl Action {
    /// What the action will do, for "About to <describe>." prompts.
    pub fn describe(&self, flux_ns: &str) -> String {
        let how = |host: &NodeHost, local: &str, kind: &str| match host {
            NodeHost::Local => local.to_string(),
            NodeHost::Kind { .. } => kind.to_string(),
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
            Action::Reconcile { key, with_source: true } if has_source(key) => {
                format!(
                    "request a reconcile of {key} and of its source ({RECONCILE_REQUESTED_AT} annotation)"
                )
            }
            Action::Reconcile { key, .. } => {
                format!("request a reconcile of {key} ({RECONCILE_REQUESTED_AT} annotation)")
            }
            Action::Suspend { key, suspend: true } => format!("suspend {key} (spec.suspend=true)"),
            Action::Suspend { key, suspend: false } => {
                format!("resume {key} (spec.suspend=false, and a reconcile request)")
            }
        }
    }
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A node was made to fail.
    NodeFailed { node: String, host: NodeHost },
    /// A failed node was brought back.
    NodeRestored { node: String, host: NodeHost },
    /// A pod was deleted.
    PodDeleted { namespace: String, pod: String },
    /// A node was marked unschedulable (`true`) or schedulable again (`false`).
    Cordoned { node: String, unschedulable: bool },
    /// A node was cordoned and these pods (`namespace/name`) on it were deleted.
    Drained { node: String, namespace: String, pods_deleted: Vec<String> },
    /// These Deployments (`namespace/name`) were scaled to `replicas`.
    Scaled { deployments: Vec<String>, replicas: i32 },
    /// A reconcile of `key` was requested with this token, after `source` (if any) handled
    /// the same request and was Ready.
    ReconcileRequested { key: FluxKey, token: String, source: Option<FluxKey> },
    /// `key` was suspended (`true`) or resumed.
    Suspended { key: FluxKey, suspend: bool },
}

impl Outcome {
    /// What was done, one line per change, as `chaos` prints it.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Outcome::NodeFailed { node, host: NodeHost::Local } => vec![format!(
                "node {node} failed (heartbeats stopped; NotReady once the node monitor grace period passes)"
            )],
            Outcome::NodeRestored { node, host: NodeHost::Local } => {
                vec![format!("node {node} restored (heartbeats resumed)")]
            }
            Outcome::NodeFailed { node, host: NodeHost::Kind { .. } } => {
                vec![format!("node {node} failed (container stopped)")]
            }
            Outcome::NodeRestored { node, host: NodeHost::Kind { .. } } => {
                vec![format!("node {node} restored (container started)")]
            }
            Outcome::PodDeleted { namespace, pod } => vec![format!("deleted pod {namespace}/{pod}")],
            Outcome::Cordoned { node, unschedulable } => {
                vec![format!("node {node} {}", if *unschedulable { "cordoned" } else { "uncordoned" })]
            }
            Outcome::Drained { node, namespace, pods_deleted } => {
                let mut lines = vec![format!("node {node} cordoned")];
                lines.extend(pods_deleted.iter().map(|p| format!("deleted pod {p}")));
                if pods_deleted.is_empty() {
                    lines.push(format!("no pod of {namespace} on {node}"));
                }
                lines
            }
            Outcome::Scaled { deployments, replicas } => {
                deployments.iter().map(|d| format!("deployment {d} scaled to {replicas} replicas")).collect()
            }
            Outcome::ReconcileRequested { key, token, source } => source
                .iter()
                .map(|s| format!("source {s} reconciled first (handled {RECONCILE_REQUESTED_AT}={token})"))
                .chain(std::iter::once(format!(
                    "reconcile of {key} requested ({RECONCILE_REQUESTED_AT}={token})"
                )))
                .collect(),
            Outcome::Suspended { key, suspend } => {
                vec![format!("{key} {}", if *suspend { "suspended" } else { "resumed" })]
            }
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lines().join("\n"))
    }
}

/// Carries out `action`; returns what was done.
pub async fn perform(client: &Client, flux_ns: &str, action: &Action) -> Result<Outcome> {
    match action {
        Action::FailNode { node, host } => {
            crate::node_host::fail(node, host).await?;
            Ok(Outcome::NodeFailed { node: node.clone(), host: host.clone() })
        }
        Action::RestoreNode { node, host } => {
            crate::node_host::restore(node, host).await?;
            Ok(Outcome::NodeRestored { node: node.clone(), host: host.clone() })
        }
        Action::DeletePod { pod } => {
            Api::<Pod>::namespaced(client.clone(), flux_ns)
                .delete(pod, &DeleteParams::default())
                .await
                .map_err(plain)
                .wrap_err_with(|| format!("deleting pod {flux_ns}/{pod}"))?;
            Ok(Outcome::PodDeleted { namespace: flux_ns.to_string(), pod: pod.clone() })
        }
        Action::Cordon { node } => set_unschedulable(client, node, true).await,
        Action::Uncordon { node } => set_unschedulable(client, node, false).await,
        Action::Drain { node } => drain(client, flux_ns, node).await,
        Action::Scale { deployment, replicas } => {
            scale(client, flux_ns, deployment, *replicas).await?;
            Ok(Outcome::Scaled { deployments: vec![format!("{flux_ns}/{deployment}")], replicas: *replicas })
        }
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
            let mut deployments = Vec::new();
            for name in names {
                scale(client, flux_ns, &name, *replicas).await?;
                deployments.push(format!("{flux_ns}/{name}"));
            }
            Ok(Outcome::Scaled { deployments, replicas: *replicas })
        }
        Action::Reconcile { key, with_source } => {
            super::flux_actions::reconcile(client, key, *with_source).await
        }
        Action::Suspend { key, suspend } => super::flux_actions::set_suspend(client, key, *suspend).await,
    }
}

/// Whether `flux reconcile --with-source` has a source to reconcile first for this kind.
fn has_source(key: &FluxKey) -> bool {
    matches!(key.kind, FluxKind::Kustomization | FluxKind::HelmRelease)
}

/// How an action sent to [`serve`] went: what was done, or why it failed (one line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionReport {
    /// The action performed.
    pub action: Action,
    /// What was done, or the error with its causes.
    pub result: std::result::Result<Outcome, String>,
}

/// The dashboard's command channel: performs each action received, in order, logs it and
/// sends back its [`ActionReport`]. A reconcile with its source waits up to a minute for
/// the source, so it runs beside the others instead of holding them up. Ends when
/// `actions` closes (after the reconciles still waiting) or nobody listens.
pub async fn serve(
    client: Client,
    flux_ns: String,
    mut actions: mpsc::Receiver<Action>,
    reports: mpsc::Sender<ActionReport>,
) {
    let mut waiting = tokio::task::JoinSet::new();
    loop {
        let report = tokio::select! {
            Some(action) = actions.recv() => {
                if matches!(&action, Action::Reconcile { key, with_source: true } if has_source(key)) {
                    let (client, flux_ns) = (client.clone(), flux_ns.clone());
                    waiting.spawn(async move { performed(&client, &flux_ns, action).await });
                    continue;
                }
                performed(&client, &flux_ns, action).await
            }
            Some(Ok(report)) = waiting.join_next() => report,
            else => return,
        };
        if reports.send(report).await.is_err() {
            return;
        }
    }
}

/// Performs `action`, logging it and how it went.
async fn performed(client: &Client, flux_ns: &str, action: Action) -> ActionReport {
    let what = action.describe(flux_ns);
    tracing::info!(action = %what, "performing action from the dashboard");
    let result = perform(client, flux_ns, &action).await.map_err(|e| format!("{e:#}"));
    match &result {
        Ok(done) => tracing::info!(action = %what, done = %done, "action done"),
        Err(e) => tracing::warn!(action = %what, error = %e, "action failed"),
    }
    ActionReport { action, result }
}

/// The API server's own sentence for a refused request (not the whole Status value), and
/// nothing that could carry a token.
pub(super) fn plain(e: kube::Error) -> Report {
    match e {
        kube::Error::Api(status) => eyre!("{} ({})", status.message, status.reason),
        other => eyre!(crate::redact::redact(&other.to_string())),
    }
}

async fn set_unschedulable(client: &Client, node: &str, unschedulable: bool) -> Result<Outcome> {
    let patch = json!({ "spec": { "unschedulable": unschedulable } });
    Api::<Node>::all(client.clone())
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(plain)
        .wrap_err_with(|| format!("patching node {node}"))?;
    Ok(Outcome::Cordoned { node: node.to_string(), unschedulable })
}

async fn drain(client: &Client, flux_ns: &str, node: &str) -> Result<Outcome> {
    set_unschedulable(client, node, true).await?;
    let mut pods_deleted = Vec::new();
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
        pods_deleted.push(format!("{flux_ns}/{name}"));
    }
    Ok(Outcome::Drained { node: node.to_string(), namespace: flux_ns.to_string(), pods_deleted })
}

async fn scale(client: &Client, flux_ns: &str, deployment: &str, replicas: i32) -> Result<()> {
    if replicas < 0 {
        bail!("replicas must be 0 or more, not {replicas}");
    }
    let patch = json!({ "spec": { "replicas": replicas } });
    Api::<Deployment>::namespaced(client.clone(), flux_ns)
        .patch_scale(deployment, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(plain)
        .wrap_err_with(|| format!("scaling deployment {flux_ns}/{deployment}"))?;
    Ok(())
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
        let fail = Action::FailNode {
            node: "shardwatch-worker2".into(),
            host: NodeHost::Kind { cluster: "shardwatch".into() },
        };
        assert_eq!(
            fail.describe("flux-system"),
            "fail node shardwatch-worker2 (docker stop shardwatch-worker2)"
        );
        let drain = Action::Drain { node: "w".into() };
        assert!(drain.describe("flux").contains("delete every pod of namespace flux on it"));
    }

    #[test]
    fn outcomes_print_one_line_per_change() {
        let drained = Outcome::Drained {
            node: "w3".into(),
            namespace: "f".into(),
            pods_deleted: vec!["f/a".into(), "f/b".into()],
        };
        assert_eq!(drained.to_string(), "node w3 cordoned\ndeleted pod f/a\ndeleted pod f/b");
        let empty = Outcome::Drained { node: "w3".into(), namespace: "f".into(), pods_deleted: vec![] };
        assert_eq!(empty.to_string(), "node w3 cordoned\nno pod of f on w3");
        let scaled = Outcome::Scaled { deployments: vec!["f/a".into(), "f/b".into()], replicas: 0 };
        assert_eq!(
            scaled.to_string(),
            "deployment f/a scaled to 0 replicas\ndeployment f/b scaled to 0 replicas"
        );
        let failed =
            Outcome::NodeFailed { node: "w2".into(), host: NodeHost::Kind { cluster: "shardwatch".into() } };
        assert_eq!(failed.to_string(), "node w2 failed (container stopped)");
        let back = Outcome::NodeRestored { node: "w2".into(), host: NodeHost::Local };
        assert_eq!(back.to_string(), "node w2 restored (heartbeats resumed)");
        let cordoned = Outcome::Cordoned { node: "w1".into(), unschedulable: false };
        assert_eq!(cordoned.to_string(), "node w1 uncordoned");
        let deleted = Outcome::PodDeleted { namespace: "f".into(), pod: "p".into() };
        assert_eq!(deleted.to_string(), "deleted pod f/p");
    }
}
