//! `shardwatch reconcile|suspend|resume KIND/NAME`: Flux's actions from the command line,
//! with `chaos`'s rules: refused under `--read-only`, confirmed on the terminal unless
//! `--yes`, never waiting on a pipe (exit 3 for each refusal).

use color_eyre::eyre::Result;

use super::chaos::confirm_and_perform;
use super::explain::parse_target;
use crate::cluster::{ConnectOptions, actions::Action};

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
            eprintln!("shardwatch: {}", crate::redact::redact(&e.to_string()));
            return Ok(CANNOT);
        }
    };
    let action = match opts.verb {
        FluxVerb::Reconcile { with_source } => Action::Reconcile { key, with_source },
        FluxVerb::Suspend => Action::Suspend { key, suspend: true },
        FluxVerb::Resume => Action::Suspend { key, suspend: false },
    };
    // Flux's own verbs change what Flux reconciles, not the cluster's machinery: like
    // `flux reconcile`, allowed on any cluster (still named and confirmed).
    confirm_and_perform(&opts.connect, &opts.flux_namespace, opts.yes, true, &action).await
}
