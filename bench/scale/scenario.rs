//! The scale scenarios: Flux objects and extra Nodes created through the API, with the
//! statuses Flux (and a kubelet, once) would write, and their removal afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr, eyre};
use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::{Namespace, Node};
use kube::api::{ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

/// Label on everything the harness creates, valued with the scenario name, so a cleanup
/// finds exactly its own objects (and leftovers of an interrupted run).
pub const SCALE_LABEL: &str = "shardwatch.io/scale";
/// The shard label Flux reads.
pub const SHARD_LABEL: &str = "sharding.fluxcd.io/key";
/// Depth of the `dependsOn` chains.
pub const CHAIN: usize = 10;
/// Entries in each Kustomization's `status.inventory`.
const INVENTORY: usize = 20;

/// One scenario's size.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// `small`, `medium` or `large`.
    pub name: &'static str,
    /// Extra Nodes created.
    pub nodes: usize,
    /// Flux objects created (Kustomization : HelmRelease : GitRepository = 2 : 1 : 1).
    pub objects: usize,
    /// Shards the objects are spread over (one namespace each).
    pub shards: usize,
}

/// The three sizes of issue 9.
pub const SCENARIOS: [Scenario; 3] = [
    Scenario { name: "small", nodes: 3, objects: 50, shards: 3 },
    Scenario { name: "medium", nodes: 500, objects: 2_000, shards: 3 },
    Scenario { name: "large", nodes: 5_000, objects: 20_000, shards: 10 },
];

/// The Flux kinds the scenarios use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// kustomize.toolkit.fluxcd.io/v1
    Kustomization,
    /// helm.toolkit.fluxcd.io/v2
    HelmRelease,
    /// source.toolkit.fluxcd.io/v1
    GitRepository,
}

impl Kind {
    /// All three, sources first so references resolve as soon as they are created.
    pub const ALL: [Kind; 3] = [Kind::GitRepository, Kind::Kustomization, Kind::HelmRelease];

    /// The API resource for dynamic access.
    pub fn resource(self) -> ApiResource {
        let (group, version, kind, plural) = match self {
            Kind::Kustomization => ("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations"),
            Kind::HelmRelease => ("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases"),
            Kind::GitRepository => ("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories"),
        };
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: format!("{group}/{version}"),
            kind: kind.into(),
            plural: plural.into(),
        }
    }

    /// The list path, for `kubectl get --raw`.
    pub fn raw_path(self) -> String {
        let r = self.resource();
        format!("/apis/{}/{}", r.api_version, r.plural)
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::Kustomization => "ks",
            Kind::HelmRelease => "hr",
            Kind::GitRepository => "repo",
        }
    }
}

/// How many of each kind go to shard `k`: the total split as evenly as possible.
fn share(total: usize, shards: usize, k: usize) -> usize {
    total / shards + usize::from(k < total % shards)
}

impl Scenario {
    /// Objects of `kind` in all.
    pub fn count(&self, kind: Kind) -> usize {
        let quarter = self.objects / 4;
        match kind {
            Kind::GitRepository | Kind::HelmRelease => quarter,
            Kind::Kustomization => self.objects - 2 * quarter,
        }
    }

    /// The namespace of shard `k` (0-based).
    pub fn namespace(&self, k: usize) -> String {
        format!("scale-{}-shard{}", self.name, k + 1)
    }

    /// Every object to create, as (kind, namespace, full object), sources first.
    pub fn objects(&self) -> Vec<(Kind, Value)> {
        let mut out = Vec::with_capacity(self.objects);
        for kind in Kind::ALL {
            for k in 0..self.shards {
                let ns = self.namespace(k);
                let repos = share(self.count(Kind::GitRepository), self.shards, k).max(1);
                for i in 0..share(self.count(kind), self.shards, k) {
                    out.push((kind, self.object(kind, &ns, k, i, repos)));
                }
            }
        }
        out
    }

    fn object(&self, kind: Kind, ns: &str, shard: usize, i: usize, repos: usize) -> Value {
        let r = kind.resource();
        let name = format!("{}-{i:05}", kind.prefix());
        let labels = json!({ SHARD_LABEL: format!("shard{}", shard + 1), SCALE_LABEL: self.name });
        let repo = format!("repo-{:05}", i % repos);
        // Chains of CHAIN objects of one kind, each depending on the one before.
        let depends = if i % CHAIN == 0 {
            json!([])
        } else {
            json!([{ "name": format!("{}-{:05}", kind.prefix(), i - 1), "namespace": ns }])
        };
        let spec = match kind {
            Kind::GitRepository => json!({
                "interval": "10m",
                "url": format!("https://git.example.invalid/scale/{name}.git"),
                "ref": { "branch": "main" },
            }),
            Kind::Kustomization => json!({
                "interval": "10m",
                "path": format!("./apps/{name}"),
                "prune": true,
                "sourceRef": { "kind": "GitRepository", "name": repo },
                "dependsOn": depends,
            }),
            Kind::HelmRelease => json!({
                "interval": "10m",
                "chart": { "spec": {
                    "chart": "./charts/podinfo",
                    "sourceRef": { "kind": "GitRepository", "name": repo },
                }},
                "dependsOn": depends,
            }),
        };
        json!({
            "apiVersion": r.api_version,
            "kind": r.kind,
            "metadata": { "name": name, "namespace": ns, "labels": labels },
            "spec": spec,
        })
    }
}

/// A Git revision as Flux prints it, derived from a number so each churn step differs.
pub fn revision(n: u64) -> String {
    // The hash part first: tools show the first characters of a revision.
    format!(
        "main@sha1:{:032x}{n:08x}",
        u128::from(n + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
    )
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn ready(reason: &str, message: String, generation: i64) -> Value {
    json!({
        "type": "Ready", "status": "True", "reason": reason, "message": message,
        "lastTransitionTime": now(), "observedGeneration": generation,
    })
}

/// The status Flux writes after a successful reconcile of `obj` at revision number `rev`.
pub fn flux_status(kind: Kind, obj: &Value, rev: u64) -> Value {
    let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let generation = obj["metadata"]["generation"].as_i64().unwrap_or(1);
    let revision = revision(rev);
    match kind {
        Kind::GitRepository => {
            let sha = revision.rsplit(':').next().unwrap_or_default().to_string();
            json!({
                "observedGeneration": generation,
                "conditions": [ready("Succeeded", format!("stored artifact for revision '{revision}'"), generation)],
                "artifact": {
                    "path": format!("gitrepository/{ns}/{name}/{sha}.tar.gz"),
                    "url": format!("http://source-controller.flux-system.svc.cluster.local./gitrepository/{ns}/{name}/{sha}.tar.gz"),
                    "revision": revision,
                    "digest": format!("sha256:{sha}{}", &sha[..24]),
                    "lastUpdateTime": now(),
                    "size": 20_480,
                },
            })
        }
        Kind::Kustomization => {
            let entries: Vec<Value> = (0..INVENTORY)
                .map(|j| json!({ "id": format!("{ns}_{name}-{j:02}_apps_Deployment"), "v": "v1" }))
                .collect();
            json!({
                "observedGeneration": generation,
                "conditions": [ready("ReconciliationSucceeded", format!("Applied revision: {revision}"), generation)],
                "lastAppliedRevision": revision,
                "lastAttemptedRevision": revision,
                "inventory": { "entries": entries },
            })
        }
        Kind::HelmRelease => {
            let t = now();
            json!({
                "observedGeneration": generation,
                "conditions": [
                    ready("InstallSucceeded", format!("Helm install succeeded for release {ns}/{name}.v1 with chart podinfo@6.5.0"), generation),
                    { "type": "Released", "status": "True", "reason": "InstallSucceeded",
                      "message": format!("Helm install succeeded for release {ns}/{name}.v1 with chart podinfo@6.5.0"),
                      "lastTransitionTime": t, "observedGeneration": generation },
                ],
                "history": [{
                    "name": name, "namespace": ns, "version": 1, "status": "deployed",
                    "chartName": "podinfo", "chartVersion": "6.5.0", "appVersion": "6.5.0",
                    "configDigest": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                    "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                    "firstDeployed": t, "lastDeployed": t,
                }],
                "lastAttemptedRevision": "6.5.0",
                "lastAttemptedConfigDigest": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "lastAttemptedGeneration": generation,
            })
        }
    }
}

fn node(scenario: &Scenario, i: usize) -> Value {
    let name = format!("scale-{}-node-{i:05}", scenario.name);
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": { "name": name, "labels": {
            // No shard label: extra capacity, not shard nodes (a shard-labelled node that
            // goes not Ready would make every one of them a placement violation).
            SCALE_LABEL: scenario.name,
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            // A zone of their own: when the node lifecycle controller marks these
            // heartbeat-less nodes NotReady, the shared cluster's zone is not "disrupted"
            // (which would slow evictions in the lead's failover tests).
            "topology.kubernetes.io/zone": "shardwatch-scale",
        }},
        // Nothing may be scheduled onto a node no kubelet (or kwok) serves.
        // The controller's unreachable taints up front, so it has nothing to add either.
        "spec": { "taints": [
            { "key": SCALE_LABEL, "value": scenario.name, "effect": "NoSchedule" },
            { "key": "node.kubernetes.io/unreachable", "effect": "NoSchedule" },
            { "key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": now() },
        ]},
    })
}

fn node_status() -> Value {
    let t = now();
    // Written once, as the node lifecycle controller leaves a node whose kubelet stopped
    // posting: with Ready=True it would flip each of them itself, rate-limited (about 2
    // nodes/s here, 40 min for 5,000), and every flip is a node update all the tools
    // would process during the idle window.
    let unknown = |kind: &str| {
        json!({ "type": kind, "status": "Unknown", "reason": "NodeStatusUnknown",
            "message": "Kubelet stopped posting node status.", "lastHeartbeatTime": t, "lastTransitionTime": t })
    };
    json!({ "status": {
        "conditions": [unknown("Ready"), unknown("MemoryPressure"), unknown("DiskPressure"), unknown("PIDPressure")],
        "capacity": { "cpu": "4", "memory": "16Gi", "pods": "110" },
        "allocatable": { "cpu": "4", "memory": "16Gi", "pods": "110" },
        "nodeInfo": { "machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "6.1.0",
            "osImage": "shardwatch scale harness", "containerRuntimeVersion": "none://0",
            "kubeletVersion": "v1.34.4", "kubeProxyVersion": "", "operatingSystem": "linux",
            "architecture": "amd64" },
    }})
}

/// Creates the scenario's namespaces, Flux objects (with status) and Nodes (with their
/// conditions, once), `concurrency` requests in flight; prints progress.
pub async fn create(client: &Client, s: &Scenario, concurrency: usize) -> Result<Duration> {
    let start = Instant::now();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for k in 0..s.shards {
        let ns = json!({ "apiVersion": "v1", "kind": "Namespace",
            "metadata": { "name": s.namespace(k), "labels": { SCALE_LABEL: s.name } } });
        let ns: Namespace = serde_json::from_value(ns)?;
        match namespaces.create(&PostParams::default(), &ns).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e).wrap_err("creating a scale namespace"),
        }
    }
    let objects = s.objects();
    let total = objects.len() + s.nodes;
    let done = Arc::new(AtomicUsize::new(0));
    let progress = spawn_progress("created", total, Arc::clone(&done));
    // Nodes first: the node lifecycle controller then marks them not Ready (rate-limited,
    // minutes for 5,000) while the Flux objects are being created.
    let nodes: Api<Node> = Api::all(client.clone());
    let results: Vec<Result<()>> = stream::iter(0..s.nodes)
        .map(|i| {
            let nodes = nodes.clone();
            let done = Arc::clone(&done);
            let n = node(s, i);
            async move {
                let r = create_node(&nodes, n).await;
                done.fetch_add(1, Ordering::Relaxed);
                r
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    if let Err(e) = first_error(results, "creating Nodes") {
        progress.abort();
        return Err(e);
    }
    let results: Vec<Result<()>> = stream::iter(objects)
        .map(|(kind, obj)| {
            let client = client.clone();
            let done = Arc::clone(&done);
            async move {
                let r = create_flux(&client, kind, obj).await;
                done.fetch_add(1, Ordering::Relaxed);
                r
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    progress.abort();
    first_error(results, "creating Flux objects")?;
    eprintln!("  created {total} objects in {:.1}s", start.elapsed().as_secs_f64());
    Ok(start.elapsed())
}

fn first_error(results: Vec<Result<()>>, what: &str) -> Result<()> {
    let failed = results.iter().filter(|r| r.is_err()).count();
    match results.into_iter().find_map(Result::err) {
        Some(e) => Err(e).wrap_err(format!("{what}: {failed} failed")),
        None => Ok(()),
    }
}

fn spawn_progress(what: &'static str, total: usize, done: Arc<AtomicUsize>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            eprintln!("  {what} {}/{total}", done.load(Ordering::Relaxed));
        }
    })
}

async fn create_flux(client: &Client, kind: Kind, obj: Value) -> Result<()> {
    let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &kind.resource());
    let dynamic: DynamicObject = serde_json::from_value(obj)?;
    let name = dynamic.metadata.name.clone().unwrap_or_default();
    let created = match api.create(&PostParams::default(), &dynamic).await {
        Ok(o) => o,
        // A leftover of a --keep run: reuse it, its status is rewritten below.
        Err(kube::Error::Api(e)) if e.code == 409 => api.get(&name).await?,
        Err(e) => return Err(e).wrap_err_with(|| format!("creating {}/{ns}/{name}", kind.resource().kind)),
    };
    let status = flux_status(kind, &serde_json::to_value(&created)?, 0);
    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(json!({ "status": status })))
        .await
        .wrap_err_with(|| format!("writing the status of {ns}/{name}"))?;
    Ok(())
}

async fn create_node(nodes: &Api<Node>, mut n: Value) -> Result<()> {
    // The status goes in the create, as a kubelet registers: written afterwards, the node
    // lifecycle controller may see it without conditions first and retaint it.
    n["status"] = node_status()["status"].clone();
    let node: Node = serde_json::from_value(n)?;
    let name = node.metadata.name.clone().unwrap_or_default();
    let created = match nodes.create(&PostParams::default(), &node).await {
        Ok(n) => Some(n),
        Err(kube::Error::Api(e)) if e.code == 409 => None,
        Err(e) => return Err(e).wrap_err_with(|| format!("creating node {name}")),
    };
    let has_conditions =
        created.as_ref().is_some_and(|n| n.status.as_ref().is_some_and(|s| s.conditions.is_some()));
    if !has_conditions {
        nodes
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(node_status()))
            .await
            .wrap_err_with(|| format!("writing the status of node {name}"))?;
    }
    Ok(())
}

/// Waits (at most `timeout`) until no scale node of `s` is Ready: a check that the node
/// lifecycle controller has no NotReady flips left to make before an idle window.
pub async fn settle_nodes(client: &Client, s: &Scenario, timeout: Duration) -> Result<bool> {
    if s.nodes == 0 {
        return Ok(true);
    }
    let nodes: Api<Node> = Api::all(client.clone());
    let lp = ListParams::default().labels(&format!("{SCALE_LABEL}={}", s.name));
    let start = Instant::now();
    while start.elapsed() < timeout {
        let list = nodes.list(&lp).await?;
        let ready = list.items.iter().filter(|n| node_ready(n)).count();
        if ready == 0 {
            eprintln!(
                "  all {} scale nodes marked not Ready after {:.0}s",
                list.items.len(),
                start.elapsed().as_secs_f64()
            );
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    Ok(false)
}

fn node_ready(n: &Node) -> bool {
    n.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Deletes everything labelled for scenario `name` (or any scenario when `None`): the
/// namespaces (with their Flux objects) and the Nodes; waits until they are gone.
pub async fn cleanup(client: &Client, name: Option<&str>) -> Result<()> {
    let selector = match name {
        Some(n) => format!("{SCALE_LABEL}={n}"),
        None => SCALE_LABEL.to_string(),
    };
    let lp = ListParams::default().labels(&selector);
    let dp = DeleteParams::background();
    let nodes: Api<Node> = Api::all(client.clone());
    let n = nodes.list(&lp).await?.items.len();
    if n > 0 {
        nodes.delete_collection(&dp, &lp).await.wrap_err("deleting scale nodes")?;
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let list = namespaces.list(&lp).await?;
    for ns in &list.items {
        let name = ns.metadata.name.clone().unwrap_or_default();
        // Deleting the Flux objects first by collection is much faster than letting the
        // namespace controller remove 2,000 of them one by one.
        for kind in Kind::ALL {
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &name, &kind.resource());
            let _ = api.delete_collection(&dp, &ListParams::default()).await;
        }
        match namespaces.delete(&name, &dp).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e).wrap_err_with(|| format!("deleting namespace {name}")),
        }
    }
    let start = Instant::now();
    loop {
        let left_ns = namespaces.list(&lp).await?.items.len();
        let left_nodes = nodes.list(&lp).await?.items.len();
        if left_ns == 0 && left_nodes == 0 {
            eprintln!(
                "  cleaned up {} namespaces and {n} nodes in {:.1}s",
                list.items.len(),
                start.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(600) {
            return Err(eyre!(
                "cleanup: {left_ns} namespaces and {left_nodes} nodes still there after 10 min"
            ));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// How many objects of each followed kind the cluster holds now (all namespaces).
pub async fn census(client: &Client) -> Result<Census> {
    let mut c = Census::default();
    for kind in Kind::ALL {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &kind.resource());
        let n = list_count(&api).await?;
        match kind {
            Kind::Kustomization => c.kustomizations = n,
            Kind::HelmRelease => c.helmreleases = n,
            Kind::GitRepository => c.gitrepositories = n,
        }
    }
    let nodes: Api<Node> = Api::all(client.clone());
    c.nodes = nodes.list_metadata(&ListParams::default()).await?.items.len();
    Ok(c)
}

async fn list_count(api: &Api<DynamicObject>) -> Result<usize> {
    Ok(api.list_metadata(&ListParams::default()).await?.items.len())
}

/// Object counts the tools must show for a complete first view.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Census {
    /// Kustomizations.
    pub kustomizations: usize,
    /// HelmReleases.
    pub helmreleases: usize,
    /// GitRepositories.
    pub gitrepositories: usize,
    /// Nodes.
    pub nodes: usize,
}

impl Census {
    /// All Flux objects of the three kinds.
    pub fn flux(&self) -> usize {
        self.kustomizations + self.helmreleases + self.gitrepositories
    }
}
