//! kind's nodes as Docker containers: whether kind can run here (and why not), which
//! containers are a cluster's nodes and whether they run, stopping and starting one node,
//! and the kind network's gateway (the host as pods reach it). `bootstrap::kind` creates
//! and deletes clusters with it; `node_host` fails and restores nodes with it.
//!
//! Every command goes through [`Tools`], the programs `kind` and `docker` as found on PATH:
//! the contract tests (`tests/kind_contract.rs` and the tests below) point them at
//! stand-ins that record their arguments and answer as the real tools do.

use std::path::{Path, PathBuf};
use std::process::Output;

use color_eyre::eyre::{Result, WrapErr, bail};
use tokio::process::Command;

/// The label kind puts on every node container: the cluster's name
/// (kind `pkg/cluster/internal/providers/docker/constants.go`, `clusterLabelKey`).
pub const CLUSTER_LABEL: &str = "io.x-k8s.kind.cluster";
/// The label kind puts on every node container: `control-plane` or `worker` (`nodeRoleLabelKey`).
pub const ROLE_LABEL: &str = "io.x-k8s.kind.role";
/// The Docker network kind puts its nodes on.
pub const NETWORK: &str = "kind";

/// The `kind` and `docker` programs to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// The kind CLI.
    pub kind: PathBuf,
    /// The Docker CLI.
    pub docker: PathBuf,
}

/// One node container of a kind cluster and its Docker state (`running`, `exited`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeContainer {
    /// The container's name, which is the node's name.
    pub name: String,
    /// Docker's state word.
    pub state: String,
}

impl Tools {
    /// `kind` and `docker` from PATH, or why they are not there.
    pub fn on_path() -> Result<Tools, String> {
        let find = |p: &str| crate::local::which(p).ok_or_else(|| format!("no `{p}` on PATH"));
        match (find("kind"), find("docker")) {
            (Ok(kind), Ok(docker)) => Ok(Tools { kind, docker }),
            (Err(a), Err(b)) => Err(format!("{a} and {b}")),
            (Err(why), _) | (_, Err(why)) => Err(why),
        }
    }

    /// Stand-ins named `kind` and `docker` in `dir` (the contract tests).
    pub fn in_dir(dir: &Path) -> Tools {
        Tools { kind: dir.join("kind"), docker: dir.join("docker") }
    }

    /// A `kind` command, killed when dropped.
    pub fn kind_command(&self) -> Command {
        let mut c = Command::new(&self.kind);
        // `kind create cluster` runs for minutes: quitting `up` must not leave it behind.
        c.kill_on_drop(true);
        c
    }

    fn docker(&self) -> Command {
        let mut c = Command::new(&self.docker);
        c.kill_on_drop(true);
        c
    }

    /// Whether the Docker engine answers; `Err` carries docker's own words (a daemon that
    /// is not running, a socket the user may not open), so `up` can say why it did not pick kind.
    pub async fn engine(&self) -> Result<(), String> {
        let out = self
            .docker()
            .args(["info", "--format", "{{.ServerVersion}}"])
            .output()
            .await
            .map_err(|e| format!("cannot run {}: {e}", self.docker.display()))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!("`docker info` failed: {}", first_line(&out.stderr)))
    }

    /// The kind clusters that exist, running or stopped (`kind get clusters`, which lists
    /// containers with `docker ps -a`).
    pub async fn clusters(&self) -> Result<Vec<String>> {
        let out = self
            .kind_command()
            .args(["get", "clusters"])
            .output()
            .await
            .wrap_err("running kind get clusters")?;
        ok(&out, "kind get clusters")?;
        // "No kind clusters found." goes to stderr; stdout has one name a line.
        Ok(stdout(&out).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect())
    }

    /// The node containers of cluster `name` with their state, as kind lists them
    /// (`docker ps -a --filter label=io.x-k8s.kind.cluster=NAME`).
    pub async fn nodes(&self, name: &str) -> Result<Vec<NodeContainer>> {
        let out = self
            .docker()
            .args(["ps", "-a", "--filter", &format!("label={CLUSTER_LABEL}={name}")])
            .args(["--format", "{{.Names}}\t{{.State}}"])
            .output()
            .await
            .wrap_err("running docker ps")?;
        ok(&out, "docker ps")?;
        Ok(parse_nodes(&stdout(&out)))
    }

    /// `docker start` of the given containers.
    pub async fn start(&self, names: &[String]) -> Result<()> {
        let out = self.docker().arg("start").args(names).output().await.wrap_err("running docker start")?;
        ok(&out, &format!("docker start {}", names.join(" ")))
    }

    /// The kind cluster and role labels of container `name` (`None` when it has no kind
    /// cluster label: not a kind node); an error when there is no such container.
    pub async fn labels(&self, name: &str) -> Result<Option<(String, String)>> {
        let format = format!(
            "{{{{index .Config.Labels \"{CLUSTER_LABEL}\"}}}}\t{{{{index .Config.Labels \"{ROLE_LABEL}\"}}}}"
        );
        let out = self
            .docker()
            .args(["inspect", "--type", "container", "--format", &format, name])
            .output()
            .await
            .wrap_err("running docker inspect")?;
        ok(&out, &format!("docker inspect {name}"))?;
        Ok(parse_labels(&stdout(&out)))
    }

    /// `docker stop` or `docker start` of node `node` of kind cluster `cluster`, after
    /// checking that the container is that cluster's node; stopping a control plane is
    /// refused (the API, and with it every way back but `docker start`, would go).
    pub async fn node_container(&self, verb: NodeVerb, node: &str, cluster: &str) -> Result<()> {
        let labels = self.labels(node).await.wrap_err_with(|| {
            format!("no Docker container named {node}: on kind, a node's container is named after the node")
        })?;
        let (owner, role) = labels.unwrap_or_default();
        if owner != cluster {
            let whose = if owner.is_empty() {
                "no kind cluster".to_string()
            } else {
                format!("kind cluster {owner}")
            };
            bail!(
                "refusing to {} container {node}: it belongs to {whose}, not to the connected kind cluster {cluster}",
                verb.word()
            );
        }
        if verb == NodeVerb::Stop && role == "control-plane" {
            bail!(
                "refusing to fail {node}: it is the control plane, so the API server would go with it and \
                 nothing would be left to watch (fail a worker; `docker start {node}` brings it back if stopped)"
            );
        }
        let out = self.docker().args([verb.word(), node]).output().await.wrap_err("running docker")?;
        ok(&out, &format!("docker {} {node}", verb.word()))
    }

    /// The IPv4 gateway of kind's Docker network: the host, as the nodes and their pods reach it.
    pub async fn gateway(&self) -> Result<String> {
        let out = self
            .docker()
            .args(["network", "inspect", NETWORK, "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}"])
            .output()
            .await
            .wrap_err("running docker network inspect")?;
        ok(&out, &format!("docker network inspect {NETWORK}"))?;
        let text = stdout(&out);
        match text.split_whitespace().find(|g| g.parse::<std::net::Ipv4Addr>().is_ok()) {
            Some(gw) => Ok(gw.to_string()),
            None => bail!("docker network {NETWORK} has no IPv4 gateway (got {:?})", text.trim()),
        }
    }
}

/// Stop or start, for [`Tools::node_container`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeVerb {
    /// `docker stop`.
    Stop,
    /// `docker start`.
    Start,
}

impl NodeVerb {
    fn word(self) -> &'static str {
        match self {
            NodeVerb::Stop => "stop",
            NodeVerb::Start => "start",
        }
    }
}

/// Where kind can run: `kind` and `docker` on PATH and an engine that answers, or why not.
pub async fn available() -> Result<Tools, String> {
    let tools = Tools::on_path()?;
    tools.engine().await?;
    Ok(tools)
}

/// `docker ps --format '{{.Names}}\t{{.State}}'` lines as containers.
pub fn parse_nodes(text: &str) -> Vec<NodeContainer> {
    text.lines()
        .filter_map(|l| {
            let (name, state) = l.trim().split_once('\t')?;
            Some(NodeContainer { name: name.to_string(), state: state.trim().to_string() })
        })
        .collect()
}

/// `docker inspect` output `CLUSTER\tROLE`; `None` when the cluster label is absent
/// (Go's template prints `<no value>` for a missing map key).
pub fn parse_labels(text: &str) -> Option<(String, String)> {
    let (cluster, role) = text.trim_end_matches('\n').split_once('\t')?;
    let clean = |s: &str| if s == "<no value>" { String::new() } else { s.trim().to_string() };
    let cluster = clean(cluster);
    (!cluster.is_empty()).then(|| (cluster, clean(role)))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("(no message)").to_string()
}

fn ok(out: &Output, what: &str) -> Result<()> {
    if !out.status.success() {
        bail!("{what} failed ({}): {}", out.status, first_line(&out.stderr));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_ps_lines_and_inspect_labels_are_read_as_docker_prints_them() {
        let ps = "shardwatch-worker2\texited\nshardwatch-control-plane\trunning\n";
        assert_eq!(
            parse_nodes(ps),
            [
                NodeContainer { name: "shardwatch-worker2".into(), state: "exited".into() },
                NodeContainer { name: "shardwatch-control-plane".into(), state: "running".into() },
            ]
        );
        assert_eq!(parse_labels("shardwatch\tworker\n"), Some(("shardwatch".into(), "worker".into())));
        assert_eq!(parse_labels("<no value>\t<no value>\n"), None);
        assert_eq!(parse_labels("\t\n"), None);
    }
}
