//! The kind config (`kind-config.yaml`): the cluster's name and its nodes with their roles
//! and labels, read once into a typed value. `up` takes the shards from it, the kind target
//! the cluster name, and the local control plane the same file (its scripts still read the
//! file themselves: `tests/localcluster/kind_nodes.py`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

/// The seed's cluster description (the repository's `kind-config.yaml`), used when no
/// `--kind-config` is given.
pub const BUILTIN: &str = include_str!("../kind-config.yaml");

/// A kind cluster description: the subset of kind's `Cluster` (v1alpha4) shardwatch reads.
/// Fields it does not read (networking, patches, port mappings) are accepted and ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KindConfig {
    /// The cluster name; kind's default is `kind`.
    #[serde(default = "default_name")]
    pub name: String,
    /// The nodes, in order; kind's default is one control-plane node.
    #[serde(default = "default_nodes")]
    pub nodes: Vec<KindNode>,
}

/// One node of a kind config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KindNode {
    /// Control plane or worker; kind's default is control plane.
    #[serde(default)]
    pub role: Role,
    /// The labels kind puts on the Node.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// A node's role, as kind spells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Runs the control plane (kind's default for a node without a role).
    #[default]
    ControlPlane,
    /// Runs workloads.
    Worker,
}

/// Why a kind config could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindConfigError {
    /// What was read: a file's path, or "the built-in kind config".
    pub source: String,
    /// The YAML parser's message, with line and column where it knows them.
    pub message: String,
}

impl fmt::Display for KindConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not a kind config shardwatch can read: {}", self.source, self.message)
    }
}

impl std::error::Error for KindConfigError {}

fn default_name() -> String {
    "kind".to_string()
}

fn default_nodes() -> Vec<KindNode> {
    vec![KindNode { role: Role::ControlPlane, labels: BTreeMap::new() }]
}

impl KindConfig {
    /// Parses a kind config's text; `source` names it in the error.
    pub fn parse(text: &str, source: &str) -> Result<KindConfig, KindConfigError> {
        let error = |message: String| KindConfigError { source: source.to_string(), message };
        // An empty or comment-only file is kind's defaults, as kind itself reads it.
        let value: serde_norway::Value = serde_norway::from_str(text).map_err(|e| error(e.to_string()))?;
        if value.is_null() {
            return Ok(KindConfig { name: default_name(), nodes: default_nodes() });
        }
        // Parsed again as the struct, so a wrong field's error carries its line too.
        serde_norway::from_str(text).map_err(|e| error(e.to_string()))
    }

    /// The built-in seed config.
    pub fn builtin() -> KindConfig {
        KindConfig::parse(BUILTIN, "the built-in kind config").expect("the built-in kind config is valid")
    }

    /// Reads `path`, or the built-in config when `None`.
    pub fn read(path: Option<&Path>) -> color_eyre::Result<KindConfig> {
        use color_eyre::eyre::WrapErr;
        let Some(path) = path else {
            return Ok(KindConfig::builtin());
        };
        let text = std::fs::read_to_string(path).wrap_err_with(|| format!("reading {}", path.display()))?;
        Ok(KindConfig::parse(&text, &path.display().to_string())?)
    }

    /// The shards the config lays out: the values of `label_key` on its nodes, in node
    /// order, each once.
    pub fn shards(&self, label_key: &str) -> Vec<String> {
        let mut shards: Vec<String> = Vec::new();
        for value in self.nodes.iter().filter_map(|n| n.labels.get(label_key)) {
            if !shards.contains(value) {
                shards.push(value.clone());
            }
        }
        shards
    }

    /// The node names kind gives: `<name>-control-plane`, `<name>-control-plane2`, ...,
    /// `<name>-worker`, `<name>-worker2`, ... in the config's order.
    pub fn node_names(&self) -> Vec<String> {
        let (mut control_planes, mut workers) = (0, 0);
        self.nodes
            .iter()
            .map(|n| {
                let (count, role) = match n.role {
                    Role::ControlPlane => (&mut control_planes, "control-plane"),
                    Role::Worker => (&mut workers, "worker"),
                };
                *count += 1;
                let suffix = if *count == 1 { String::new() } else { count.to_string() };
                format!("{}-{role}{suffix}", self.name)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sharding.fluxcd.io/key";

    #[test]
    fn the_seed_has_three_workers_for_shard1_to_3() {
        let seed = KindConfig::builtin();
        assert_eq!(seed.name, "shardwatch");
        assert_eq!(seed.nodes.len(), 4);
        assert_eq!(seed.nodes[0], KindNode { role: Role::ControlPlane, labels: BTreeMap::new() });
        assert!(seed.nodes[1..].iter().all(|n| n.role == Role::Worker));
        assert_eq!(seed.shards(KEY), ["shard1", "shard2", "shard3"]);
        assert_eq!(
            seed.node_names(),
            ["shardwatch-control-plane", "shardwatch-worker", "shardwatch-worker2", "shardwatch-worker3"]
        );
    }

    #[test]
    fn shard_names_are_the_label_values_of_the_configured_key() {
        let text = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n\
                    - role: control-plane\n\
                    - role: worker\n  labels:\n    example.com/shard: shardA\n    tier: x\n\
                    - role: worker\n  labels:\n    example.com/shard: \"shardB\"\n\
                    - role: worker\n  labels:\n    example.com/shard: shardA\n\
                    networking:\n  ipFamily: ipv4\n";
        let config = KindConfig::parse(text, "test").unwrap();
        assert_eq!(config.name, "kind");
        assert_eq!(config.shards("example.com/shard"), ["shardA", "shardB"]);
        assert_eq!(config.shards(KEY), Vec::<String>::new());
        assert_eq!(config.nodes[1].labels.get("tier").map(String::as_str), Some("x"));
    }

    #[test]
    fn a_config_without_labels_has_no_shards() {
        let config = KindConfig::parse(
            "kind: Cluster\nname: plain\nnodes:\n- role: control-plane\n- role: worker\n",
            "t",
        )
        .unwrap();
        assert_eq!(config.shards(KEY), Vec::<String>::new());
        assert_eq!(config.node_names(), ["plain-control-plane", "plain-worker"]);
        // kind's defaults: one control-plane node named after the cluster.
        let empty = KindConfig::parse("# nothing but a comment\n", "t").unwrap();
        assert_eq!(empty.node_names(), ["kind-control-plane"]);
        let no_nodes = KindConfig::parse("kind: Cluster\n", "t").unwrap();
        assert_eq!(no_nodes.nodes, default_nodes());
    }

    #[test]
    fn malformed_yaml_says_which_file_and_where() {
        let err = KindConfig::parse("nodes:\n  - role: worker\n   labels: [x\n", "my-kind.yaml").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("my-kind.yaml is not a kind config shardwatch can read: "), "{text}");
        assert!(text.contains("line"), "the parser's position is kept: {text}");
        let wrong = KindConfig::parse("nodes: 5\n", "k.yaml").unwrap_err();
        assert!(wrong.message.contains("nodes"), "the field is named: {wrong}");
        let role = KindConfig::parse("nodes:\n- role: leader\n", "k.yaml").unwrap_err();
        assert!(role.message.contains("leader") && role.message.contains("line 2"), "{role}");
    }
}
