//! `shardwatch up`: the seed's whole procedure as one command — a cluster, Flux with
//! shards pinned to their nodes, the infrastructure layer — with visible progress.

use std::path::{Path, PathBuf};
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, bail};
use serde_json::json;

use super::infra_layer::{self, Source};
pub use super::steps::Steps;
use super::{Placement, ShardOptions, shard_install};
use super::{apply, flux_runtime, flux_source, kind, layer_wait, wait};
use crate::cluster::{self, ConnectOptions};
use crate::kind_config::KindConfig;
use crate::local::build_meter::{BuildMeter, Metered};
use crate::local::kubelet::KubeletOptions;
use crate::local::{self, user_kubeconfig};

/// Where the stack goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The current cluster (`--kubeconfig`, `--context`), for `--target current`.
    pub current: ConnectOptions,
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
    /// How long to wait for the controllers (and, when waited for, the Kustomizations).
    pub timeout: Duration,
    /// The Flux namespace.
    pub namespace: String,
    /// The shard label key.
    pub label_key: String,
    /// Local target: run the real Flux controllers as processes (false: Deployments only).
    pub flux_controllers: bool,
    /// Wait until the infrastructure Kustomizations are Ready (plain output; the
    /// dashboard shows the same live otherwise).
    pub wait_for_layer: bool,
    /// Local target: add the `kwok-shardwatch` context to the user's kubeconfig and make it current.
    pub update_user_kubeconfig: bool,
}

/// Everything `down` needs to know.
#[derive(Debug, Clone)]
pub struct DownOptions {
    /// Which target `up` used.
    pub target: UpTarget,
    /// kind config naming the kind cluster; None: the built-in one.
    pub kind_config: Option<PathBuf>,
    /// Local target: remove the `kwok-shardwatch` context from the user's kubeconfig.
    pub update_user_kubeconfig: bool,
    /// `--kubeconfig`, which names the user's kubeconfig when given.
    pub kubeconfig_flag: Option<PathBuf>,
}

/// The shards to set up: `shard1..N` for `--shards N`, else the shards the kind config's
/// nodes are labelled for (so each shard has its node), else one.
pub fn shard_names(shards: Option<usize>, kind_config: &KindConfig, label_key: &str) -> Vec<String> {
    let numbered = |n: usize| (1..=n.max(1)).map(|i| format!("shard{i}")).collect();
    match shards {
        Some(n) => numbered(n),
        None => match kind_config.shards(label_key) {
            labelled if labelled.is_empty() => numbered(1),
            labelled => labelled,
        },
    }
}

/// Runs `up`; returns the kubeconfig of the cluster it stood up (None: the current one).
pub async fn up(opts: &UpOptions, steps: &mut Steps) -> Result<Option<PathBuf>> {
    let kind_config = KindConfig::read(opts.kind_config.as_deref())?;
    let shards = shard_names(opts.shards, &kind_config, &opts.label_key);
    let shards_n = shards.len();
    let target = match opts.target {
        Some(t) => t,
        None if kind::available().await => UpTarget::Kind,
        None => UpTarget::Local,
    };
    // Only the local cluster has no kubelet to run Flux's pods; elsewhere Flux runs in-cluster.
    let real_controllers = target == UpTarget::Local && opts.flux_controllers;
    let serve_git = real_controllers && opts.git_url.is_none();
    if real_controllers {
        // Before the cluster and an 11-minute build, not after.
        flux_runtime::preflight(serve_git)?;
    }

    steps.step(&format!("cluster ({target:?})"));
    let mut meter = BuildMeter::control_plane();
    let mut progress = |line: &str| metered(&mut meter, &*steps, line);
    let kubeconfig = match target {
        UpTarget::Local => {
            let ours = local::start(opts.kind_config.as_deref(), &mut progress).await?;
            if opts.update_user_kubeconfig {
                add_user_context(&ours, opts.current.kubeconfig.as_deref(), &mut progress)?;
            }
            Some(ours)
        }
        UpTarget::Kind => {
            let config = match &opts.kind_config {
                Some(p) => p.clone(),
                None => write_builtin_kind_config()?,
            };
            if !kind::available().await {
                bail!("--target kind needs the `kind` CLI and a running Docker engine; try --target local");
            }
            Some(kind::create(&config, &kind_config, &local::cache_dir(), &mut progress).await?)
        }
        UpTarget::Current => None,
    };
    let target_cfg = match &kubeconfig {
        Some(path) => ConnectOptions { kubeconfig: Some(path.clone()), context: None },
        None => opts.current.clone(),
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
        shards,
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
    let mut changed = !summary.nothing_changed();

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

    // The real controllers, and (without --git-url) the Git server they read the layer from.
    let mut served_url = None;
    if real_controllers {
        steps.step("Flux controllers (build on first use)");
        steps.detail(&flux_runtime::build_expectation());
        let mut meter = BuildMeter::flux();
        let mut progress = |line: &str| metered(&mut meter, &*steps, line);
        flux_runtime::build(&mut progress).await?;
        if serve_git {
            steps.step("local Git server");
            let mut progress = |line: &str| steps.detail(line);
            let served = flux_runtime::serve_manifests(&mut progress).await?;
            steps.detail(&format!("{} serves the built-in manifests/", served.url));
            changed |= served.changed;
            served_url = Some(served.url);
        }
        steps.step("real Flux controllers as local processes");
        let mut progress = |line: &str| steps.detail(line);
        let kubelet = KubeletOptions::for_local_cluster(
            kubeconfig.as_deref().unwrap_or(Path::new("")),
            flux_runtime::bin_dir(),
            &opts.namespace,
            &opts.label_key,
            &shard_opts.shards,
        );
        changed |= flux_runtime::start_controllers(&kubelet, opts.timeout, &mut progress).await?;
    }

    steps.step("infrastructure layer (sources → controllers → configs)");
    let first_shard = &shard_opts.shards[0];
    let mut infra = match (&opts.git_url, &served_url) {
        (Some(url), _) => {
            let source = Source { url, branch: &opts.git_branch, with_secret: opts.git_token_env.is_some() };
            let mut layer = infra_layer::online(&opts.namespace, &opts.git_path)?;
            layer.push(infra_layer::infra_source(&source, &opts.namespace, &opts.label_key, first_shard));
            layer
        }
        (None, Some(url)) => {
            steps.detail(&format!("offline layer (the project's stand-in chart) from {url}"));
            let source = Source { url, branch: "main", with_secret: false };
            let mut layer = infra_layer::offline(&opts.namespace, url)?;
            layer.push(infra_layer::infra_source(&source, &opts.namespace, &opts.label_key, first_shard));
            layer
        }
        (None, None) => {
            steps.detail(
                "no --git-url: the Kustomizations wait for their source (shown as such in the dashboard)",
            );
            infra_layer::online(&opts.namespace, &opts.git_path)?
        }
    };
    if let (Some(var), Some(_)) = (&opts.git_token_env, &opts.git_url) {
        let token =
            std::env::var(var).wrap_err_with(|| format!("--git-token-env names {var}, which is not set"))?;
        infra.push(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": "shardwatch-infra-auth", "namespace": opts.namespace },
            "stringData": { "username": "git", "password": token },
        }));
    }
    let layer_names: Vec<String> = infra
        .iter()
        .filter(|o| o["kind"] == "Kustomization")
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let mut progress = |line: &str| steps.detail(line);
    let infra_summary = apply::apply_all(&client, &infra, &mut progress).await?;
    steps.detail(&infra_summary.line());
    changed |= !infra_summary.nothing_changed();

    if real_controllers && opts.wait_for_layer {
        steps.step(&format!("waiting for the {} Kustomizations to be Ready", layer_names.len()));
        let mut progress = |line: &str| steps.detail(line);
        let arrivals = layer_wait::kustomizations_ready(
            &client,
            &opts.namespace,
            &layer_names,
            opts.timeout,
            &mut progress,
        )
        .await?;
        steps.detail(&layer_wait::summary(&arrivals));
    }
    if !changed {
        steps.detail("up to date: nothing changed");
    }
    Ok(kubeconfig)
}

/// A build script's log line: a component or `go` line becomes the step's status (which
/// replaces itself), anything else a detail line.
fn metered(meter: &mut BuildMeter, steps: &Steps, line: &str) {
    match meter.feed(line, std::time::Instant::now()) {
        Metered::Status(status) => steps.status(&status),
        Metered::Plain => steps.detail(line),
    }
}

/// Adds the local cluster's context to the user's kubeconfig, unless that file is the
/// local cluster's own (as in the test suite, which points KUBECONFIG at it).
fn add_user_context(ours: &Path, flag: Option<&Path>, progress: &mut dyn FnMut(&str)) -> Result<()> {
    let Some(user) = user_kubeconfig::user_kubeconfig(flag) else {
        progress("no HOME and no KUBECONFIG: the local cluster's context is not added anywhere");
        return Ok(());
    };
    if local::same_file(&user, ours) {
        return Ok(());
    }
    user_kubeconfig::add(&user, ours)?;
    progress(&format!(
        "context {} added to {} and made current (--no-kubeconfig-update leaves it alone)",
        user_kubeconfig::CONTEXT,
        user.display()
    ));
    Ok(())
}

fn write_builtin_kind_config() -> Result<PathBuf> {
    let path = local::cache_dir().join("kind-config.yaml");
    std::fs::create_dir_all(local::cache_dir())?;
    std::fs::write(&path, crate::kind_config::BUILTIN)?;
    Ok(path)
}

/// `shardwatch down`: removes what `up` created.
pub async fn down(opts: &DownOptions, steps: &mut Steps) -> Result<()> {
    let kind_config = opts.kind_config.as_deref();
    match opts.target {
        UpTarget::Local => {
            // The controllers first: with the API server gone they would only log errors.
            steps.step("stopping the Flux controllers and the local Git server");
            flux_runtime::stop(&mut |l| steps.detail(l)).await?;
            steps.step("stopping the local control plane");
            local::stop(&mut |l| steps.detail(l)).await?;
            if opts.update_user_kubeconfig {
                if let Some(user) = user_kubeconfig::user_kubeconfig(opts.kubeconfig_flag.as_deref()) {
                    if user_kubeconfig::remove(&user)? {
                        steps.detail(&format!(
                            "context {} removed from {}",
                            user_kubeconfig::CONTEXT,
                            user.display()
                        ));
                    }
                }
            }
            Ok(())
        }
        UpTarget::Kind => {
            steps.step("deleting the kind cluster");
            // A config that cannot be read any more still names the seed's cluster.
            let name = KindConfig::read(kind_config).unwrap_or_else(|_| KindConfig::builtin()).name;
            kind::delete(&name).await
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

    const KEY: &str = "sharding.fluxcd.io/key";

    #[test]
    fn the_local_context_goes_to_the_named_kubeconfig_but_never_into_our_own() {
        let dir = std::env::temp_dir().join(format!("sw-up-context-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ours = dir.join("kubeconfig.yaml");
        let text = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n\
                    users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n\
                    current-context: x\n";
        std::fs::write(&ours, text).unwrap();
        let mut said = Vec::new();
        // The test suite points KUBECONFIG (or --kubeconfig) at the cluster's own file: left alone.
        add_user_context(&ours, Some(&ours), &mut |l| said.push(l.to_string())).unwrap();
        assert_eq!(std::fs::read_to_string(&ours).unwrap(), text);
        assert!(said.is_empty(), "{said:?}");
        let user = dir.join("user-config");
        add_user_context(&ours, Some(&user), &mut |l| said.push(l.to_string())).unwrap();
        let written = std::fs::read_to_string(&user).unwrap();
        assert!(written.contains("current-context: kwok-shardwatch"), "{written}");
        assert!(said[0].starts_with("context kwok-shardwatch added to "), "{said:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_seed_wants_the_shards_its_workers_are_labelled_for() {
        assert_eq!(shard_names(None, &KindConfig::builtin(), KEY), ["shard1", "shard2", "shard3"]);
        let no_nodes = KindConfig::parse("nodes: []", "t").unwrap();
        assert_eq!(shard_names(None, &no_nodes, KEY), ["shard1"], "at least one shard");
        assert_eq!(shard_names(Some(5), &KindConfig::builtin(), KEY).len(), 5);
        assert_eq!(shard_names(Some(0), &no_nodes, KEY), ["shard1"]);
        let named = KindConfig::parse(
            "nodes:\n- role: worker\n  labels: {k: shardA}\n- role: worker\n  labels: {k: shardB}\n",
            "t",
        )
        .unwrap();
        assert_eq!(shard_names(None, &named, "k"), ["shardA", "shardB"]);
    }
}
