//! The kind config (`kind-config.yaml`): the cluster's name and its nodes with their roles
//! and labels, read once into a typed value. `up` takes the shards from it, the kind target
//! the cluster name, and the local control plane its Nodes (`local/control_plane.rs`): this
//! is the one parser of the file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

/// The seed's cluster description (the repository's `kind-config.yaml`), used when no
/// `--kind-config` is given.
pub const BUILTIN: &str = include_str!("../kind-config.yaml");

/// The label key the seed's config labels its workers with.
pub const SEED_KEY: &str = "sharding.fluxcd.io/key";

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
    /// kubeadm config patches for every node (YAML documents as text), as kind applies them.
    #[serde(default, rename = "kubeadmConfigPatches")]
    pub kubeadm_config_patches: Vec<String>,
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
            return Ok(KindConfig {
                name: default_name(),
                nodes: default_nodes(),
                kubeadm_config_patches: vec![],
            });
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

/// `text` (a kind config) with its workers replaced by one worker per shard, the i-th
/// labelled `label_key: shards[i]`; the name, control planes and patches are kept. This is
/// the cluster `up --shards N` (or `--shard-label KEY`) stands up from the built-in config.
pub fn with_shard_workers(text: &str, shards: &[String], label_key: &str) -> Result<String, KindConfigError> {
    use serde_norway::{Mapping, Value};
    let error = |message: String| KindConfigError { source: "the kind config to reshape".into(), message };
    let mut doc: Value = serde_norway::from_str(text).map_err(|e| error(e.to_string()))?;
    let map = doc.as_mapping_mut().ok_or_else(|| error("not a mapping".into()))?;
    let kept: Vec<Value> = match map.get("nodes") {
        Some(Value::Sequence(nodes)) => nodes
            .iter()
            .filter(|n| n.get("role").and_then(Value::as_str) != Some("worker"))
            .cloned()
            .collect(),
        _ => vec![Value::Mapping(Mapping::from_iter([("role".into(), "control-plane".into())]))],
    };
    let workers = shards.iter().map(|shard| {
        let labels = Mapping::from_iter([(Value::from(label_key), Value::from(shard.as_str()))]);
        Value::Mapping(Mapping::from_iter([
            ("role".into(), "worker".into()),
            ("labels".into(), Value::Mapping(labels)),
        ]))
    });
    map.insert("nodes".into(), Value::Sequence(kept.into_iter().chain(workers).collect()));
    let out = serde_norway::to_string(&doc).map_err(|e| error(e.to_string()))?;
    Ok(format!("# Written by shardwatch up: kind-config.yaml with one worker per shard.\n{out}"))
}

impl KindConfig {
    /// The Node objects kind would register for this config, as a v1 List (what the local
    /// control plane applies, kwok then playing their kubelets): kind's names, its
    /// standard labels, the control plane's taint, and the config's own labels.
    pub fn node_list(&self) -> serde_json::Value {
        use serde_json::json;
        let items: Vec<serde_json::Value> = self
            .nodes
            .iter()
            .zip(self.node_names())
            .map(|(node, name)| {
                let mut labels = json!({
                    "beta.kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                });
                let mut spec = json!({});
                if node.role == Role::ControlPlane {
                    labels["node-role.kubernetes.io/control-plane"] = json!("");
                    labels["node.kubernetes.io/exclude-from-external-load-balancers"] = json!("");
                    spec = json!({ "taints": [{ "key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule" }] });
                }
                for (k, v) in &node.labels {
                    labels[k] = json!(v);
                }
                // Modest, kind-like capacity so scheduling and "pods: 110" behave as on a laptop.
                let resources = json!({ "cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi" });
                json!({
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "labels": labels,
                        // kwok manages the nodes that carry this annotation (see local/node_failure.rs).
                        "annotations": { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
                    },
                    "spec": spec,
                    "status": { "capacity": resources, "allocatable": resources },
                })
            })
            .collect();
        json!({ "apiVersion": "v1", "kind": "List", "items": items })
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

    /// The patch of `kind` among the seed's kubeadm config patches, parsed.
    fn patch(seed: &KindConfig, kind: &str) -> serde_norway::Value {
        seed.kubeadm_config_patches
            .iter()
            .map(|p| serde_norway::from_str::<serde_norway::Value>(p).unwrap())
            .find(|p| p["kind"].as_str() == Some(kind))
            .unwrap_or_else(|| panic!("no {kind} patch"))
    }

    #[test]
    fn the_seed_ships_short_node_timings_as_kubeadm_patches_kind_applies_to_any_kubeadm_api() {
        let seed = KindConfig::builtin();
        let cluster = patch(&seed, "ClusterConfiguration");
        // No apiVersion: kind matches a patch without one against v1beta3 and v1beta4 alike
        // (kind pkg/internal/patch), and converts map-shaped extraArgs for v1beta4.
        assert!(cluster.get("apiVersion").is_none());
        let cm = &cluster["controllerManager"]["extraArgs"];
        assert_eq!(cm["node-monitor-grace-period"].as_str(), Some("20s"));
        assert_eq!(cm["node-monitor-period"].as_str(), Some("2s"));
        let api = &cluster["apiServer"]["extraArgs"];
        // Flag values must be strings for kubeadm (extraArgs is map[string]string).
        assert_eq!(api["default-not-ready-toleration-seconds"].as_str(), Some("30"));
        assert_eq!(api["default-unreachable-toleration-seconds"].as_str(), Some("30"));
        let kubelet = patch(&seed, "KubeletConfiguration");
        assert!(kubelet.get("apiVersion").is_none());
        // Renewals every quarter of the lease (5 s): four fit in the 20 s grace period.
        assert_eq!(kubelet["nodeLeaseDurationSeconds"].as_u64(), Some(20));
        // The three shard-labelled workers stay.
        assert_eq!(seed.shards(KEY), ["shard1", "shard2", "shard3"]);
    }

    #[test]
    fn reshaping_keeps_name_control_plane_and_patches_and_labels_one_worker_per_shard() {
        let shards: Vec<String> = (1..=5).map(|i| format!("shard{i}")).collect();
        let text = with_shard_workers(BUILTIN, &shards, "example.com/shard").unwrap();
        let five = KindConfig::parse(&text, "reshaped").unwrap();
        let seed = KindConfig::builtin();
        assert_eq!(five.name, seed.name);
        assert_eq!(five.kubeadm_config_patches, seed.kubeadm_config_patches);
        assert_eq!(five.nodes.len(), 6);
        assert_eq!(five.nodes[0].role, Role::ControlPlane);
        assert_eq!(five.shards("example.com/shard"), shards);
        assert_eq!(five.shards(KEY), Vec::<String>::new(), "the seed's key is not kept");
        assert_eq!(five.node_names()[5], "shardwatch-worker5");
        let two = KindConfig::parse(&with_shard_workers(BUILTIN, &shards[..2], KEY).unwrap(), "t").unwrap();
        assert_eq!(two.shards(KEY), ["shard1", "shard2"]);
        // A config without nodes gets kind's default control plane before its workers.
        let bare =
            KindConfig::parse(&with_shard_workers("name: x\n", &shards[..1], KEY).unwrap(), "t").unwrap();
        assert_eq!(bare.node_names(), ["x-control-plane", "x-worker"]);
    }

    #[test]
    fn the_node_list_is_what_kind_registers() {
        let list = KindConfig::builtin().node_list();
        let items = list["items"].as_array().unwrap();
        let names: Vec<&str> = items.iter().map(|n| n["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, KindConfig::builtin().node_names());
        let cp = &items[0];
        assert_eq!(cp["spec"]["taints"][0]["key"], "node-role.kubernetes.io/control-plane");
        assert_eq!(cp["metadata"]["labels"]["node-role.kubernetes.io/control-plane"], "");
        assert_eq!(items[2]["metadata"]["labels"][KEY], "shard2");
        assert_eq!(items[2]["metadata"]["labels"]["kubernetes.io/hostname"], "shardwatch-worker2");
        assert!(items[2]["spec"]["taints"].is_null());
        assert_eq!(items[2]["metadata"]["annotations"]["kwok.x-k8s.io/node"], "fake");
    }
}
