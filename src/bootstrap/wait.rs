//! Waiting for the controller Deployments to become Available, by watching (never
//! polling), with progress as the count moves and a clear account of what is missing
//! when time runs out.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr, bail};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::ListParams;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, ResourceExt};

use crate::cluster::trim;
use crate::model::objects::{Deployment as Dep, Pod as TPod};

/// A Deployment counts as Available when every desired replica is available.
fn available(d: &Dep) -> bool {
    d.desired > 0 && d.available >= d.desired
}

/// Why a Deployment is not yet Available, from its pods.
pub fn why_not_ready(d: &Dep, pods: &[&TPod]) -> String {
    if pods.is_empty() {
        return format!("{}/{} available, no pods yet", d.available, d.desired);
    }
    let reasons: Vec<String> = pods
        .iter()
        .map(|p| match (&p.unschedulable_message, &p.node) {
            (Some(msg), _) => format!("pod {} Pending: {msg}", p.name),
            (None, None) => format!("pod {} not scheduled yet", p.name),
            (None, Some(node)) if !p.ready => format!("pod {} {} on {node}, not ready", p.name, p.phase),
            (None, Some(node)) => format!("pod {} ready on {node}", p.name),
        })
        .collect();
    format!("{}/{} available: {}", d.available, d.desired, reasons.join("; "))
}

/// Watches the Deployments named `names` in `namespace` until all are Available.
/// Calls `progress` when the count of available ones changes.
pub async fn deployments_available(
    client: &Client,
    namespace: &str,
    names: &[String],
    timeout: Duration,
    shard_label: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let deploy_api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let pod_api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    enum Change {
        Deployment(Event<Deployment>),
        Pod(Event<Pod>),
    }
    let deployments =
        watcher::watcher(deploy_api, watcher::Config::default()).default_backoff().map_ok(Change::Deployment);
    let pods = watcher::watcher(pod_api, watcher::Config::default()).default_backoff().map_ok(Change::Pod);
    let mut events = futures::stream::select(deployments.boxed(), pods.boxed());
    let mut deps: BTreeMap<String, Dep> = BTreeMap::new();
    let mut pod_map: BTreeMap<String, TPod> = BTreeMap::new();
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last_count = usize::MAX;
    let mut listed = false;
    loop {
        let ready: Vec<&String> = names.iter().filter(|n| deps.get(*n).is_some_and(available)).collect();
        // The initial list arrives object by object; report from the first full picture on.
        if listed && ready.len() != last_count {
            last_count = ready.len();
            let elapsed = start.elapsed().as_secs_f32();
            progress(&format!("{}/{} Deployments available ({elapsed:.1}s)", ready.len(), names.len()));
        }
        if ready.len() == names.len() {
            if last_count != ready.len() {
                // Already all there in the initial list: say so rather than nothing.
                progress(&format!("{}/{} Deployments available", ready.len(), names.len()));
            }
            return Ok(());
        }
        let next = match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(item)) => item,
            Ok(None) => bail!("the watch on {namespace} ended"),
            Err(_) => break,
        };
        match next {
            Ok(Change::Deployment(Event::Apply(d) | Event::InitApply(d))) => {
                deps.insert(d.name_any(), trim::deployment(&d, shard_label));
            }
            Ok(Change::Deployment(Event::Delete(d))) => {
                deps.remove(&d.name_any());
            }
            Ok(Change::Pod(Event::Apply(p) | Event::InitApply(p))) => {
                pod_map.insert(p.name_any(), trim::pod(&p));
            }
            Ok(Change::Pod(Event::Delete(p))) => {
                pod_map.remove(&p.name_any());
            }
            Ok(Change::Deployment(Event::InitDone)) => listed = true,
            Ok(_) => {}
            Err(e) => progress(&format!("watch interrupted ({e}); retrying")),
        }
    }
    let mut missing = Vec::new();
    for name in names {
        match deps.get(name) {
            None => missing.push(format!("  {name}: not found")),
            Some(d) if !available(d) => {
                let pods: Vec<&TPod> = pod_map.values().filter(|p| p.app.as_deref() == Some(name)).collect();
                missing.push(format!("  {name}: {}", why_not_ready(d, &pods)));
            }
            Some(_) => {}
        }
    }
    bail!(
        "timed out after {timeout:?} waiting for Deployments in {namespace}; still not available:\n{}",
        missing.join("\n")
    )
}

/// One line per shard Deployment: its pods' nodes and whether each node carries the
/// shard's label (the seed's step 5).
pub async fn placement_report(
    client: &Client,
    namespace: &str,
    shard_label: &str,
    shards: &[String],
) -> Result<Vec<String>> {
    let nodes: Api<Node> = Api::all(client.clone());
    let node_shard: BTreeMap<String, String> = nodes
        .list(&ListParams::default())
        .await
        .wrap_err("listing nodes")?
        .into_iter()
        .filter_map(|n| {
            let shard = n.labels().get(shard_label).cloned()?;
            Some((n.name_any(), shard))
        })
        .collect();
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut lines = Vec::new();
    let mut list: Vec<TPod> =
        pods.list(&ListParams::default()).await.wrap_err("listing pods")?.iter().map(trim::pod).collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    for pod in list {
        let Some(app) = pod.app.as_deref() else { continue };
        let Some(shard) = shards.iter().find(|s| app.ends_with(&format!("-{s}"))) else {
            continue;
        };
        let node = pod.node.as_deref().unwrap_or("-");
        let verdict = match node_shard.get(node) {
            Some(s) if s == shard => "on its shard's node".to_string(),
            Some(s) => format!("on a node labelled {s}!"),
            None => "on a node with no shard label".to_string(),
        };
        lines.push(format!("{:<46} {:<8} {:<22} {verdict}", pod.name, pod.phase, node));
    }
    Ok(lines)
}

/// The nodes that carry `shard_label`, as (node, shard) pairs: what `up` checks the shards against.
pub async fn shard_nodes(client: &Client, shard_label: &str) -> Result<Vec<(String, String)>> {
    let nodes: Api<Node> = Api::all(client.clone());
    let list = nodes.list(&ListParams::default().labels(shard_label)).await.wrap_err("listing nodes")?;
    Ok(list
        .into_iter()
        .filter_map(|n| {
            let shard = n.labels().get(shard_label).cloned()?;
            Some((n.name_any(), shard))
        })
        .collect())
}
