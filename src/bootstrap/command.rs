//! The `up`, `down` and `render` subcommands: argument plumbing around the bootstrap steps.

use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};

use super::up::{self, Steps, UpOptions};
use super::{ShardOptions, flux_source, render, shard_install, write_dir};
use crate::cli::{Cli, Command, ShardArgs};

/// Runs `up`, `down` or `render`; returns the exit code.
pub async fn run(cli: &Cli) -> Result<i32> {
    let mut steps = Steps::new();
    match &cli.command {
        Some(Command::Up {
            target,
            shard,
            git_url,
            git_branch,
            git_path,
            git_token_env,
            timeout,
            no_tui,
            no_flux_controllers,
        }) => {
            let opts = UpOptions {
                target: *target,
                shards: shard.shards,
                placement: shard.placement,
                flux_manifests: shard.flux_manifests.clone(),
                kind_config: shard.kind_config.clone(),
                git_url: git_url.clone(),
                git_branch: git_branch.clone(),
                git_path: git_path.clone(),
                git_token_env: git_token_env.clone(),
                timeout: Duration::from_secs(*timeout),
                namespace: cli.flux_namespace.clone(),
                label_key: cli.shard_label.clone(),
                flux_controllers: !*no_flux_controllers,
                wait_for_layer: *no_tui,
            };
            if !*no_tui {
                return crate::app::up_then_dashboard(cli, &opts).await.map(|()| 0);
            }
            let kubeconfig = up::up(&opts, &cli.target(), &mut steps).await?;
            if let Some(path) = &kubeconfig {
                eprintln!("\nkubeconfig: {}\n  export KUBECONFIG={}", path.display(), path.display());
            }
            Ok(0)
        }
        Some(Command::Down { target, kind_config }) => {
            up::down(*target, kind_config.as_deref(), &mut steps).await?;
            Ok(0)
        }
        Some(Command::Render { out, force, shard }) => {
            let files = rendered(cli, shard, &mut steps).await?;
            write_dir(out, &files, *force)?;
            for (name, _) in &files {
                println!("{}", out.join(name).display());
            }
            Ok(0)
        }
        _ => unreachable!("only up, down and render come here"),
    }
}

async fn rendered(cli: &Cli, shard: &ShardArgs, steps: &mut Steps) -> Result<Vec<super::RenderedFile>> {
    let kind_text = match &shard.kind_config {
        Some(p) => std::fs::read_to_string(p).wrap_err_with(|| format!("reading {}", p.display()))?,
        None => super::local::KIND_CONFIG.to_string(),
    };
    let n = shard.shards.unwrap_or_else(|| up::shards_in_kind_config(&kind_text, &cli.shard_label)).max(1);
    let order = match &shard.flux_manifests {
        Some(file) => vec![flux_source::FluxSource::File(file.clone())],
        None => flux_source::default_order(false),
    };
    steps.step("Flux install manifests");
    let (from, objects) = flux_source::obtain_first(&order, &mut |l| steps.detail(l)).await?;
    steps.detail(&format!("{} objects from {from}", objects.len()));
    let opts = ShardOptions {
        shards: (1..=n).map(|i| format!("shard{i}")).collect(),
        label_key: cli.shard_label.clone(),
        placement: shard.placement,
        namespace: cli.flux_namespace.clone(),
    };
    steps.step(&format!("shard transform ({n} shards)"));
    let sharded = shard_install(&objects, &opts)?;
    Ok(render(&sharded, &opts)?)
}
