//! `shardwatch render`: Flux's install obtained, sharded and written as plain files for
//! people who keep their Flux install in Git.

use std::path::PathBuf;

use color_eyre::eyre::Result;

use super::steps::Steps;
use super::up::shard_names;
use super::{Placement, ShardOptions, flux_source, render, shard_install, write_dir};
use crate::kind_config::KindConfig;

/// Everything `render` needs to know.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Folder to write into.
    pub out: PathBuf,
    /// Replace shardwatch's files in a non-empty folder.
    pub force: bool,
    /// Number of shards; None: the shard labels in the kind config.
    pub shards: Option<usize>,
    /// Required (the seed) or preferred node affinity.
    pub placement: Placement,
    /// Flux's install manifests from this file instead of the flux CLI or a download.
    pub flux_manifests: Option<PathBuf>,
    /// kind config; None: the built-in copy of the repository's kind-config.yaml.
    pub kind_config: Option<PathBuf>,
    /// The Flux namespace.
    pub namespace: String,
    /// The shard label key.
    pub label_key: String,
}

/// Writes the sharded install into `opts.out`; returns the paths written, in order.
pub async fn render_install(opts: &RenderOptions, steps: &mut Steps) -> Result<Vec<PathBuf>> {
    // As `up` counts them: the given config's labels of the key, else the seed's workers.
    let shards = match &opts.kind_config {
        Some(file) => shard_names(opts.shards, &KindConfig::read(Some(file))?, &opts.label_key),
        None => shard_names(opts.shards, &KindConfig::builtin(), crate::kind_config::SEED_KEY),
    };
    let n = shards.len();
    let order = match &opts.flux_manifests {
        Some(file) => vec![flux_source::FluxSource::File(file.clone())],
        None => flux_source::default_order(false),
    };
    steps.step("Flux install manifests");
    let (from, objects) = flux_source::obtain_first(&order, &mut |l| steps.detail(l)).await?;
    steps.detail(&format!("{} objects from {from}", objects.len()));
    let shard_opts = ShardOptions {
        shards,
        label_key: opts.label_key.clone(),
        placement: opts.placement,
        namespace: opts.namespace.clone(),
    };
    steps.step(&format!("shard transform ({n} shards)"));
    let sharded = shard_install(&objects, &shard_opts)?;
    let files = render(&sharded, &shard_opts)?;
    write_dir(&opts.out, &files, opts.force)?;
    Ok(files.iter().map(|(name, _)| opts.out.join(name)).collect())
}
