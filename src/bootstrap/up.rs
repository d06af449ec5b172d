//! `shardwatch up`: the seed's whole procedure as one command — a cluster, Flux with
//! shards pinned to their nodes, the infrastructure layer — with visible progress.

use std::path::{Path, PathBuf};
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, bail, eyre};
use serde_json::{Value, json};

use super::infra_layer::{self, LayerShards, Source};
pub use super::steps::Steps;
use super::{Placement, ShardOptions, shard_install};
use super::{apply, confirm, flux_runtime, flux_source, kind, layer_wait, up_lock, wait};
use crate::cluster::{self, ConnectOptions};
use crate::kind_config::KindConfig;
use crate::kind_host;
use crate::local::build_meter::{BuildMeter, Metered};
use crate::local::kubelet::KubeletOptions;
use crate::local::{self, user_kubeconfig};
use crate::stood_up::{self, StoodUp};

pub use super::confirm::{Confirm, NotConfirmed};
pub use crate::stood_up::UpTarget;

/// What `up` stood up: the cluster's kubeconfig (None: the current one) and the target it resolved.
#[derive(Debug, Clone)]
pub struct Stood {
    /// The kubeconfig of the cluster it stood up.
    pub kubeconfig: Option<PathBuf>,
    /// The target, as resolved (kind or local when none was given).
    pub target: UpTarget,
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
    /// Add the cluster's context (`kwok-shardwatch`, `kind-<name>`) to the user's kubeconfig
    /// and make it current.
    pub update_user_kubeconfig: bool,
    /// `--target current`: how the forced server-side apply into someone's cluster is confirmed.
    pub confirm: Confirm,
}

/// Everything `down` needs to know.
#[derive(Debug, Clone)]
pub struct DownOptions {
    /// Which target `up` used; None: the one the last `up` recorded, else local.
    pub target: Option<UpTarget>,
    /// kind config naming the kind cluster; None: the recorded or built-in one.
    pub kind_config: Option<PathBuf>,
    /// Remove the context `up` added from the user's kubeconfig.
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

/// The cluster to stand up: its kind config as read, the file kind and the local scripts
/// read (None: the built-in one, unchanged), and the shards.
pub struct Shape {
    /// The kind config.
    pub config: KindConfig,
    /// Where it is on disk, when it is not the built-in one.
    pub file: Option<PathBuf>,
    /// The shards, in order.
    pub shards: Vec<String>,
}

/// The cluster shape `up` asks for. With `--kind-config`, that file and the shards its
/// nodes are labelled for (or `--shards N`). Without, the built-in config with one worker
/// per shard labelled with the configured key: the seed's own file for three shards and
/// the default key, else a reshaped copy written to the cache.
pub fn shape(opts: &UpOptions, cache: &Path) -> Result<Shape> {
    if let Some(file) = &opts.kind_config {
        let config = KindConfig::read(Some(file))?;
        let shards = shard_names(opts.shards, &config, &opts.label_key);
        return Ok(Shape { config, file: Some(file.clone()), shards });
    }
    let builtin = KindConfig::builtin();
    let shards = shard_names(opts.shards, &builtin, crate::kind_config::SEED_KEY);
    if shards == builtin.shards(&opts.label_key) {
        return Ok(Shape { config: builtin, file: None, shards });
    }
    let text = crate::kind_config::with_shard_workers(crate::kind_config::BUILTIN, &shards, &opts.label_key)?;
    let file = cache.join("kind-configs").join(format!("{}-{:016x}.yaml", builtin.name, fnv(&text)));
    std::fs::create_dir_all(cache.join("kind-configs"))?;
    std::fs::write(&file, &text).wrap_err_with(|| format!("writing {}", file.display()))?;
    let config = KindConfig::parse(&text, &file.display().to_string())?;
    Ok(Shape { config, file: Some(file), shards })
}

/// FNV-1a: a stable name for a reshaped config (same shape, same file).
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Picks the target: the one given, else kind where it can run, else local, saying why
/// kind was not picked (a Docker socket the user may not open is not the same as no Docker).
pub async fn resolve_target(given: Option<UpTarget>, progress: &mut dyn FnMut(&str)) -> UpTarget {
    if let Some(t) = given {
        return t;
    }
    match kind_host::available().await {
        Ok(_) => UpTarget::Kind,
        Err(why) => {
            progress(&format!(
                "kind not picked: {why}; using the local control plane (--target kind to insist)"
            ));
            UpTarget::Local
        }
    }
}

/// Runs `up`; returns what it stood up.
pub async fn up(opts: &UpOptions, steps: &mut Steps) -> Result<Stood> {
    let cache = local::cache_dir();
    let shape = shape(opts, &cache)?;
    let shards = shape.shards.clone();
    let shards_n = shards.len();
    let target = resolve_target(opts.target, &mut |l| steps.detail(l)).await;
    // Held to the end: a second `up` of the same cluster is refused meanwhile.
    let _lock = lock(target, &shape, opts, &cache)?;
    // Only the local cluster has no kubelet to run Flux's pods; elsewhere Flux runs in-cluster.
    let real_controllers = target == UpTarget::Local && opts.flux_controllers;
    // The bundled layer is served by a Git server on this machine: to the local processes,
    // or to kind's pods through the kind network's gateway.
    let serve_git = opts.git_url.is_none() && (real_controllers || target == UpTarget::Kind);
    if real_controllers {
        // Before the cluster and an 11-minute build, not after.
        flux_runtime::preflight(serve_git)?;
    } else if let Some(tool) = ["git"].into_iter().find(|t| serve_git && local::which(t).is_none()) {
        bail!("serving the infrastructure layer to the cluster needs `{tool}` on PATH; or pass --git-url");
    }
    if let Some(url) = &opts.git_url {
        if target != UpTarget::Local && is_loopback_url(url) {
            steps.detail(&format!(
                "warning: --git-url {url} is a loopback address: Flux's pods in the cluster cannot reach it"
            ));
        }
    }

    steps.step(&format!("cluster ({target:?})"));
    let mut meter = BuildMeter::control_plane();
    let mut progress = |line: &str| metered(&mut meter, &*steps, line);
    let (kubeconfig, cluster_name, context) = match target {
        UpTarget::Local => {
            let ours = local::start(shape.file.as_deref(), &mut progress).await?;
            (Some(ours), crate::stood_up::instance(), user_kubeconfig::CONTEXT.to_string())
        }
        UpTarget::Kind => {
            let tools = kind_host::available()
                .await
                .map_err(|why| eyre!("--target kind needs the `kind` CLI and a running Docker engine ({why}); try --target local"))?;
            let file = match &shape.file {
                Some(p) => p.clone(),
                None => write_builtin_kind_config()?,
            };
            let name = shape.config.name.clone();
            let ours = kind::create(&tools, &file, &shape.config, &cache, &mut progress).await?;
            (Some(ours), name.clone(), format!("kind-{name}"))
        }
        UpTarget::Current => (None, String::new(), String::new()),
    };
    let mut user_context = None;
    if let (Some(ours), true) = (&kubeconfig, opts.update_user_kubeconfig) {
        user_context = add_user_context(&context, ours, opts.current.kubeconfig.as_deref(), &mut progress)?;
    } else if kubeconfig.is_some() {
        progress("your kubeconfig is left alone (--no-kubeconfig-update)");
    }
    let record = StoodUp {
        target,
        cluster: cluster_name,
        kind_config: shape.file.clone(),
        user_context,
        shard_label: Some(opts.label_key.clone()),
    };
    // A refused `up --target current` must not replace the record of a cluster `up` made.
    if target != UpTarget::Current {
        write_record(&record, &mut progress);
    }
    let target_cfg = match &kubeconfig {
        Some(path) => ConnectOptions { kubeconfig: Some(path.clone()), context: None },
        None => opts.current.clone(),
    };
    let (client, info) = cluster::connect(&target_cfg).await?;
    steps.detail(&format!(
        "connected to {} ({})",
        info.server,
        info.kubernetes_version.clone().unwrap_or_default()
    ));
    let nodes = wait::shard_nodes(&client, &opts.label_key).await?;
    if let Err(why) = check_shape(&nodes, &shards, &opts.label_key) {
        match opts.placement {
            Placement::Required => bail!("{why}; {}", reshape_hint(target)),
            Placement::Preferred => {
                steps.detail(&format!("warning: {why} (preferred placement: they run elsewhere)"))
            }
        }
    }

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

    // Someone's cluster: show what the forced apply would do (the layer too) and ask first.
    let mut early_layer = None;
    if target == UpTarget::Current {
        let layer = layer_objects(opts, target, None, &shard_opts.shards, steps)?;
        steps.step("what the apply would do (server-side dry run, nothing written)");
        let everything: Vec<Value> = sharded.iter().chain(&layer).cloned().collect();
        let preview = apply::preview(&client, &everything).await?;
        // Every object of a Flux install (about 50 sharded), so nothing is applied unseen.
        for line in preview.preview_lines(80) {
            steps.detail(&line);
        }
        let question = confirm::question(&info.context, &info.server, &preview);
        confirm::confirm_current(opts.confirm, &question, &preview, steps).await?;
        write_record(&record, &mut |l| steps.detail(l));
        early_layer = Some(layer);
    }

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

    // The real controllers (local), and without --git-url the Git server the layer is read from.
    if real_controllers {
        steps.step("Flux controllers (build on first use)");
        steps.detail(&flux_runtime::build_expectation());
        let mut meter = BuildMeter::flux();
        let mut progress = |line: &str| metered(&mut meter, &*steps, line);
        flux_runtime::build(&mut progress).await?;
    }
    let mut served_url = None;
    if serve_git {
        steps.step("local Git server");
        // kind's pods reach this machine through the kind network's gateway; the local
        // processes through loopback.
        let bind = match target {
            UpTarget::Kind => Some(kind_host::available().await.map_err(|w| eyre!(w))?.gateway().await?),
            _ => None,
        };
        let mut progress = |line: &str| steps.detail(line);
        let served = flux_runtime::serve_manifests(bind.as_deref(), &mut progress).await?;
        steps.detail(&format!("{} serves the built-in manifests/", served.url));
        changed |= served.changed;
        served_url = Some(served.url);
    }
    if real_controllers {
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
    let infra = match early_layer {
        Some(layer) => layer,
        None => layer_objects(opts, target, served_url.as_deref(), &shard_opts.shards, steps)?,
    };
    let layer_names: Vec<String> = infra
        .iter()
        .filter(|o| o["kind"] == "Kustomization")
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let mut progress = |line: &str| steps.detail(line);
    let infra_summary = apply::apply_all(&client, &infra, &mut progress).await?;
    steps.detail(&infra_summary.line());
    changed |= !infra_summary.nothing_changed();

    // Waited for wherever something reconciles it: the local processes, or Flux in kind.
    let reconciled = real_controllers || (target == UpTarget::Kind && (serve_git || opts.git_url.is_some()));
    if reconciled && opts.wait_for_layer {
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
    Ok(Stood { kubeconfig, target })
}

/// The infrastructure layer's objects: from `--git-url`, from the Git server `up` serves
/// (`served_url`), or waiting for a source; spread over `shards`, with the token's Secret.
fn layer_objects(
    opts: &UpOptions,
    target: UpTarget,
    served_url: Option<&str>,
    shards: &[String],
    steps: &Steps,
) -> Result<Vec<Value>> {
    let layer_shards = LayerShards { shards: shards.to_vec(), key: opts.label_key.clone() };
    let first_shard = &shards[0];
    let online_from = |url: &str, branch: &str, git_path: &str, with_secret: bool| -> Result<Vec<Value>> {
        let source = Source { url, branch, with_secret };
        let mut layer = infra_layer::online(&opts.namespace, git_path)?;
        layer.push(infra_layer::infra_source(&source, &opts.namespace, &opts.label_key, first_shard));
        Ok(layer)
    };
    let mut infra = match (&opts.git_url, served_url) {
        (Some(url), _) => online_from(url, &opts.git_branch, &opts.git_path, opts.git_token_env.is_some())?,
        // kind reaches the internet: the real cert-manager and postgres-operator charts.
        (None, Some(url)) if target == UpTarget::Kind => {
            steps.detail(&format!("the layer with cert-manager and postgres-operator from {url}"));
            online_from(url, "main", "./manifests", false)?
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
    layer_shards.apply_to(&mut infra);
    if let (Some(var), Some(_)) = (&opts.git_token_env, &opts.git_url) {
        let token =
            std::env::var(var).wrap_err_with(|| format!("--git-token-env names {var}, which is not set"))?;
        infra.push(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": "shardwatch-infra-auth", "namespace": opts.namespace },
            "stringData": { "username": "git", "password": token },
        }));
    }
    Ok(infra)
}

/// Records what `up` stands up, for `down` and `chaos` (a failure only costs the defaults).
fn write_record(record: &StoodUp, progress: &mut dyn FnMut(&str)) {
    if let Err(e) = stood_up::record(record) {
        progress(&format!("could not record the target for `down` and `chaos` ({e}); pass --target to them"));
    }
}

/// Takes the lock of the cluster `up` is about to stand up (exit code 2 when it is held).
fn lock(target: UpTarget, shape: &Shape, opts: &UpOptions, cache: &Path) -> Result<up_lock::UpLock> {
    let (key, shown) = match target {
        UpTarget::Local => {
            (format!("local-{}", stood_up::instance()), format!("local cluster {}", stood_up::instance()))
        }
        UpTarget::Kind => {
            (format!("kind-{}", shape.config.name), format!("kind cluster {}", shape.config.name))
        }
        UpTarget::Current => match &opts.current.context {
            Some(context) => (format!("current-{context}"), format!("the cluster of context {context}")),
            None => ("current".into(), "the current context's cluster".into()),
        },
    };
    up_lock::acquire(cache, &key, &shown)
}

/// A build script's log line: a component or `go` line becomes the step's status (which
/// replaces itself), anything else a detail line.
fn metered(meter: &mut BuildMeter, steps: &Steps, line: &str) {
    match meter.feed(line, std::time::Instant::now()) {
        Metered::Status(status) => steps.status(&status),
        Metered::Plain => steps.detail(line),
    }
}

/// Whether `url`'s host is a loopback address (pods in a cluster reach only themselves there).
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `Err` names the shards no node is labelled for, and the shards the nodes are labelled for.
pub fn check_shape(nodes: &[(String, String)], shards: &[String], key: &str) -> Result<(), String> {
    let missing: Vec<&str> =
        shards.iter().filter(|s| !nodes.iter().any(|(_, v)| v == *s)).map(String::as_str).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut have: Vec<&str> = nodes.iter().map(|(_, v)| v.as_str()).collect();
    have.sort_unstable();
    have.dedup();
    let have = if have.is_empty() { "none".to_string() } else { have.join(", ") };
    Err(format!(
        "no node carries {key}={} (the cluster's nodes are labelled for: {have}), so those shards' \
         controllers could never be scheduled",
        missing.join(format!(", {key}=").as_str())
    ))
}

fn reshape_hint(target: UpTarget) -> &'static str {
    match target {
        UpTarget::Kind => {
            "this kind cluster was made with another shape: `shardwatch down --target kind`, then `up` again \
             (or pass --shards / --kind-config matching it)"
        }
        UpTarget::Local => "the local cluster did not get its nodes; `shardwatch down`, then `up` again",
        UpTarget::Current => "label a node for each shard, or use --placement preferred",
    }
}

/// Adds `context` (the cluster in `ours`) to the user's kubeconfig and makes it current,
/// unless that file is `ours` itself (as in the test suite, which points KUBECONFIG at it).
/// Returns the context and file written, for `down`.
fn add_user_context(
    context: &str,
    ours: &Path,
    flag: Option<&Path>,
    progress: &mut dyn FnMut(&str),
) -> Result<Option<(String, PathBuf)>> {
    let Some(user) = user_kubeconfig::user_kubeconfig(flag) else {
        progress("no HOME and no KUBECONFIG: the cluster's context is not added anywhere");
        return Ok(None);
    };
    if local::same_file(&user, ours) {
        return Ok(None);
    }
    user_kubeconfig::add_as(context, &user, ours)?;
    progress(&format!(
        "context {context} added to {} and made current (--no-kubeconfig-update leaves it alone)",
        user.display()
    ));
    Ok(Some((context.to_string(), user)))
}

fn write_builtin_kind_config() -> Result<PathBuf> {
    let path = local::cache_dir().join("kind-config.yaml");
    std::fs::create_dir_all(local::cache_dir())?;
    std::fs::write(&path, crate::kind_config::BUILTIN)?;
    Ok(path)
}

/// `shardwatch down`: removes what `up` created, on the target it recorded unless told.
pub async fn down(opts: &DownOptions, steps: &mut Steps) -> Result<()> {
    let recorded = stood_up::read();
    let target = stood_up::down_target(opts.target, recorded.as_ref());
    let recorded = recorded.filter(|r| r.target == target);
    match target {
        UpTarget::Local => {
            // The controllers first: with the API server gone they would only log errors.
            steps.step("stopping the Flux controllers and the local Git server");
            flux_runtime::stop(&mut |l| steps.detail(l)).await?;
            steps.step("stopping the local control plane");
            local::stop(&mut |l| steps.detail(l)).await?;
        }
        UpTarget::Kind => {
            steps.step("deleting the kind cluster");
            let file =
                opts.kind_config.clone().or_else(|| recorded.as_ref().and_then(|r| r.kind_config.clone()));
            // A config that cannot be read any more still names the seed's cluster.
            let name = match recorded.as_ref().filter(|_| opts.kind_config.is_none()) {
                Some(r) => r.cluster.clone(),
                None => KindConfig::read(file.as_deref()).unwrap_or_else(|_| KindConfig::builtin()).name,
            };
            let tools =
                kind_host::Tools::on_path().map_err(|why| eyre!("`down --target kind` needs kind: {why}"))?;
            kind::delete(&tools, &name, &local::cache_dir()).await?;
            steps.detail(&format!("kind cluster {name} deleted"));
            flux_runtime::stop_git_server(&mut |l| steps.detail(l)).await?;
        }
        UpTarget::Current => bail!(
            "shardwatch did not create the current cluster, so `down` leaves it alone; \
             `flux uninstall` removes Flux from it"
        ),
    }
    if opts.update_user_kubeconfig {
        let context = match target {
            UpTarget::Kind => recorded.as_ref().and_then(|r| r.user_context.clone()).map(|(c, _)| c),
            _ => None,
        }
        .unwrap_or_else(|| user_kubeconfig::CONTEXT.to_string());
        let file = recorded.as_ref().and_then(|r| r.user_context.as_ref().map(|(_, f)| f.clone()));
        if let Some(user) = file.or_else(|| user_kubeconfig::user_kubeconfig(opts.kubeconfig_flag.as_deref()))
        {
            if user_kubeconfig::remove_of(&context, &user)? {
                steps.detail(&format!("context {context} removed from {}", user.display()));
            }
        }
    }
    stood_up::forget();
    Ok(())
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
        add_user_context("kwok-shardwatch", &ours, Some(&ours), &mut |l| said.push(l.to_string())).unwrap();
        assert_eq!(std::fs::read_to_string(&ours).unwrap(), text);
        assert!(said.is_empty(), "{said:?}");
        let user = dir.join("user-config");
        add_user_context("kwok-shardwatch", &ours, Some(&user), &mut |l| said.push(l.to_string())).unwrap();
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

    #[test]
    fn a_shard_without_a_labelled_node_is_named_before_anything_is_applied() {
        let nodes = vec![("w1".to_string(), "shard1".to_string()), ("w2".to_string(), "shard2".to_string())];
        let shards: Vec<String> = (1..=3).map(|i| format!("shard{i}")).collect();
        assert_eq!(check_shape(&nodes, &shards[..2], KEY), Ok(()));
        let why = check_shape(&nodes, &shards, KEY).unwrap_err();
        assert!(why.starts_with("no node carries sharding.fluxcd.io/key=shard3 "), "{why}");
        assert!(why.contains("labelled for: shard1, shard2"), "{why}");
        assert!(check_shape(&[], &shards[..1], KEY).unwrap_err().contains("labelled for: none"));
        assert!(reshape_hint(UpTarget::Kind).contains("shardwatch down --target kind"));
    }

    #[test]
    fn loopback_git_urls_are_recognised() {
        for url in [
            "http://127.0.0.1:19480/x.git",
            "https://localhost/x.git",
            "http://[::1]:8080/x.git",
            "ssh://git@127.0.0.2/x.git",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "https://github.com/o/r.git",
            "http://172.18.0.1:19480/shardwatch-infra.git",
            "http://[fc00::1]/x",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }

    #[test]
    fn shapes_follow_the_shards_and_the_key_and_keep_the_seed_file_when_unchanged() {
        let dir = std::env::temp_dir().join(format!("sw-up-shape-{}", std::process::id()));
        let opts = |shards: Option<usize>, key: &str| UpOptions {
            target: Some(UpTarget::Local),
            current: ConnectOptions { kubeconfig: None, context: None },
            shards,
            placement: Placement::Required,
            flux_manifests: None,
            kind_config: None,
            git_url: None,
            git_branch: "main".into(),
            git_path: "./manifests".into(),
            git_token_env: None,
            timeout: std::time::Duration::from_secs(1),
            namespace: "flux-system".into(),
            label_key: key.into(),
            flux_controllers: false,
            wait_for_layer: false,
            update_user_kubeconfig: false,
            confirm: Confirm::AskOnScreen,
        };
        let seed = shape(&opts(None, KEY), &dir).unwrap();
        assert_eq!((seed.file, seed.shards.len()), (None, 3), "the seed's own file");
        assert_eq!(shape(&opts(Some(3), KEY), &dir).unwrap().file, None);
        let five = shape(&opts(Some(5), KEY), &dir).unwrap();
        let file = five.file.clone().unwrap();
        assert_eq!(
            KindConfig::read(Some(&file)).unwrap().shards(KEY).len(),
            5,
            "the file kind and the scripts read"
        );
        assert_eq!(five.config.node_names().len(), 6);
        assert_eq!(shape(&opts(Some(5), KEY), &dir).unwrap().file, Some(file), "same shape, same file");
        let custom = shape(&opts(None, "example.com/shard"), &dir).unwrap();
        assert_eq!(custom.config.shards("example.com/shard"), ["shard1", "shard2", "shard3"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_kind_context_goes_to_the_users_kubeconfig_under_kinds_own_name() {
        let dir = std::env::temp_dir().join(format!("sw-up-kind-context-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ours = dir.join("kind-shardwatch.kubeconfig");
        std::fs::write(
            &ours,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kind-shardwatch\n  cluster: {server: 'https://127.0.0.1:41234'}\n\
             users:\n- name: kind-shardwatch\n  user: {client-key-data: a2V5}\ncontexts:\n- name: kind-shardwatch\n  \
             context: {cluster: kind-shardwatch, user: kind-shardwatch}\ncurrent-context: kind-shardwatch\n",
        )
        .unwrap();
        let user = dir.join("config");
        let added = add_user_context("kind-shardwatch", &ours, Some(&user), &mut |_| {}).unwrap();
        assert_eq!(added, Some(("kind-shardwatch".to_string(), user.clone())));
        let written = std::fs::read_to_string(&user).unwrap();
        assert!(written.contains("current-context: kind-shardwatch"), "{written}");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&user).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(user_kubeconfig::remove_of("kind-shardwatch", &user).unwrap());
        assert!(!std::fs::read_to_string(&user).unwrap().contains("kind-shardwatch"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
