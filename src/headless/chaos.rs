//! `shardwatch chaos ACTION`: one failover action from the command line, refused under
//! `--read-only` and confirmed on the terminal unless `--yes` (never waiting on a pipe).

use std::io::{BufRead, IsTerminal, Write};

use color_eyre::eyre::Result;

use crate::cluster::{self, ConnectOptions, actions::Action};
use crate::node_host::{HostKind, NodeHost};

/// Exit code: the action failed.
const FAILED: i32 = 1;
/// Exit code: it cannot be done here (cluster unreachable, unknown node target).
const CANNOT: i32 = 2;
/// Exit code: refused (`--read-only`, or not confirmed).
const REFUSED: i32 = 3;

/// One chaos action as asked for on the command line, before where its node runs is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChaosRequest {
    /// Fail a node.
    FailNode { node: String },
    /// Bring a failed node back.
    RestoreNode { node: String },
    /// Delete a pod in the Flux namespace.
    DeletePod { pod: String },
    /// Mark a node unschedulable.
    Cordon { node: String },
    /// Mark a node schedulable again.
    Uncordon { node: String },
    /// Cordon a node, then delete the Flux namespace's pods on it.
    Drain { node: String },
    /// Set the replicas of a Deployment in the Flux namespace.
    Scale { deployment: String, replicas: i32 },
    /// Set the replicas of every controller Deployment of a shard.
    ScaleShard { shard: String, replicas: i32 },
}

/// What `chaos` needs to know.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// The action.
    pub request: ChaosRequest,
    /// The cluster.
    pub connect: ConnectOptions,
    /// Where the Flux controllers run.
    pub flux_namespace: String,
    /// The label key that assigns nodes and Deployments to shards.
    pub shard_label: String,
    /// Refuse (`--read-only`).
    pub read_only: bool,
    /// Act on a cluster that is neither local nor kind (`--allow-remote`).
    pub allow_remote: bool,
    /// Do not ask for confirmation.
    pub yes: bool,
    /// Where the nodes run, if the command line said so (`--target`).
    pub node_host: Option<HostKind>,
}

/// Runs one chaos action; returns the exit code.
pub async fn run(opts: &ChaosOptions) -> Result<i32> {
    let command = &opts.request;
    if opts.read_only {
        eprintln!(
            "shardwatch: refusing `chaos {}`: --read-only forbids changing the cluster",
            summary(command)
        );
        return Ok(REFUSED);
    }
    let action = match action(opts).await {
        Ok(a) => a,
        Err(why) => {
            eprintln!("shardwatch: {why}");
            return Ok(CANNOT);
        }
    };
    confirm_and_perform(&opts.connect, &opts.flux_namespace, opts.yes, opts.allow_remote, &action).await
}

/// Asks "About to <what>. Type yes to continue:" and reads one line; only `yes` confirms.
pub fn confirmed(what: &str, input: &mut dyn BufRead, prompt: &mut dyn Write) -> Result<bool> {
    write!(prompt, "About to {what}. Type yes to continue: ")?;
    prompt.flush()?;
    let mut line = String::new();
    input.read_line(&mut line)?;
    Ok(line.trim() == "yes")
}

/// The part every confirmed action shares (chaos's and Flux's): refused when it cannot be
/// confirmed, or on a remote cluster unless `allow_remote`, the cluster named before asking
/// unless `yes`, then done; the exit code.
pub async fn confirm_and_perform(
    connect: &ConnectOptions,
    flux_namespace: &str,
    yes: bool,
    allow_remote: bool,
    action: &Action,
) -> Result<i32> {
    let what = action.describe(flux_namespace);
    if !yes && !std::io::stdin().is_terminal() {
        eprintln!(
            "shardwatch: refusing to {what}: stdin is not a terminal, so it cannot be confirmed; \
             pass --yes to confirm non-interactively"
        );
        return Ok(REFUSED);
    }
    let (client, info) = match cluster::connect(connect).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shardwatch: {e:#}");
            return Ok(CANNOT);
        }
    };
    if let Some(why) = crate::remote_guard::refusal(&info.server, &info.context, allow_remote) {
        eprintln!("shardwatch: refusing to {what}: {why}");
        return Ok(REFUSED);
    }
    if !yes {
        eprintln!("cluster: context {} at {}", info.context, info.server);
        if !confirmed(&what, &mut std::io::stdin().lock(), &mut std::io::stderr())? {
            eprintln!("shardwatch: not confirmed; nothing changed");
            return Ok(REFUSED);
        }
    }
    match cluster::actions::perform(&client, flux_namespace, action).await {
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

/// The command as typed, for messages that come before anything is resolved.
fn summary(command: &ChaosRequest) -> String {
    match command {
        ChaosRequest::FailNode { node } => format!("fail-node {node}"),
        ChaosRequest::RestoreNode { node } => format!("restore-node {node}"),
        ChaosRequest::DeletePod { pod } => format!("delete-pod {pod}"),
        ChaosRequest::Cordon { node } => format!("cordon {node}"),
        ChaosRequest::Uncordon { node } => format!("uncordon {node}"),
        ChaosRequest::Drain { node } => format!("drain {node}"),
        ChaosRequest::Scale { deployment, replicas } => format!("scale {deployment} --replicas {replicas}"),
        ChaosRequest::ScaleShard { shard, replicas } => format!("scale-shard {shard} --replicas {replicas}"),
    }
}

/// The action a command asks for; node failures need to know where the node runs.
async fn action(opts: &ChaosOptions) -> Result<Action, String> {
    Ok(match &opts.request {
        ChaosRequest::FailNode { node } => {
            Action::FailNode { node: node.clone(), host: node_host(opts, "fail", node).await? }
        }
        ChaosRequest::RestoreNode { node } => {
            Action::RestoreNode { node: node.clone(), host: node_host(opts, "restore", node).await? }
        }
        ChaosRequest::DeletePod { pod } => Action::DeletePod { pod: pod.clone() },
        ChaosRequest::Cordon { node } => Action::Cordon { node: node.clone() },
        ChaosRequest::Uncordon { node } => Action::Uncordon { node: node.clone() },
        ChaosRequest::Drain { node } => Action::Drain { node: node.clone() },
        ChaosRequest::Scale { deployment, replicas } => {
            Action::Scale { deployment: deployment.clone(), replicas: *replicas }
        }
        ChaosRequest::ScaleShard { shard, replicas } => Action::ScaleShard {
            shard: shard.clone(),
            replicas: *replicas,
            shard_label: opts.shard_label.clone(),
        },
    })
}

/// `--target`, else local when the kubeconfig in use is the local cluster's; else a refusal.
async fn node_host(opts: &ChaosOptions, verb: &str, node: &str) -> Result<NodeHost, String> {
    let (kubeconfig, context) = (opts.connect.kubeconfig.as_deref(), opts.connect.context.as_deref());
    crate::node_host::node_host(opts.node_host, kubeconfig, context).await.map_err(|why| {
        format!(
            "cannot {verb} node {node}: {why}, so shardwatch does not know how; pass --target local \
             (tests/localcluster) or --target kind (docker stop/start of the node's container). Other \
             clusters: use cordon or drain"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::confirmed;

    #[test]
    fn only_yes_confirms() {
        for (answer, expected) in
            [("yes\n", true), (" yes \n", true), ("y\n", false), ("", false), ("no\n", false)]
        {
            let mut prompt = Vec::new();
            let ok = confirmed("cordon node n", &mut answer.as_bytes(), &mut prompt).unwrap();
            assert_eq!(ok, expected, "answer {answer:?}");
            assert_eq!(String::from_utf8(prompt).unwrap(), "About to cordon node n. Type yes to continue: ");
        }
    }
}
