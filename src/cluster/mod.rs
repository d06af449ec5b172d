//! Talking to the cluster: connecting like kubectl does, and one watcher per kind that
//! turns API objects into trimmed `ClusterEvent`s for the model.

pub mod actions;
pub mod connect_error;
pub mod controller_logs;
pub mod flux_actions;
pub mod flux_api;
pub mod trim;
pub mod watch;

use std::path::PathBuf;
use std::time::Duration;

use color_eyre::eyre::Result;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::events::v1::Event;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config, ResourceExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::model::objects::FluxKind;
use crate::model::{
    Change, ClusterEvent, ClusterInfo, ModelConfig, Object, ObjectId, ResourceKind, WatchState,
};
pub use connect_error::ConnectError;
use watch::Trimmer;

/// Which cluster to talk to, as kubectl's flags name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// `--kubeconfig`: one file, overriding `KUBECONFIG`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: a context other than the current one.
    pub context: Option<String>,
}

/// What to watch and how to read it: the dashboard's and the headless commands' common ground.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOptions {
    /// The cluster.
    pub connect: ConnectOptions,
    /// `-n`: follow Flux objects in this namespace only (None: all namespaces).
    pub objects_namespace: Option<String>,
    /// Where the Flux controllers run.
    pub flux_namespace: String,
    /// The label key that assigns Flux objects and nodes to shards.
    pub shard_label: String,
}

impl WatchOptions {
    /// How the model should read what it sees.
    pub fn model_config(&self) -> ModelConfig {
        ModelConfig {
            flux_namespace: self.flux_namespace.clone(),
            shard_label: self.shard_label.clone(),
            ..ModelConfig::default()
        }
    }
}

/// Builds a client the way kubectl would: `--kubeconfig`, else `KUBECONFIG` (several
/// paths merged), else `~/.kube/config`, else in-cluster; `--context` picks a context.
pub async fn connect(target: &ConnectOptions) -> Result<(Client, ClusterInfo)> {
    Ok(connect_checked(target).await?)
}

/// [`connect`], failing with a one-line [`ConnectError`] (cause and fix).
pub async fn connect_checked(target: &ConnectOptions) -> Result<(Client, ClusterInfo), ConnectError> {
    let options = KubeConfigOptions { context: target.context.clone(), ..Default::default() };
    let kubeconfig = match &target.kubeconfig {
        Some(path) => Some(
            Kubeconfig::read_from(path)
                .map_err(|e| connect_error::kubeconfig(&path.display().to_string(), &e))?,
        ),
        None => match Kubeconfig::read() {
            Ok(kc) => Some(kc),
            // Only a missing kubeconfig falls back to in-cluster; a broken one is an error.
            Err(e) if std::env::var_os("KUBECONFIG").is_some() || default_kubeconfig_exists() => {
                let path = std::env::var("KUBECONFIG").unwrap_or_else(|_| "~/.kube/config".into());
                return Err(connect_error::kubeconfig(&path, &e));
            }
            Err(_) => None,
        },
    };
    let (mut config, context) = match kubeconfig {
        Some(kc) => {
            let context = options.context.clone().or_else(|| kc.current_context.clone()).unwrap_or_default();
            let known: Vec<String> = kc.contexts.iter().map(|c| c.name.clone()).collect();
            if !known.contains(&context) {
                return Err(connect_error::unknown_context(&context, &known));
            }
            let config = Config::from_custom_kubeconfig(kc, &options).await.map_err(|e| ConnectError {
                cause: format!(
                    "context {context:?} cannot be used: {}",
                    crate::redact::redact(&e.to_string())
                ),
                fix: "fix its cluster and user entries in the kubeconfig".into(),
            })?;
            (config, context)
        }
        None => (
            Config::incluster().map_err(|_| ConnectError {
                cause: "no kubeconfig found and not running in a cluster".into(),
                fix: "set KUBECONFIG or pass --kubeconfig".into(),
            })?,
            "in-cluster".to_string(),
        ),
    };
    // A dead server should be reported in seconds, not after the default half minute.
    config.connect_timeout = Some(Duration::from_secs(5));
    // Shown in headers, confirmations and errors: a URL may carry user:password@ or ?token=.
    let server = crate::redact::redact(&config.cluster_url.to_string());
    let uses_client_cert =
        config.auth_info.client_certificate.is_some() || config.auth_info.client_certificate_data.is_some();
    let client =
        Client::try_from(config).map_err(|e| connect_error::request(&server, &e, uses_client_cert))?;
    let version = client
        .apiserver_version()
        .await
        .map_err(|e| connect_error::request(&server, &e, uses_client_cert))?;
    let info =
        ClusterInfo { context, server, kubernetes_version: Some(version.git_version), flux_version: None };
    Ok((client, info))
}

fn default_kubeconfig_exists() -> bool {
    std::env::var_os("HOME").is_some_and(|h| PathBuf::from(h).join(".kube/config").is_file())
}

/// Starts one watcher per followed kind; they stop when `tx`'s receiver is dropped.
/// `objects_namespace`: follow Flux objects there only (None: all namespaces).
pub fn spawn_watchers(
    client: &Client,
    objects_namespace: Option<&str>,
    config: &ModelConfig,
    tx: &mpsc::Sender<ClusterEvent>,
) -> Vec<JoinHandle<()>> {
    // Every kind is Syncing before any list arrives, so the model knows how many lists it
    // waits for and judges nothing from the first ones in. The channel is new and has room.
    for kind in ResourceKind::all() {
        let _ = tx.try_send(ClusterEvent {
            at: chrono::Utc::now(),
            change: Change::Watch(kind, WatchState::Syncing),
        });
    }
    let ns = config.flux_namespace.as_str();
    let label = config.shard_label.clone();
    let c = || client.clone();
    let dlabel = label.clone();
    let mut tasks = vec![
        tokio::spawn(watch::run(
            Api::<Node>::all(c()),
            Trimmer::new(
                ResourceKind::Node,
                |n| Object::Node(trim::node(n)),
                |n| ObjectId::Node(n.name_any()),
            ),
            tx.clone(),
        )),
        tokio::spawn(watch::run(
            Api::<Pod>::namespaced(c(), ns),
            Trimmer::new(
                ResourceKind::Pod,
                |p| Object::Pod(trim::pod(p)),
                |p| ObjectId::Pod(p.namespace().unwrap_or_default(), p.name_any()),
            ),
            tx.clone(),
        )),
        tokio::spawn(watch::run(
            Api::<Deployment>::namespaced(c(), ns),
            Trimmer::new(
                ResourceKind::Deployment,
                move |d| Object::Deployment(trim::deployment(d, &dlabel)),
                |d| ObjectId::Deployment(d.namespace().unwrap_or_default(), d.name_any()),
            ),
            tx.clone(),
        )),
        tokio::spawn(watch::run(
            Api::<Lease>::namespaced(c(), ns),
            Trimmer::new(
                ResourceKind::Lease,
                |l| Object::Lease(trim::lease(l)),
                |l| ObjectId::Lease(l.name_any()),
            ),
            tx.clone(),
        )),
        // Warning Events in every namespace: explanations cross-link the events of the
        // workloads a Flux object waits for (FailedScheduling, image pulls), which live in
        // those workloads' namespaces, and Flux's own warnings about its objects. Nothing
        // reads Normal events, and the field selector keeps the volume small; the model
        // caps what it keeps per regarding object.
        tokio::spawn(watch::run_with(
            Api::<Event>::all(c()),
            Some("type=Warning"),
            Trimmer::new(
                ResourceKind::Event,
                |e| Object::Event(trim::event(e)),
                |e| ObjectId::Event(e.namespace().unwrap_or_default(), e.name_any()),
            ),
            tx.clone(),
        )),
        // Pending pods in every namespace, to say why a health-checked workload is not
        // ready. The apiserver sends a deletion when a pod stops matching the selector,
        // so only pods Pending now are held: cheap on a cluster whose pods run.
        tokio::spawn(watch::run_with(
            Api::<Pod>::all(c()),
            Some("status.phase=Pending"),
            Trimmer::new(
                ResourceKind::PendingPod,
                |p| Object::PendingPod(trim::pending_pod(p)),
                |p| ObjectId::PendingPod(p.namespace().unwrap_or_default(), p.name_any()),
            ),
            tx.clone(),
        )),
    ];
    // Flux kinds at the versions this cluster serves, found by discovery (see flux_api).
    for kind in FluxKind::ALL {
        let ns = objects_namespace.map(str::to_string);
        tasks.push(tokio::spawn(flux_api::run(c(), ns, kind, label.clone(), tx.clone())));
    }
    tasks
}

/// Sends the cluster identity as the model's first event.
pub async fn announce(info: ClusterInfo, tx: &mpsc::Sender<ClusterEvent>) {
    let _ = tx.send(ClusterEvent { at: chrono::Utc::now(), change: Change::Cluster(info) }).await;
}
