//! Reading controller logs through the pods/log API (the same on kind and on the local
//! target, whose kubelet serves its processes' output through kwok): one pod, every pod
//! of a controller Deployment, or the owning controller of a Flux object with only the
//! lines that name it, as `flux logs --kind --name --namespace` shows them.

use color_eyre::eyre::{Result, WrapErr, bail};
use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, LogParams};
use kube::{Api, Client, ResourceExt};
use tokio::sync::mpsc;

use super::actions::plain;
use super::{flux_api, trim};
use crate::model::controller_log::{LogLine, names_object};
pub use crate::model::controller_log::{LogMessage, LogSource, LogWindow};
use crate::model::discovery::controller_ref;
use crate::model::objects::FluxKey;
use crate::model::shards::MAIN_SHARD;

/// Where a log comes from once resolved: the pods, and the object whose lines are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The Deployment the pods belong to, when known.
    pub deployment: Option<String>,
    /// Pods to read, by name.
    pub pods: Vec<String>,
    /// Keep only lines naming this object.
    pub object: Option<FluxKey>,
}

/// Finds the pods behind `source`.
pub async fn resolve(
    client: &Client,
    flux_ns: &str,
    shard_label: &str,
    source: &LogSource,
) -> Result<Resolved> {
    match source {
        LogSource::Pod(p) => Ok(Resolved { deployment: None, pods: vec![p.clone()], object: None }),
        LogSource::Deployments(names) => {
            let api = Api::<Deployment>::namespaced(client.clone(), flux_ns);
            let mut pods = Vec::new();
            for d in names {
                let dep = api
                    .get(d)
                    .await
                    .map_err(plain)
                    .wrap_err_with(|| format!("reading deployment {flux_ns}/{d}"))?;
                pods.extend(pods_of(client, flux_ns, &dep).await?);
            }
            Ok(Resolved { deployment: Some(names.join(", ")), pods, object: None })
        }
        LogSource::Object(key) => {
            let shard = object_shard(client, key, shard_label).await?;
            let dep = owning_deployment(client, flux_ns, shard_label, key, &shard).await?;
            let pods = pods_of(client, flux_ns, &dep).await?;
            Ok(Resolved { deployment: Some(dep.name_any()), pods, object: Some(key.clone()) })
        }
    }
}

/// The object's shard label value, or `main` when unlabelled.
async fn object_shard(client: &Client, key: &FluxKey, shard_label: &str) -> Result<String> {
    let Some(ar) = flux_api::discover(client, key.kind).await.map_err(plain)? else {
        bail!("this cluster does not serve {} (Flux's CRD is not installed)", key.kind.as_str());
    };
    let obj = Api::<kube::api::DynamicObject>::namespaced_with(client.clone(), &key.namespace, &ar)
        .get(&key.name)
        .await
        .map_err(plain)
        .wrap_err_with(|| format!("reading {key}"))?;
    Ok(obj.labels().get(shard_label).cloned().unwrap_or_else(|| MAIN_SHARD.to_string()))
}

/// The controller Deployment of `shard` for the object's kind, found the way the Shards
/// panel finds controllers (by watch selector and name).
async fn owning_deployment(
    client: &Client,
    flux_ns: &str,
    shard_label: &str,
    key: &FluxKey,
    shard: &str,
) -> Result<Deployment> {
    let list = Api::<Deployment>::namespaced(client.clone(), flux_ns)
        .list(&ListParams::default())
        .await
        .map_err(plain)
        .wrap_err_with(|| format!("listing deployments in {flux_ns}"))?;
    let controller = key.kind.controller();
    list.items
        .into_iter()
        .find(|d| {
            let r = controller_ref(&trim::deployment(d, shard_label), shard_label);
            r.controller == controller && r.shard == shard
        })
        .ok_or_else(|| {
            color_eyre::eyre::eyre!(
                "{key} belongs to shard {shard}, which has no {controller} in {flux_ns}: nothing reconciles it, so no log names it"
            )
        })
}

/// The pods a Deployment selects, by name.
async fn pods_of(client: &Client, flux_ns: &str, dep: &Deployment) -> Result<Vec<String>> {
    let labels = dep.spec.as_ref().and_then(|s| s.selector.match_labels.clone()).unwrap_or_default();
    let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let pods = Api::<Pod>::namespaced(client.clone(), flux_ns)
        .list(&ListParams::default().labels(&selector.join(",")))
        .await
        .map_err(plain)
        .wrap_err_with(|| format!("listing the pods of deployment {flux_ns}/{}", dep.name_any()))?;
    let mut names: Vec<String> = pods.items.iter().map(ResourceExt::name_any).collect();
    names.sort();
    Ok(names)
}

/// Reads every pod's log at once, sending lines (those naming `resolved.object` only, when
/// set) as they come; returns when every stream has ended or nobody listens.
pub async fn stream(
    client: &Client,
    flux_ns: &str,
    resolved: &Resolved,
    window: LogWindow,
    tx: mpsc::Sender<LogMessage>,
) {
    let readers = resolved.pods.iter().map(|pod| {
        let tx = tx.clone();
        let api = Api::<Pod>::namespaced(client.clone(), flux_ns);
        let object = resolved.object.clone();
        async move {
            let params = LogParams {
                follow: window.follow,
                since_seconds: window.since_seconds,
                previous: window.previous,
                ..LogParams::default()
            };
            let reader = match api.log_stream(pod, &params).await {
                Ok(r) => r,
                Err(e) => {
                    let message = cannot_read(pod, e);
                    let _ = tx.send(LogMessage::Error { pod: pod.clone(), message }).await;
                    return;
                }
            };
            let mut lines = std::pin::pin!(reader.lines());
            while let Some(line) = lines.next().await {
                match line {
                    Ok(text) => {
                        if object.as_ref().is_some_and(|k| !names_object(&text, k)) {
                            continue;
                        }
                        if tx.send(LogMessage::Line(LogLine { pod: pod.clone(), text })).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let message = format!("the log stream broke: {e}");
                        let _ = tx.send(LogMessage::Error { pod: pod.clone(), message }).await;
                        return;
                    }
                }
            }
            let _ = tx.send(LogMessage::Ended { pod: pod.clone() }).await;
        }
    });
    futures::future::join_all(readers).await;
}

/// Why a pod's log cannot be read, in words: RBAC, a pod without a served log, or the server's message.
fn cannot_read(pod: &str, e: kube::Error) -> String {
    if let kube::Error::Api(s) = &e {
        match s.code {
            403 => {
                return format!(
                    "forbidden: this user may not read pods/log ({}); ask for get on pods/log",
                    s.message
                );
            }
            404 => return format!("no log for pod {pod}: {}", s.message),
            _ => {}
        }
    }
    format!("{:#}", plain(e))
}
