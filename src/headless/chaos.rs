//! `shardwatch chaos ACTION`: one failover action from the command line, refused under
//! `--read-only` and confirmed on the terminal unless `--yes` (never waiting on a pipe).

use std::io::{BufRead, IsTerminal, Write};

use color_eyre::eyre::Result;

use crate::cli::{ChaosCommand, Cli};
use crate::cluster::{self, actions::Action, actions::NodeHost};

/// Exit code: the action failed.
const FAILED: i32 = 1;
/// Exit code: it cannot be done here (cluster unreachable, unknown node target).
const CANNOT: i32 = 2;
/// Exit code: refused (`--read-only`, or not confirmed).
const REFUSED: i32 = 3;

/// Runs one chaos action; returns the exit code.
pub async fn run(cli: &Cli, command: &ChaosCommand, yes: bool, target: Option<NodeHost>) -> Result<i32> {
    if cli.read_only {
        eprintln!(
            "shardwatch: refusing `chaos {}`: --read-only forbids changing the cluster",
            summary(command)
        );
        return Ok(REFUSED);
    }
    let action = match action(cli, command, target).await {
        Ok(a) => a,
        Err(why) => {
            eprintln!("shardwatch: {why}");
            return Ok(CANNOT);
        }
    };
    let what = action.describe(&cli.flux_namespace);
    if !yes && !std::io::stdin().is_terminal() {
        eprintln!(
            "shardwatch: refusing to {what}: stdin is not a terminal, so it cannot be confirmed; \
             pass --yes to confirm non-interactively"
        );
        return Ok(REFUSED);
    }
    let (client, info) = match cluster::connect(&cli.target()).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shardwatch: {e:#}");
            return Ok(CANNOT);
        }
    };
    if !yes {
        eprintln!("cluster: context {} at {}", info.context, info.server);
        if !confirmed(&what, &mut std::io::stdin().lock(), &mut std::io::stderr())? {
            eprintln!("shardwatch: not confirmed; nothing changed");
            return Ok(REFUSED);
        }
    }
    match cluster::actions::perform(&client, &cli.flux_namespace, &action).await {
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

/// Asks "About to <what>. Type yes to continue:" and reads one line; only `yes` confirms.
pub fn confirmed(what: &str, input: &mut dyn BufRead, prompt: &mut dyn Write) -> Result<bool> {
    write!(prompt, "About to {what}. Type yes to continue: ")?;
    prompt.flush()?;
    let mut line = String::new();
    input.read_line(&mut line)?;
    Ok(line.trim() == "yes")
}

/// The command as typed, for messages that come before anything is resolved.
fn summary(command: &ChaosCommand) -> String {
    match command {
        ChaosCommand::FailNode { node } => format!("fail-node {node}"),
        ChaosCommand::RestoreNode { node } => format!("restore-node {node}"),
        ChaosCommand::DeletePod { pod } => format!("delete-pod {pod}"),
        ChaosCommand::Cordon { node } => format!("cordon {node}"),
        ChaosCommand::Uncordon { node } => format!("uncordon {node}"),
        ChaosCommand::Drain { node } => format!("drain {node}"),
        ChaosCommand::Scale { deployment, replicas } => format!("scale {deployment} --replicas {replicas}"),
        ChaosCommand::ScaleShard { shard, replicas } => format!("scale-shard {shard} --replicas {replicas}"),
    }
}

/// The action a command asks for; node failures need to know where the node runs.
async fn action(cli: &Cli, command: &ChaosCommand, target: Option<NodeHost>) -> Result<Action, String> {
    Ok(match command {
        ChaosCommand::FailNode { node } => {
            Action::FailNode { node: node.clone(), host: node_host(cli, target, "fail", node).await? }
        }
        ChaosCommand::RestoreNode { node } => {
            Action::RestoreNode { node: node.clone(), host: node_host(cli, target, "restore", node).await? }
        }
        ChaosCommand::DeletePod { pod } => Action::DeletePod { pod: pod.clone() },
        ChaosCommand::Cordon { node } => Action::Cordon { node: node.clone() },
        ChaosCommand::Uncordon { node } => Action::Uncordon { node: node.clone() },
        ChaosCommand::Drain { node } => Action::Drain { node: node.clone() },
        ChaosCommand::Scale { deployment, replicas } => {
            Action::Scale { deployment: deployment.clone(), replicas: *replicas }
        }
        ChaosCommand::ScaleShard { shard, replicas } => Action::ScaleShard {
            shard: shard.clone(),
            replicas: *replicas,
            shard_label: cli.shard_label.clone(),
        },
    })
}

/// `--target`, else local when the kubeconfig in use is the local cluster's; else a refusal.
async fn node_host(cli: &Cli, target: Option<NodeHost>, verb: &str, node: &str) -> Result<NodeHost, String> {
    cluster::node_host::node_host(target, cli.kubeconfig.as_deref()).await.map_err(|why| {
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
