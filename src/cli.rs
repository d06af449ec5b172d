//! Command-line arguments (clap derive) and dispatch to the dashboard or a headless command.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::cluster::Target;
use crate::model::ModelConfig;

/// Terminal dashboard for the health of a sharded Flux CD stack.
#[derive(Debug, Parser)]
#[command(name = "shardwatch", version, about, propagate_version = true)]
pub struct Cli {
    /// Path to a kubeconfig file (overrides KUBECONFIG, which may list several files).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use instead of the current one.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace where the Flux controllers run.
    #[arg(long, global = true, default_value = "flux-system", value_name = "NS")]
    pub flux_namespace: String,
    /// Only follow Flux objects in this namespace (default: all namespaces, like `flux get -A`).
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// Label key that assigns Flux objects and nodes to shards.
    #[arg(long, global = true, default_value = "sharding.fluxcd.io/key", value_name = "KEY")]
    pub shard_label: String,
    /// Where logs go (never to the terminal the dashboard draws on).
    #[arg(long, global = true, env = "SHARDWATCH_LOG", value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// What to do; without one, open the dashboard.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the model once (shards, placement, objects, graph, orphans, verdict) and exit.
    Snapshot {
        /// Output format.
        #[arg(short, long, value_enum, default_value = "json")]
        output: Format,
        /// How long to wait for the initial lists.
        #[arg(long, default_value = "30", value_name = "SECONDS")]
        timeout: u64,
    },
    /// Exit 0 when healthy, 1 when degraded or failing (reasons printed), 2 when it cannot tell.
    Check {
        /// How long to wait for the initial lists.
        #[arg(long, default_value = "30", value_name = "SECONDS")]
        timeout: u64,
    },
}

/// Output format of `snapshot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The stable JSON documented in the README.
    Json,
    /// A human summary.
    Text,
}

impl Cli {
    /// Which cluster to talk to.
    pub fn target(&self) -> Target {
        Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            objects_namespace: self.namespace.clone(),
        }
    }

    /// How the model should read what it sees.
    pub fn model_config(&self) -> ModelConfig {
        ModelConfig {
            flux_namespace: self.flux_namespace.clone(),
            shard_label: self.shard_label.clone(),
            ..ModelConfig::default()
        }
    }
}

/// Parses arguments and runs; returns the process exit code.
pub fn run() -> color_eyre::Result<i32> {
    color_eyre::install()?;
    let cli = Cli::parse();
    crate::logging::init(cli.log_file.as_deref())?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        match &cli.command {
            None => crate::app::run(&cli).await.map(|()| 0),
            Some(Command::Snapshot { output, timeout }) => {
                crate::headless::snapshot(&cli, *output, Duration::from_secs(*timeout)).await
            }
            Some(Command::Check { timeout }) => {
                crate::headless::check(&cli, Duration::from_secs(*timeout)).await
            }
        }
    })
}
