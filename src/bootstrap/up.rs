//! `shardwatch up`: the seed's whole procedure as one command — a cluster, Flux with
//! shards pinned to their nodes, the infrastructure layer — with visible progress.

use std::path::{Path, PathBuf};
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, bail};
use serde_json::{Value, json};

pub use super::steps::Steps;
use super::{Placement, ShardOptions, shard_install};
use super::{apply, flux_source, kind, local, wait};
use crate::cluster::{self, Target as ClusterTarget};

/// Where the stack goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UpTarget {
    /// A kind cluster from kind-config.yaml (needs kind and Docker).
    Kind,
    /// The project's local control plane (no Docker needed).
    Local,
    /// The current kube context, untouched except for what Flux needs.
    Current,
}

/// Everything `up` needs to know.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Target; None picks kind where it can run, else local.
    pub target: Option<UpTarget>,
    /// Number of shards; None: the shard labels in the kind config.
    pub shards: Option<usize>,
    /// Required (the seed) or preferred node affinity.
    pub placement: Placement,
    /// Flux's install manifests from this file (air-gapped use).
    pub flux_manifests: Option<PathBuf>,
    /// kind config; None: the built-in copy of the repository's kind-config.yaml.
    pub kind_config: Option<PathBuf>,
    /// Git repository Flux syncs the infrastructure layer from.
    pub git_url: Option<String>,
    /// Its branch.
    pub git_branch: String,
    /// Where this project's `manifests/` folder sits inside that repository.
    pub git_path: String,
    /// Name of the environment variable holding a Git token (never the token itself).
    pub git_token_env: Option<String>,
    /// How long to wait for the controllers.
    pub timeout: Duration,
    /// The Flux namespace.
    pub namespace: String,
    /// The shard label key.
    pub label_key: String,
}

/// Counts the shard labels in a kind config: the number of shards the seed wants.
pub fn shards_in_kind_config(text: &str, label_key: &str) -> usize {
    text.lines().filter(|l| l.trim_start().starts_with(&format!("{label_key}:"))).count()
}

/// The Flux objects of the infrastructure layer, compiled in from `manifests/`.
const INFRASTRUCTURE: &str = include_str!("../../manifests/clusters/local/infrastructure.yaml");

/// The GitRepository the infrastructure Kustomizations read, labelled for shard1.
pub fn infra_source(opts: &UpOptions, url: &str, first_shard: &str) -> Value {
    let mut spec = json!({
        "interval": "1m",
        "url": url,
        "ref": { "branch": opts.git_branch },
    });
    if opts.git_token_env.is_some() {
        spec["secretRef"] = json!({ "name": "shardwatch-infra-auth" });
    }
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {
            "name": "shardwatch-infra",
            "namespace": opts.namespace,
            "labels": { opts.label_key.clone(): first_shard },
        },
        "spec": spec,
    })
}

/// Runs `up`; returns the kubeconfig of the cluster it stood up (None: the current one).
pub async fn up(opts: &UpOptions, current: &ClusterTarget, steps: &mut Steps) -> Result<Option<PathBuf>> {
    let kind_text = match &opts.kind_config {
        Some(p) => std::fs::read_to_string(p).wrap_err_with(|| format!("reading {}", p.display()))?,
        None => local::KIND_CONFIG.to_string(),
    };
    let shards_n = opts.shards.unwrap_or_else(|| shards_in_kind_config(&kind_text, &opts.label_key)).max(1);
    let target = match opts.target {
        Some(t) => t,
        None if kind::available().await => UpTarget::Kind,
        None => UpTarget::Local,
    };

    steps.step(&format!("cluster ({target:?})"));
    let mut progress = |line: &str| steps.detail(line);
    let kubeconfig = match target {
        UpTarget::Local => Some(local::start(opts.kind_config.as_deref(), &mut progress).await?),
        UpTarget::Kind => {
            let config = match &opts.kind_config {
                Some(p) => p.clone(),
                None => write_builtin_kind_config()?,
            };
            if !kind::available().await {
                bail!("--target kind needs the `kind` CLI and a running Docker engine; try --target local");
            }
            Some(kind::create(&config, &local::cache_dir(), &mut progress).await?)
        }
        UpTarget::Current => None,
    };
    let target_cfg = ClusterTarget {
        kubeconfig: kubeconfig.clone().or_else(|| current.kubeconfig.clone()),
        context: if kubeconfig.is_some() { None } else { current.context.clone() },
        objects_namespace: None,
    };
    let (client, info) = cluster::connect(&target_cfg).await?;
    steps.detail(&format!("connected to {} ({})", info.server, info.kubernetes_version.unwrap_or_default()));

    steps.step("Flux install manifests");
    let order = match &opts.flux_manifests {
        Some(file) => vec![flux_source::FluxSource::File(file.clone())],
        None => flux_source::default_order(target == UpTarget::Local),
    };
    let mut progress = |line: &str| steps.detail(line);
    let (from, objects) = flux_source::obtain_first(&order, &mut progress).await?;
    steps.detail(&format!("{} objects from {from}", objects.len()));

    steps.step(&format!("shard transform ({shards_n} shards, {} placement)", opts.placement));
    let shard_opts = ShardOptions {
        shards: (1..=shards_n).map(|i| format!("shard{i}")).collect(),
        label_key: opts.label_key.clone(),
        placement: opts.placement,
        namespace: opts.namespace.clone(),
    };
    let sharded = shard_install(&objects, &shard_opts).wrap_err("sharding Flux's install")?;
    let deployments: Vec<String> = sharded
        .iter()
        .filter(|o| o["kind"] == "Deployment" && o["metadata"]["namespace"] == opts.namespace.as_str())
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    steps.detail(&format!("{} objects, {} Deployments", sharded.len(), deployments.len()));

    steps.step("server-side apply (CRDs first)");
    let mut progress = |line: &str| steps.detail(line);
    let summary = apply::apply_all(&client, &sharded, &mut progress).await?;
    steps.detail(&summary.line());

    steps.step("infrastructure layer (sources → controllers → configs)");
    let mut infra =
        super::parse_documents(INFRASTRUCTURE).wrap_err("parsing the built-in infrastructure layer")?;
    for o in &mut infra {
        o["metadata"]["namespace"] = json!(opts.namespace);
        if let Some(path) = o["spec"]["path"].as_str() {
            o["spec"]["path"] = json!(relocate(path, &opts.git_path));
        }
    }
    match &opts.git_url {
        Some(url) => infra.push(infra_source(opts, url, &shard_opts.shards[0])),
        None => steps.detail(
            "no --git-url: the Kustomizations wait for their source (shown as such in the dashboard)",
        ),
    }
    if let (Some(var), Some(_)) = (&opts.git_token_env, &opts.git_url) {
        let token =
            std::env::var(var).wrap_err_with(|| format!("--git-token-env names {var}, which is not set"))?;
        infra.push(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": "shardwatch-infra-auth", "namespace": opts.namespace },
            "stringData": { "username": "git", "password": token },
        }));
    }
    let mut progress = |line: &str| steps.detail(line);
    let infra_summary = apply::apply_all(&client, &infra, &mut progress).await?;
    steps.detail(&infra_summary.line());

    steps.step(&format!("waiting for {} Deployments to be Available", deployments.len()));
    let mut progress = |line: &str| steps.detail(line);
    wait::deployments_available(
        &client,
        &opts.namespace,
        &deployments,
        opts.timeout,
        &opts.label_key,
        &mut progress,
    )
    .await?;
    for line in wait::placement_report(&client, &opts.namespace, &opts.label_key, &shard_opts.shards).await? {
        steps.detail(&line);
    }
    if summary.nothing_changed() && infra_summary.nothing_changed() {
        steps.detail("up to date: nothing changed");
    }
    Ok(kubeconfig)
}

/// Moves a built-in `./manifests/...` path under the repository's `git_path`.
pub fn relocate(path: &str, git_path: &str) -> String {
    let rest = path.strip_prefix("./manifests").unwrap_or(path);
    let base = git_path.trim_end_matches('/');
    let base =
        if base.starts_with("./") || base.starts_with('/') { base.to_string() } else { format!("./{base}") };
    format!("{base}{rest}")
}

fn write_builtin_kind_config() -> Result<PathBuf> {
    let path = local::cache_dir().join("kind-config.yaml");
    std::fs::create_dir_all(local::cache_dir())?;
    std::fs::write(&path, local::KIND_CONFIG)?;
    Ok(path)
}

/// `shardwatch down`: removes what `up` created.
pub async fn down(target: UpTarget, kind_config: Option<&Path>, steps: &mut Steps) -> Result<()> {
    match target {
        UpTarget::Local => {
            steps.step("stopping the local control plane");
            local::stop(&mut |l| steps.detail(l)).await
        }
        UpTarget::Kind => {
            steps.step("deleting the kind cluster");
            let config = match kind_config {
                Some(p) => p.to_path_buf(),
                None => write_builtin_kind_config()?,
            };
            kind::delete(&config).await
        }
        UpTarget::Current => bail!(
            "shardwatch did not create the current cluster, so `down` leaves it alone; \
             `flux uninstall` removes Flux from it"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relocates_the_layer_paths_under_the_git_path() {
        assert_eq!(
            relocate("./manifests/infrastructure/sources", "./manifests"),
            "./manifests/infrastructure/sources"
        );
        assert_eq!(
            relocate("./manifests/infrastructure/sources", "deploy/flux/"),
            "./deploy/flux/infrastructure/sources"
        );
    }

    #[test]
    fn counts_the_seed_shards_in_the_kind_config() {
        assert_eq!(shards_in_kind_config(local::KIND_CONFIG, "sharding.fluxcd.io/key"), 3);
        assert_eq!(shards_in_kind_config("nodes: []", "sharding.fluxcd.io/key"), 0);
    }

    #[test]
    fn the_builtin_infrastructure_layer_is_a_dependency_chain_across_shards() {
        let objs = crate::bootstrap::parse_documents(INFRASTRUCTURE).unwrap();
        let names: Vec<&str> = objs.iter().map(|o| o["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["infra-sources", "infra-controllers", "infra-configs"]);
        assert_eq!(objs[1]["spec"]["dependsOn"][0]["name"], "infra-sources");
        assert_eq!(objs[2]["spec"]["dependsOn"][0]["name"], "infra-controllers");
        let shards: Vec<&str> = objs
            .iter()
            .map(|o| o["metadata"]["labels"]["sharding.fluxcd.io/key"].as_str().unwrap())
            .collect();
        assert_eq!(shards, ["shard1", "shard2", "shard3"]);
    }
}
