//! Command-line arguments (clap derive), turned into the plain option structs of the
//! modules below, and the sequencing of commands (`up`, then the dashboard). Nothing below
//! this file sees clap: enums that clap parses are mirrored here with `From` conversions.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::app::DashboardOptions;
use crate::bootstrap::render_install::RenderOptions;
use crate::bootstrap::steps::Steps;
use crate::bootstrap::up::{self, Confirm, DownOptions, UpOptions, UpTarget};
use crate::cluster::{ConnectOptions, WatchOptions};
use crate::headless::chaos::{ChaosOptions, ChaosRequest};
use crate::headless::explain::ExplainOptions;
use crate::headless::flux_action::{FluxActionOptions, FluxVerb};
use crate::headless::{self, SnapshotOptions};
use crate::local::command::{ControllersAction, GitServerAction, LocalAction};
use crate::node_host::HostKind;
use crate::ui::palette::Palette;
use crate::user_config::ConfigError;
use crate::user_config::settings::{Given, Settings, pick};
use crate::user_config::theme_choice;

/// Examples shown under `--help` (and in the man page).
const EXAMPLES: &str = "Examples:
  shardwatch                                  open the dashboard on the current context
  kubectl shardwatch --read-only              the same as a kubectl plugin, no actions allowed
  shardwatch up --target local                stand up the sharded stack with no Docker, then watch it
  shardwatch check && echo healthy            exit 0 healthy, 1 degraded or failing, 2 cannot tell
  shardwatch snapshot --follow --record f.ndjson   JSON lines on every change, and a recording
  shardwatch --record f.ndjson                record what the dashboard sees
  shardwatch replay f.ndjson --speed 10       play it back with no cluster
  shardwatch explain ks/apps                  why a Kustomization is not Ready
  shardwatch completions zsh > ~/.zfunc/_shardwatch";

/// Terminal dashboard for the health of a sharded Flux CD stack.
#[derive(Debug, Clone, Parser)]
#[command(name = "shardwatch", version, about, propagate_version = true, after_help = EXAMPLES)]
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
    /// Refuse every action that changes the cluster (`chaos`, `up`, `down` exit 3; dashboard action keys).
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Allow the actions that break things (fail/restore a node, cordon, drain, scale,
    /// delete a pod) on a cluster that is neither a local one of this machine nor kind.
    #[arg(long, global = true)]
    pub allow_remote: bool,
    /// Write event-to-screen latency (p50/p99/max, JSON) to this file at exit (dashboard, `snapshot --follow`).
    #[arg(long, global = true, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// Record the watch events (trimmed, redacted, timed) as NDJSON to this file (dashboard,
    /// `snapshot --follow`); play it back with `shardwatch replay FILE`.
    #[arg(long, global = true, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Colours of the dashboard and replay: dark (default), light, high-contrast, a theme
    /// in the config folder's themes/ (NAME.toml), or a theme FILE. NO_COLOR overrides it.
    #[arg(long, global = true, env = "SHARDWATCH_THEME", value_name = "NAME|FILE")]
    pub theme: Option<String>,
    /// Do not capture the mouse (the terminal's own text selection keeps working).
    #[arg(long, global = true)]
    pub no_mouse: bool,
    /// Config file (default: $XDG_CONFIG_HOME/shardwatch/config.toml, else
    /// ~/.config/shardwatch/config.toml); flags and environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What the config file set beyond the flags above (key bindings, allowed contexts).
    #[arg(skip)]
    pub settings: Settings,
    /// Where logs go (never to the terminal the dashboard draws on).
    #[arg(long, global = true, env = "SHARDWATCH_LOG", value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// What to do; without one, open the dashboard.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// The local world's kubelet (started by `up --target local`; not for direct use).
    #[command(hide = true)]
    Kubelet {
        /// The options file `up` wrote.
        #[arg(long, value_name = "FILE")]
        options: PathBuf,
    },
    /// The local world by hand: its control plane, builds, Flux CRDs, Git server and
    /// controllers (what `up --target local` does in steps; the scripts in
    /// tests/localcluster/ call these).
    Local {
        /// The step.
        #[command(subcommand)]
        action: LocalCommand,
    },
    /// Print the model once (shards, placement, objects, graph, orphans, verdict) and exit.
    Snapshot {
        /// Output format.
        #[arg(short, long, value_enum, default_value = "json")]
        output: Format,
        /// How long to wait for the initial lists.
        #[arg(long, default_value = "30", value_name = "SECONDS")]
        timeout: u64,
        /// Keep going: print the snapshot again after every change (at most once a second),
        /// one JSON document per line, until Ctrl-C or the reader goes away.
        #[arg(short, long)]
        follow: bool,
    },
    /// Play a recording (`--record FILE`) in the dashboard, with no cluster: space pauses,
    /// `.` steps one event, ←/→ seek 10 s, +/- change the speed.
    Replay {
        /// The recording.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Recorded seconds per real second (100 plays 100 times faster).
        #[arg(long, default_value = "1", value_name = "N")]
        speed: f64,
        /// Print the snapshot at the end (or at --at) instead of playing, like `snapshot`.
        #[arg(short, long, value_enum)]
        output: Option<Format>,
        /// With -o: the snapshot this many seconds after the recording's start.
        #[arg(long, value_name = "SECONDS", requires = "output")]
        at: Option<f64>,
    },
    /// The config file: print a commented default, or where it is read from.
    Config {
        /// Print a commented config file with every key at its default.
        #[arg(long, conflicts_with = "path")]
        print_default: bool,
        /// Print the path of the config file read (whether it exists or not).
        #[arg(long)]
        path: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to stdout.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout: `shardwatch man > shardwatch.1`.
    Man,
    /// Stand up the sharded Flux stack (cluster, Flux with shards, infrastructure), then open the dashboard.
    Up {
        /// Where: kind (needs Docker), local (this project's control plane) or current (kube context).
        #[arg(long, value_enum)]
        target: Option<UpTargetArg>,
        /// How to shard.
        #[command(flatten)]
        shard: ShardArgs,
        /// Git repository Flux syncs the infrastructure layer from.
        #[arg(long, value_name = "URL")]
        git_url: Option<String>,
        /// Branch of that repository.
        #[arg(long, default_value = "main")]
        git_branch: String,
        /// Where this project's manifests/ folder is inside that repository.
        #[arg(long, default_value = "./manifests")]
        git_path: String,
        /// Name of an environment variable holding the Git token (the token never goes in an argument).
        #[arg(long, value_name = "VAR")]
        git_token_env: Option<String>,
        /// Seconds to wait for the controllers to be Available (and for the Kustomizations to be Ready).
        #[arg(long, default_value = "300", value_name = "SECONDS")]
        timeout: u64,
        /// Print plain progress lines and exit instead of opening the dashboard (on the local
        /// target, after waiting until the infrastructure Kustomizations are Ready).
        #[arg(long)]
        no_tui: bool,
        /// Local target: install Flux's Deployments only, without running the real controllers
        /// as local processes (built on first use, about 11 min) or the local Git server; the
        /// Kustomizations then wait for their source. Other targets run Flux in-cluster anyway.
        #[arg(long)]
        no_flux_controllers: bool,
        /// Do not add the cluster's context (local: kwok-shardwatch; kind: kind-<name>) to your
        /// kubeconfig (--kubeconfig, else the first file of KUBECONFIG, else ~/.kube/config).
        #[arg(long)]
        no_kubeconfig_update: bool,
        /// --target current: apply without asking (otherwise the dry run's summary is shown
        /// and y/N asked: on the progress screen, or on the terminal with --no-tui; exit 3 when
        /// not confirmed or it cannot be asked).
        #[arg(long)]
        yes: bool,
    },
    /// Remove what `up` created (the kind cluster or the local control plane).
    Down {
        /// Which target `up` used (default: the one the last `up` resolved, recorded in the
        /// cache; local when there is no record).
        #[arg(long, value_enum)]
        target: Option<UpTargetArg>,
        /// kind config naming the kind cluster.
        #[arg(long, value_name = "FILE")]
        kind_config: Option<PathBuf>,
        /// Leave the context `up` added (kwok-shardwatch, or kind-<name>) in your kubeconfig.
        #[arg(long)]
        no_kubeconfig_update: bool,
    },
    /// Write the sharded Flux install as plain YAML with a kustomization.yaml (for flux bootstrap users).
    Render {
        /// Folder to write into (must be empty unless --force).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Replace shardwatch's files in a non-empty folder.
        #[arg(long)]
        force: bool,
        /// How to shard.
        #[command(flatten)]
        shard: ShardArgs,
    },
    /// Exit 0 when healthy, 1 when degraded or failing (reasons printed), 2 when it cannot tell.
    Check {
        /// How long to wait for the initial lists.
        #[arg(long, default_value = "30", value_name = "SECONDS")]
        timeout: u64,
    },
    /// Explain why a Flux object is not Ready: conditions, dependency chain, what its health
    /// check waits for (Pending pods with the scheduler's reason, events).
    ///
    /// Exit codes: 0 Ready, 1 not Ready (explained), 2 cannot tell (not found, cannot list).
    Explain {
        /// KIND/NAMESPACE/NAME or KIND/NAME (namespace: -n, else --flux-namespace); kinds as
        /// flux names them (ks, hr, gitrepo, ...) or in full.
        #[arg(value_name = "KIND/NAMESPACE/NAME")]
        object: String,
        /// Output format.
        #[arg(short, long, value_enum, default_value = "text")]
        output: Format,
        /// How long to wait for the initial lists.
        #[arg(long, default_value = "30", value_name = "SECONDS")]
        timeout: u64,
    },
    /// The log of a Flux object's owning controller (its shard's, of its kind), only the
    /// lines naming the object, across all of the controller's pods; or of a pod or Deployment.
    ///
    /// Exit codes: 0 read, 2 cannot read (not found, forbidden, no log served).
    Logs {
        /// KIND/NAMESPACE/NAME or KIND/NAME (ks/apps; namespace: -n, else --flux-namespace),
        /// or pod/NAME, deploy/NAME in the Flux namespace.
        #[arg(value_name = "TARGET")]
        target: String,
        /// Keep printing lines as they are written, until Ctrl-C.
        #[arg(short, long)]
        follow: bool,
        /// Only lines newer than this many seconds.
        #[arg(long, value_name = "SECONDS")]
        since: Option<i64>,
        /// The previous (crashed) container's log.
        #[arg(short, long)]
        previous: bool,
        /// Print the lines as the controller wrote them (JSON).
        #[arg(long)]
        raw: bool,
    },
    /// Ask a Flux object's controller to reconcile it now (`reconcile.fluxcd.io/requestedAt`).
    ///
    /// Exit codes: 0 requested, 1 failed, 2 cannot act here, 3 refused (--read-only, not confirmed).
    Reconcile {
        /// KIND/NAMESPACE/NAME or KIND/NAME (ks, hr, gitrepo, ... or the kind's name).
        #[arg(value_name = "KIND/NAMESPACE/NAME")]
        object: String,
        /// Reconcile the source first (a Kustomization's sourceRef, a HelmRelease's chart), as flux does.
        #[arg(long)]
        with_source: bool,
        /// Do not ask for confirmation (needed when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Suspend a Flux object (`spec.suspend: true`): its controller stops reconciling it.
    ///
    /// Exit codes as for reconcile.
    Suspend {
        /// KIND/NAMESPACE/NAME or KIND/NAME.
        #[arg(value_name = "KIND/NAMESPACE/NAME")]
        object: String,
        /// Do not ask for confirmation (needed when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Resume a suspended Flux object (and request a reconcile, as `flux resume` does).
    ///
    /// Exit codes as for reconcile.
    Resume {
        /// KIND/NAMESPACE/NAME or KIND/NAME.
        #[arg(value_name = "KIND/NAMESPACE/NAME")]
        object: String,
        /// Do not ask for confirmation (needed when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Break things on purpose to watch failover; each action asks for confirmation.
    ///
    /// Exit codes: 0 done, 1 the action failed, 2 cannot act here (cluster unreachable,
    /// node failure on an unknown target), 3 refused (--read-only, or not confirmed).
    Chaos {
        /// The action.
        #[command(subcommand)]
        action: ChaosCommand,
        /// Do not ask for confirmation (needed when stdin is not a terminal).
        #[arg(long, global = true)]
        yes: bool,
        /// How nodes are failed and restored (default: local when the kubeconfig is the local cluster's).
        #[arg(long, global = true, value_enum)]
        target: Option<NodeHostArg>,
    },
}

/// The steps of `local`. Environment: SHARDWATCH_CLUSTER_NAME (default shardwatch),
/// SHARDWATCH_KIND_CONFIG, SHARDWATCH_APISERVER_PORT, SHARDWATCH_GIT_PORT, SHARDWATCH_CACHE, ...
/// (README, "The local world").
#[derive(Debug, Clone, Subcommand)]
pub enum LocalCommand {
    /// Start (or reuse) the local cluster, building its binaries on first use; print the kubeconfig path.
    Start,
    /// Stop the local kubelet (with the Flux controllers), the Git server and every process of the cluster.
    Stop,
    /// Running or not, and the nodes (exit 1 when not running).
    Status,
    /// Print the cluster's kubeconfig path (exit 1 when there is none).
    Kubeconfig,
    /// Print the folder of the cached control-plane binaries (no build).
    Bin,
    /// Stop a node's heartbeats: it goes NotReady after the grace period.
    FailNode {
        /// Node name.
        node: String,
        /// Wait until it is NotReady.
        #[arg(long)]
        wait: bool,
    },
    /// Resume a node's heartbeats: it goes Ready again.
    RestoreNode {
        /// Node name.
        node: String,
        /// Wait until it is Ready.
        #[arg(long)]
        wait: bool,
    },
    /// Run the cached kubectl against the cluster (put `--` before its arguments).
    Kubectl {
        /// kubectl's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// SIGKILL the cluster's kube-apiserver only (an outage; the rest keeps running).
    StopApiserver,
    /// Start the kube-apiserver again with the same flags.
    StartApiserver {
        /// Return once started, without waiting for /readyz.
        #[arg(long)]
        no_wait: bool,
    },
    /// Restart the cluster's kube-controller-manager and kube-scheduler with the same flags
    /// (fresh informers after an apiserver outage).
    RestartControllers,
    /// SIGSTOP the cluster's etcd: /version still answers, lists hang (a slow initial list).
    PauseEtcd,
    /// SIGCONT the cluster's etcd.
    ResumeEtcd,
    /// Compact etcd's history up to its current revision (printed), as etcdctl compact would.
    CompactEtcd,
    /// Build the control plane's binaries into the cache unless there; print their folder.
    Build,
    /// Build Flux's source-, kustomize- and helm-controller into the cache unless there; print their folder.
    BuildFlux,
    /// Install Flux's CRDs (from the controllers' Go modules) into the cluster of the kubeconfig in use.
    FluxCrds,
    /// The local Git server that serves the manifests folder to the Flux controllers.
    GitServer {
        /// What to do.
        #[arg(value_enum)]
        action: GitServerArg,
    },
    /// The local kubelet that runs the Flux controllers (`up --target local` starts it).
    Controllers {
        /// What to do.
        #[arg(value_enum)]
        action: ControllersArg,
    },
    /// Be the Git server (what `git-server start` runs in the background).
    #[command(hide = true)]
    GitServe {
        /// Folder of the bare repositories.
        #[arg(long)]
        root: PathBuf,
        /// Port.
        #[arg(long)]
        port: u16,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        addr: String,
        /// Write this process's pid here first.
        #[arg(long)]
        pid_file: Option<PathBuf>,
    },
    /// Kill the process group named on stdin when stdin closes without "done" (what a
    /// build runs beside each `go`, so the group dies with a SIGKILLed `up`).
    #[command(hide = true)]
    ReapGroup,
    /// Be notification-controller's stand-in (what the local kubelet runs as its pod).
    #[command(hide = true)]
    NotificationStandIn {
        /// Where /healthz and /readyz answer.
        #[arg(long)]
        health_addr: String,
    },
}

/// What `local git-server` does.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GitServerArg {
    /// Publish the manifests folder (SHARDWATCH_MANIFESTS, else ./manifests) when it changed, serve it, print the URL.
    Start,
    /// Stop the server.
    Stop,
    /// Print the repository URL (exit 1 when not serving).
    Url,
    /// Commit the manifests folder into the served repository.
    Publish,
}

/// What `local controllers` does.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ControllersArg {
    /// One line per controller; exit 0 only when all run.
    Status,
    /// Stop the kubelet, which stops every controller (they release their Leases).
    Stop,
    /// Print the kubelet's folder (kubelet.log, logs/, status).
    Dir,
}

impl LocalCommand {
    fn action(&self, kubeconfig: Option<&PathBuf>) -> LocalAction {
        match self {
            Self::Start => LocalAction::Start,
            Self::Stop => LocalAction::Stop,
            Self::Status => LocalAction::Status,
            Self::Kubeconfig => LocalAction::Kubeconfig,
            Self::Bin => LocalAction::Bin,
            Self::FailNode { node, wait } => LocalAction::FailNode { node: node.clone(), wait: *wait },
            Self::RestoreNode { node, wait } => LocalAction::RestoreNode { node: node.clone(), wait: *wait },
            Self::Kubectl { args } => LocalAction::Kubectl { args: args.clone() },
            Self::StopApiserver => LocalAction::StopApiserver,
            Self::StartApiserver { no_wait } => LocalAction::StartApiserver { wait: !*no_wait },
            Self::RestartControllers => LocalAction::RestartControllers,
            Self::PauseEtcd => LocalAction::PauseEtcd(true),
            Self::ResumeEtcd => LocalAction::PauseEtcd(false),
            Self::CompactEtcd => LocalAction::CompactEtcd,
            Self::Build => LocalAction::Build,
            Self::BuildFlux => LocalAction::BuildFlux,
            Self::FluxCrds => LocalAction::FluxCrds { kubeconfig: kubeconfig.cloned() },
            Self::GitServer { action } => LocalAction::GitServer(match action {
                GitServerArg::Start => GitServerAction::Start,
                GitServerArg::Stop => GitServerAction::Stop,
                GitServerArg::Url => GitServerAction::Url,
                GitServerArg::Publish => GitServerAction::Publish,
            }),
            Self::Controllers { action } => LocalAction::Controllers(match action {
                ControllersArg::Status => ControllersAction::Status,
                ControllersArg::Stop => ControllersAction::Stop,
                ControllersArg::Dir => ControllersAction::Dir,
            }),
            Self::GitServe { root, port, addr, pid_file } => LocalAction::GitServe {
                root: root.clone(),
                port: *port,
                addr: addr.clone(),
                pid_file: pid_file.clone(),
            },
            Self::NotificationStandIn { health_addr } => {
                LocalAction::NotificationStandIn { health_addr: health_addr.clone() }
            }
            Self::ReapGroup => LocalAction::ReapGroup,
        }
    }
}

/// The actions of `chaos`.
#[derive(Debug, Clone, Subcommand)]
pub enum ChaosCommand {
    /// Fail a node: local target: stop its heartbeats (cluster.sh fail-node); kind: `docker stop`.
    FailNode {
        /// Node name.
        node: String,
    },
    /// Bring a failed node back: local target: cluster.sh restore-node; kind: `docker start`.
    RestoreNode {
        /// Node name.
        node: String,
    },
    /// Delete a pod in the Flux namespace (its Deployment replaces it).
    DeletePod {
        /// Pod name.
        pod: String,
    },
    /// Mark a node unschedulable (spec.unschedulable=true).
    Cordon {
        /// Node name.
        node: String,
    },
    /// Mark a node schedulable again.
    Uncordon {
        /// Node name.
        node: String,
    },
    /// Cordon a node, then delete the Flux namespace's pods on it. Not `kubectl drain`: no
    /// eviction API, no PodDisruptionBudgets, other namespaces' pods stay.
    Drain {
        /// Node name.
        node: String,
    },
    /// Set the replicas of a Deployment in the Flux namespace (e.g. kustomize-controller-shard3).
    Scale {
        /// Deployment name.
        deployment: String,
        /// Desired replicas (0 takes the controller down).
        #[arg(long, value_name = "N")]
        replicas: i32,
    },
    /// Set the replicas of every controller Deployment of a shard (found like the dashboard finds shards).
    ScaleShard {
        /// Shard name (shard2, or main).
        shard: String,
        /// Desired replicas (0 takes the shard down).
        #[arg(long, value_name = "N")]
        replicas: i32,
    },
}

/// Options shared by `up` and `render`: how Flux is sharded.
#[derive(Debug, Clone, clap::Args)]
pub struct ShardArgs {
    /// Number of shards (default: the shard labels in the kind config, 3 for the seed).
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
    /// `required` pins each shard to its node (the seed); `preferred` lets a shard fail over.
    #[arg(long, default_value = "required")]
    pub placement: crate::bootstrap::Placement,
    /// Flux's install manifests from this file instead of the flux CLI or a download.
    #[arg(long, value_name = "FILE")]
    pub flux_manifests: Option<PathBuf>,
    /// kind config describing the nodes (default: the built-in copy of kind-config.yaml).
    #[arg(long, value_name = "FILE")]
    pub kind_config: Option<PathBuf>,
}

/// Output format of `snapshot` and `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The stable JSON documented in the README.
    Json,
    /// A human summary.
    Text,
}

impl From<Format> for headless::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Json => headless::Format::Json,
            Format::Text => headless::Format::Text,
        }
    }
}

/// Where `up` puts the stack (`--target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UpTargetArg {
    /// A kind cluster from kind-config.yaml (needs kind and Docker).
    Kind,
    /// The project's local control plane (no Docker needed).
    Local,
    /// The current kube context, untouched except for what Flux needs.
    Current,
}

impl From<UpTargetArg> for UpTarget {
    fn from(t: UpTargetArg) -> Self {
        match t {
            UpTargetArg::Kind => UpTarget::Kind,
            UpTargetArg::Local => UpTarget::Local,
            UpTargetArg::Current => UpTarget::Current,
        }
    }
}

/// How `chaos` fails and restores nodes (`--target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NodeHostArg {
    /// The local control plane (tests/localcluster/cluster.sh): kwok stops heartbeating the node.
    Local,
    /// A kind cluster: the node's Docker container is stopped or started.
    Kind,
}

impl From<NodeHostArg> for HostKind {
    fn from(h: NodeHostArg) -> Self {
        match h {
            NodeHostArg::Local => HostKind::Local,
            NodeHostArg::Kind => HostKind::Kind,
        }
    }
}

impl From<&ChaosCommand> for ChaosRequest {
    fn from(c: &ChaosCommand) -> Self {
        match c.clone() {
            ChaosCommand::FailNode { node } => ChaosRequest::FailNode { node },
            ChaosCommand::RestoreNode { node } => ChaosRequest::RestoreNode { node },
            ChaosCommand::DeletePod { pod } => ChaosRequest::DeletePod { pod },
            ChaosCommand::Cordon { node } => ChaosRequest::Cordon { node },
            ChaosCommand::Uncordon { node } => ChaosRequest::Uncordon { node },
            ChaosCommand::Drain { node } => ChaosRequest::Drain { node },
            ChaosCommand::Scale { deployment, replicas } => ChaosRequest::Scale { deployment, replicas },
            ChaosCommand::ScaleShard { shard, replicas } => ChaosRequest::ScaleShard { shard, replicas },
        }
    }
}

impl Cli {
    /// Which cluster to talk to.
    pub fn connect(&self) -> ConnectOptions {
        ConnectOptions { kubeconfig: self.kubeconfig.clone(), context: self.context.clone() }
    }

    /// The cluster, and what to watch in it and how to read it.
    pub fn watch(&self) -> WatchOptions {
        WatchOptions {
            connect: self.connect(),
            objects_namespace: self.namespace.clone(),
            flux_namespace: self.flux_namespace.clone(),
            shard_label: self.shard_label.clone(),
        }
    }

    /// The dashboard's options; `node_host`: where the nodes run, when the command said so.
    pub fn dashboard(&self, node_host: Option<HostKind>) -> Result<DashboardOptions, ConfigError> {
        Ok(DashboardOptions {
            watch: self.watch(),
            read_only: self.read_only,
            allow_remote: self.remote_allowed(),
            node_host,
            stats: self.stats.clone(),
            record: self.record.clone(),
            palette: self.palette()?,
            keys: crate::ui::KeyBindings::new(&self.settings.keys).map_err(ConfigError)?,
            no_mouse: self.no_mouse,
        })
    }

    /// Whether actions may touch a cluster neither local nor kind: `--allow-remote`, or the
    /// config file's `allow_remote` lists the context used (`--context`, else the
    /// kubeconfig's current context).
    pub fn remote_allowed(&self) -> bool {
        let contexts = &self.settings.allow_remote;
        if self.allow_remote {
            return true;
        }
        if contexts.is_empty() {
            return false;
        }
        let current = self.context.clone().or_else(|| {
            let kubeconfig = match &self.kubeconfig {
                Some(path) => kube::config::Kubeconfig::read_from(path).ok(),
                None => kube::config::Kubeconfig::read().ok(),
            };
            kubeconfig?.current_context
        });
        current.is_some_and(|c| contexts.contains(&c))
    }

    /// Fills in what the command line left unset (neither a flag nor an environment
    /// variable gave it) from the config file's `settings`: flags > env > config > defaults.
    pub fn apply(&mut self, settings: Settings, matches: &clap::ArgMatches) {
        let given = |id: &str| match matches.value_source(id) {
            Some(clap::parser::ValueSource::CommandLine) => Given::Flag,
            Some(clap::parser::ValueSource::EnvVariable) => Given::Env,
            _ => Given::Default,
        };
        self.namespace = pick(given("namespace"), self.namespace.take(), settings.namespace.clone());
        self.flux_namespace =
            pick(given("flux_namespace"), self.flux_namespace.clone(), settings.flux_namespace.clone());
        self.shard_label = pick(given("shard_label"), self.shard_label.clone(), settings.shard_label.clone());
        self.theme = pick(given("theme"), self.theme.take(), Some(settings.theme.clone()));
        self.read_only = pick(given("read_only"), self.read_only, settings.read_only);
        self.no_mouse = pick(given("no_mouse"), self.no_mouse, settings.no_mouse);
        self.settings = settings;
    }

    /// The colours `--theme` names (default: dark).
    pub fn palette(&self) -> Result<Palette, ConfigError> {
        match &self.theme {
            Some(choice) => theme_choice::resolve(choice, theme_choice::themes_dir().as_deref()),
            None => Ok(Palette::default()),
        }
    }
}

/// How long to wait, from a number of seconds on the command line.
fn seconds(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The exit code for [`run`]'s result; an error is printed first (redacted), as a `main`
/// returning it would print it.
pub fn exit_code(result: color_eyre::Result<i32>) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {}", crate::redact::redact(&format!("{e:?}")));
            1
        }
    }
}

/// Parses arguments and runs; returns the process exit code.
pub fn run() -> color_eyre::Result<i32> {
    // The error and its causes are for the user; source locations only with RUST_BACKTRACE.
    let verbose = std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0");
    let (panic_hook, eyre_hook) = color_eyre::config::HookBuilder::default()
        .display_location_section(verbose)
        .display_env_section(false)
        .into_hooks();
    eyre_hook.install()?;
    // A panic's message may quote anything (a request, an error): redacted like the rest.
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("{}", crate::redact::redact(&panic_hook.panic_report(info).to_string()));
    }));
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Some(Command::Config { print_default, path }) = &cli.command {
        return Ok(config_command(&cli, *print_default, *path));
    }
    match Settings::load(cli.config.as_deref()) {
        Ok(settings) => cli.apply(settings, &matches),
        Err(e) => {
            eprintln!("shardwatch: {e}");
            return Ok(2);
        }
    }
    crate::logging::init(cli.log_file.as_deref())?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match rt.block_on(dispatch(&cli)) {
        // Not connected: one line with the cause and the fix, like `check`'s "cannot tell".
        // A theme or config file that cannot be used: one line naming the file and line.
        Err(e) if e.downcast_ref::<ConfigError>().is_some() => {
            eprintln!("shardwatch: {e}");
            Ok(2)
        }
        Err(e) if e.downcast_ref::<crate::cluster::ConnectError>().is_some() => {
            let line =
                e.downcast_ref::<crate::cluster::ConnectError>().map(ToString::to_string).unwrap_or_default();
            eprintln!("shardwatch: {line}");
            Ok(2)
        }
        // `up --target current` not confirmed: nothing was applied.
        Err(e) if e.downcast_ref::<crate::bootstrap::up::NotConfirmed>().is_some() => {
            let line = e.downcast_ref::<crate::bootstrap::up::NotConfirmed>().map(ToString::to_string);
            eprintln!("shardwatch: {}", line.unwrap_or_default());
            Ok(3)
        }
        // Another `up` of the same cluster runs: who, since when; nothing was touched.
        Err(e) if e.downcast_ref::<crate::bootstrap::up_lock::UpLocked>().is_some() => {
            let line = e.downcast_ref::<crate::bootstrap::up_lock::UpLocked>().map(ToString::to_string);
            eprintln!("shardwatch: {}", line.unwrap_or_default());
            Ok(2)
        }
        other => other,
    }
}

/// `shardwatch config`: the default file's text or the path read; returns the exit code.
fn config_command(cli: &Cli, print_default: bool, path: bool) -> i32 {
    if print_default {
        print!("{}", crate::user_config::settings::DEFAULT_TEXT);
        return 0;
    }
    match cli.config.clone().or_else(crate::user_config::settings::default_path) {
        Some(p) if path => {
            println!("{}", p.display());
            0
        }
        _ if path => {
            eprintln!("shardwatch: no config folder: neither XDG_CONFIG_HOME nor HOME is set");
            2
        }
        _ => {
            eprintln!("shardwatch: config needs --print-default or --path");
            2
        }
    }
}

/// `reconcile`, `suspend` or `resume` of `object`; returns the exit code.
async fn flux_action(cli: &Cli, verb: FluxVerb, object: &str, yes: bool) -> color_eyre::Result<i32> {
    let opts = FluxActionOptions {
        verb,
        object: object.to_string(),
        default_namespace: cli.namespace.clone().unwrap_or_else(|| cli.flux_namespace.clone()),
        connect: cli.connect(),
        flux_namespace: cli.flux_namespace.clone(),
        read_only: cli.read_only,
        yes,
    };
    crate::headless::flux_action::run(&opts).await
}

/// Runs the command `cli` names; returns the exit code.
async fn dispatch(cli: &Cli) -> color_eyre::Result<i32> {
    let snapshot = |output: &Format, timeout: &u64| SnapshotOptions {
        watch: cli.watch(),
        format: (*output).into(),
        timeout: seconds(*timeout),
        stats: cli.stats.clone(),
        record: cli.record.clone(),
    };
    match &cli.command {
        None => crate::app::run(&cli.dashboard(None)?).await.map(|()| 0),
        Some(Command::Snapshot { output, timeout, follow: false }) => {
            headless::snapshot(&snapshot(output, timeout)).await
        }
        Some(Command::Snapshot { output, timeout, follow: true }) => {
            headless::follow::follow(&snapshot(output, timeout)).await
        }
        Some(Command::Explain { object, output, timeout }) => {
            let opts = ExplainOptions {
                watch: cli.watch(),
                object: object.clone(),
                format: (*output).into(),
                timeout: seconds(*timeout),
            };
            headless::explain::run(&opts).await
        }
        Some(Command::Logs { target, follow, since, previous, raw }) => {
            let opts = crate::headless::logs::LogsOptions {
                target: target.clone(),
                default_namespace: cli.namespace.clone().unwrap_or_else(|| cli.flux_namespace.clone()),
                connect: cli.connect(),
                flux_namespace: cli.flux_namespace.clone(),
                shard_label: cli.shard_label.clone(),
                window: crate::cluster::controller_logs::LogWindow {
                    follow: *follow,
                    since_seconds: *since,
                    previous: *previous,
                },
                raw: *raw,
            };
            crate::headless::logs::run(&opts).await
        }
        Some(Command::Reconcile { object, yes, with_source }) => {
            flux_action(cli, FluxVerb::Reconcile { with_source: *with_source }, object, *yes).await
        }
        Some(Command::Suspend { object, yes }) => flux_action(cli, FluxVerb::Suspend, object, *yes).await,
        Some(Command::Resume { object, yes }) => flux_action(cli, FluxVerb::Resume, object, *yes).await,
        Some(Command::Replay { file, speed, output, at }) => {
            let opts = crate::recording::replay::ReplayOptions {
                file: file.clone(),
                speed: *speed,
                output: output.map(Into::into),
                at: *at,
                theme: crate::ui::theme::Theme::with(crate::app::no_color(), cli.palette()?),
                no_mouse: cli.no_mouse,
            };
            crate::recording::replay::run(&opts).await
        }
        Some(Command::Config { print_default, path }) => Ok(config_command(cli, *print_default, *path)),
        Some(Command::Completions { shell }) => {
            crate::shell_docs::completions(*shell, &mut std::io::stdout());
            Ok(0)
        }
        Some(Command::Man) => crate::shell_docs::man_page(&mut std::io::stdout()).map(|()| 0),
        Some(Command::Local { action }) => {
            crate::local::command::run(action.action(cli.kubeconfig.as_ref())).await
        }
        Some(Command::Kubelet { options }) => {
            crate::local::kubelet::run(&crate::local::kubelet::read_options(options)?).await?;
            Ok(0)
        }
        Some(Command::Check { timeout }) => headless::check(&cli.watch(), seconds(*timeout)).await,
        Some(Command::Chaos { action, yes, target }) => {
            let opts = ChaosOptions {
                request: action.into(),
                connect: cli.connect(),
                flux_namespace: cli.flux_namespace.clone(),
                shard_label: cli.shard_label.clone(),
                read_only: cli.read_only,
                allow_remote: cli.remote_allowed(),
                yes: *yes,
                node_host: target.map(HostKind::from),
            };
            headless::chaos::run(&opts).await
        }
        Some(Command::Up { .. } | Command::Down { .. }) if cli.read_only => {
            eprintln!("shardwatch: refusing: --read-only forbids changing the cluster (up and down do)");
            Ok(3)
        }
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
            no_kubeconfig_update,
            yes,
        }) => {
            let target = target.map(UpTarget::from);
            let opts = UpOptions {
                target,
                current: cli.connect(),
                shards: shard.shards,
                placement: shard.placement,
                flux_manifests: shard.flux_manifests.clone(),
                kind_config: shard.kind_config.clone(),
                git_url: git_url.clone(),
                git_branch: git_branch.clone(),
                git_path: git_path.clone(),
                git_token_env: git_token_env.clone(),
                timeout: seconds(*timeout),
                namespace: cli.flux_namespace.clone(),
                label_key: cli.shard_label.clone(),
                flux_controllers: !*no_flux_controllers,
                wait_for_layer: *no_tui,
                update_user_kubeconfig: !*no_kubeconfig_update,
                confirm: if *yes {
                    Confirm::Yes
                } else if *no_tui {
                    Confirm::AskOnTerminal
                } else {
                    Confirm::AskOnScreen
                },
            };
            if !*no_tui {
                // Where the nodes run follows the target `up` resolves (kind when it picked kind).
                crate::app::up_then_dashboard(&opts, &cli.dashboard(None)?).await?;
                return Ok(0);
            }
            // Ctrl-C ends `up` by dropping it, so what it runs (a build) is ended too.
            let mut steps = Steps::new();
            let stood = tokio::select! {
                done = up::up(&opts, &mut steps) => done?,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("shardwatch: up interrupted; what it was running is stopped");
                    return Ok(130);
                }
            };
            if let Some(path) = &stood.kubeconfig {
                eprintln!("\nkubeconfig: {}\n  export KUBECONFIG={}", path.display(), path.display());
            }
            Ok(0)
        }
        Some(Command::Down { target, kind_config, no_kubeconfig_update }) => {
            let opts = DownOptions {
                target: target.map(UpTarget::from),
                kind_config: kind_config.clone(),
                update_user_kubeconfig: !*no_kubeconfig_update,
                kubeconfig_flag: cli.kubeconfig.clone(),
            };
            up::down(&opts, &mut Steps::new()).await?;
            Ok(0)
        }
        Some(Command::Render { out, force, shard }) => {
            let opts = RenderOptions {
                out: out.clone(),
                force: *force,
                shards: shard.shards,
                placement: shard.placement,
                flux_manifests: shard.flux_manifests.clone(),
                kind_config: shard.kind_config.clone(),
                namespace: cli.flux_namespace.clone(),
                label_key: cli.shard_label.clone(),
            };
            let written = crate::bootstrap::render_install::render_install(&opts, &mut Steps::new()).await?;
            for path in written {
                println!("{}", path.display());
            }
            Ok(0)
        }
    }
}
