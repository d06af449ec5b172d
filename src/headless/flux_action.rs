//! `shardwatch reconcile|suspend|resume KIND/NAME`: Flux's actions from the command line,
//! with `chaos`'s rules: refused under `--read-only`, confirmed on the terminal unless
//! `--yes`, never waiting on a pipe (exit 3 for each refusal).

use std::io::IsTerminal;

use color_eyre::eyre::Result;

use super::chaos::confirmed;
use super::explain::parse_target;
use crate::cluster::{self, ConnectOptions, actions::Action};

/// Exit code: the action failed.
const FAILED: i32 = 1;
/// Exit code: it cannot be done here (bad object, cluster unreachable).
const CANNOT: i32 = 2;
/// Exit code: refused (`--read-only`, or not confirmed).
const REFUSED: i32 = 3;

/// Which Flux action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FluxVerb {
    /// Reconcile now; `true`: the source first (`--with-source`).
    Reconcile { with_source: bool },
    /// Suspend.
    Suspend,
    /// Resume.
    Resume,
}

/// What the command needs to know.
#[derive(Debug, Clone)]
pub struct FluxActionOptions {
    /// The action.
    pub verb: FluxVerb,
    /// `KIND/NAMESPACE/NAME` or `KIND/NAME` as typed.
    pub object: String,
    /// Namespace of a `KIND/NAME` (`-n`, else the Flux namespace).
    pub default_namespace: String,
    /// The cluster.
    pub connect: ConnectOptions,
    /// Where the Flux controllers run.
    pub flux_namespace: String,
    /// Refuse (`--read-only`).
    pub read_only: bool,
    /// Do not ask for confirmation.
    pub yes: bool,
}

impl FluxVerb {
    fn word(self) -> &'static str {
        match self {
            FluxVerb::Reconcile { .. } => "reconcile",
            FluxVerb::Suspend => "suspend",
            FluxVerb::Resume => "resume",
        }
    }
}

/// Runs the action; returns the exit code.
pub async fn run(opts: &FluxActionOptions) -> Result<i32> {
    let word = opts.verb.word();
    if opts.read_only {
        eprintln!("shardwatch: refusing `{word} {}`: --read-only forbids changing the cluster", opts.object);
        return Ok(REFUSED);
    }
    let key = match parse_target(&opts.object, &opts.default_namespace) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("shardwatch: {e}");
            return Ok(CANNOT);
        }
    };
    let action = match opts.verb {
        FluxVerb::Reconcile { with_source } => Action::Reconcile { key, with_source },
        FluxVerb::Suspend => Action::Suspend { key, suspend: true },
        FluxVerb::Resume => Action::Suspend { key, suspend: false },
    };
    let what = action.describe(&opts.flux_namespace);
    if !opts.yes && !std::io::stdin().is_terminal() {
        eprintln!(
            "shardwatch: refusing to {what}: stdin is not a terminal, so it cannot be confirmed; \
             pass --yes to confirm non-interactively"
        );
        return Ok(REFUSED);
    }
    let (client, info) = match cluster::connect(&opts.connect).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shardwatch: {e:#}");
            return Ok(CANNOT);
        }
    };
    if !opts.yes {
        eprintln!("cluster: context {} at {}", info.context, info.server);
        if !confirmed(&what, &mut std::io::stdin().lock(), &mut std::io::stderr())? {
            eprintln!("shardwatch: not confirmed; nothing changed");
            return Ok(REFUSED);
        }
    }
    match cluster::actions::perform(&client, &opts.flux_namespace, &action).await {
        Ok(done) => {
            println!("{done}");
            Ok(0)
        }
        Err(e) => {
            eprintln!("shardwatch: {e:#}");
            Ok(FAILED)
        }
    }
}
