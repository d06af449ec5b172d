//! The infrastructure layer `up` applies: three Kustomizations, one per shard, chained
//! with `dependsOn`, and the GitRepository they read. Online, they sync the Helm charts
//! of `manifests/infrastructure` from a repository the user names; offline (the local
//! target's own Git server), `manifests/clusters/offline` uses the project's stand-in chart.
//!
//! The manifests are written for the seed's three shards and label key. [`LayerShards`]
//! spreads them over the shards that exist with the configured key: the Kustomizations'
//! own labels are rewritten here, and what they apply (HelmRepositories, GitRepositories,
//! HelmReleases and their charts) is labelled through postBuild substitution of
//! `SHARDWATCH_SHARD_KEY` and `SHARDWATCH_SHARD1..3`, whose defaults in the manifests are
//! the seed's, so the files still work when applied by hand.

use color_eyre::eyre::{Result, WrapErr, eyre};
use serde_json::{Value, json};

use super::manifest_tree;

/// The online layer's Kustomizations, compiled in from `manifests/`.
pub const ONLINE: &str = include_str!("../../manifests/clusters/local/infrastructure.yaml");

/// Where the offline layer's Kustomizations sit in the embedded `manifests/` tree.
const OFFLINE_PATH: &str = "clusters/offline/infrastructure.yaml";

/// The Kustomization whose postBuild substitution carries the served repository's URL.
const URL_CARRIER: &str = "infra-sources";

/// The substitution variable the offline sources use for their `url`.
pub const GIT_URL_VAR: &str = "SHARDWATCH_GIT_URL";

/// The GitRepository every layer Kustomization reads.
pub const SOURCE_NAME: &str = "shardwatch-infra";

/// The substitution variable holding the shard label key.
pub const SHARD_KEY_VAR: &str = "SHARDWATCH_SHARD_KEY";

/// The seed's label key, which the manifests are written with.
const SEED_KEY: &str = "sharding.fluxcd.io/key";

/// How many shards the manifests are written for (`shard1..3`).
const SEED_SHARDS: usize = 3;

/// The shards the layer is spread over and the label key that assigns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerShards {
    /// The shards that exist, in order (at least one).
    pub shards: Vec<String>,
    /// The label key (`--shard-label`).
    pub key: String,
}

impl LayerShards {
    /// The shard that plays the seed's `shard<n>` (1-based): the shards in turn, so with
    /// two shards the third layer goes back to the first, and with five the last two hold none.
    pub fn seed(&self, n: usize) -> &str {
        &self.shards[(n.max(1) - 1) % self.shards.len()]
    }

    /// The postBuild variables every layer Kustomization substitutes.
    fn variables(&self) -> Vec<(String, String)> {
        let mut vars = vec![(SHARD_KEY_VAR.to_string(), self.key.clone())];
        vars.extend((1..=SEED_SHARDS).map(|n| (format!("SHARDWATCH_SHARD{n}"), self.seed(n).to_string())));
        vars
    }

    /// Relabels the layer's Kustomizations and GitRepository for the real shards and key,
    /// and gives every Kustomization the substitution variables.
    pub fn apply_to(&self, layer: &mut [Value]) {
        for o in layer.iter_mut() {
            let labels = &mut o["metadata"]["labels"];
            let seed_shard = labels.get(SEED_KEY).and_then(Value::as_str).map(str::to_string);
            if let (Some(seed_shard), Some(map)) = (seed_shard, labels.as_object_mut()) {
                map.remove(SEED_KEY);
                let n = seed_shard.strip_prefix("shard").and_then(|d| d.parse().ok()).unwrap_or(1);
                map.insert(self.key.clone(), json!(self.seed(n)));
            }
            if o["kind"] == "Kustomization" {
                for (var, value) in self.variables() {
                    o["spec"]["postBuild"]["substitute"][var] = json!(value);
                }
            }
        }
    }
}

/// Where the GitRepository points and how it authenticates.
pub struct Source<'a> {
    /// Repository URL.
    pub url: &'a str,
    /// Branch.
    pub branch: &'a str,
    /// Whether a Secret `shardwatch-infra-auth` holds credentials for it.
    pub with_secret: bool,
}

/// The GitRepository the infrastructure Kustomizations read, labelled for the first shard.
pub fn infra_source(source: &Source, namespace: &str, label_key: &str, first_shard: &str) -> Value {
    let mut spec = json!({
        "interval": "1m",
        "url": source.url,
        "ref": { "branch": source.branch },
    });
    if source.with_secret {
        spec["secretRef"] = json!({ "name": "shardwatch-infra-auth" });
    }
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {
            "name": SOURCE_NAME,
            "namespace": namespace,
            "labels": { label_key: first_shard },
        },
        "spec": spec,
    })
}

/// The online layer in `namespace`, its paths moved under the repository's `git_path`.
pub fn online(namespace: &str, git_path: &str) -> Result<Vec<Value>> {
    let mut layer = super::parse_documents(ONLINE).wrap_err("parsing the built-in infrastructure layer")?;
    for o in &mut layer {
        o["metadata"]["namespace"] = json!(namespace);
        if let Some(path) = o["spec"]["path"].as_str() {
            o["spec"]["path"] = json!(relocate(path, git_path));
        }
    }
    Ok(layer)
}

/// The offline layer in `namespace`, with `infra-sources` substituting `git_url` into the
/// GitRepositories it creates (so they read the same server as the layer itself).
pub fn offline(namespace: &str, git_url: &str) -> Result<Vec<Value>> {
    let text = manifest_tree::text(OFFLINE_PATH)
        .ok_or_else(|| eyre!("manifests/{OFFLINE_PATH} is not compiled into this shardwatch"))?;
    with_git_url(text, namespace, git_url)
}

/// Parses a layer and sets its namespace and the URL substitution (the pure core of [`offline`]).
pub fn with_git_url(text: &str, namespace: &str, git_url: &str) -> Result<Vec<Value>> {
    let mut layer = super::parse_documents(text).wrap_err("parsing the offline infrastructure layer")?;
    for o in &mut layer {
        o["metadata"]["namespace"] = json!(namespace);
    }
    let carrier = layer
        .iter_mut()
        .find(|o| o["kind"] == "Kustomization" && o["metadata"]["name"] == URL_CARRIER)
        .ok_or_else(|| eyre!("the offline layer has no Kustomization {URL_CARRIER}"))?;
    // Indexing a JSON null with a key makes it an object, so missing levels appear.
    carrier["spec"]["postBuild"]["substitute"][GIT_URL_VAR] = json!(git_url);
    Ok(layer)
}

/// Moves a built-in `./manifests/...` path under the repository's `git_path`.
pub fn relocate(path: &str, git_path: &str) -> String {
    let rest = path.strip_prefix("./manifests").unwrap_or(path);
    let base = git_path.trim_end_matches('/');
    let base =
        if base.starts_with("./") || base.starts_with('/') { base.to_string() } else { format!("./{base}") };
    format!("{base}{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(layer: &[Value]) -> Vec<&str> {
        layer.iter().map(|o| o["metadata"]["name"].as_str().unwrap()).collect()
    }

    fn shards(layer: &[Value]) -> Vec<&str> {
        layer.iter().map(|o| o["metadata"]["labels"]["sharding.fluxcd.io/key"].as_str().unwrap()).collect()
    }

    #[test]
    fn the_layer_goes_round_the_shards_that_exist_with_the_configured_key() {
        let two = LayerShards { shards: vec!["shard1".into(), "shard2".into()], key: "example.com/s".into() };
        let mut layer = offline("flux-system", "http://h/r.git").unwrap();
        two.apply_to(&mut layer);
        let on = |o: &Value| o["metadata"]["labels"]["example.com/s"].as_str().unwrap().to_string();
        assert_eq!(layer.iter().map(on).collect::<Vec<_>>(), ["shard1", "shard2", "shard1"]);
        assert!(layer.iter().all(|o| o["metadata"]["labels"].get("sharding.fluxcd.io/key").is_none()));
        let vars = &layer[1]["spec"]["postBuild"]["substitute"];
        assert_eq!(vars["SHARDWATCH_SHARD_KEY"], "example.com/s");
        assert_eq!(
            (vars["SHARDWATCH_SHARD1"].as_str(), vars["SHARDWATCH_SHARD3"].as_str()),
            (Some("shard1"), Some("shard1"))
        );
        // The carrier keeps its URL beside the shard variables.
        assert_eq!(layer[0]["spec"]["postBuild"]["substitute"][GIT_URL_VAR], "http://h/r.git");
        let five = LayerShards { shards: (1..=5).map(|i| format!("shard{i}")).collect(), key: "k".into() };
        assert_eq!((five.seed(1), five.seed(2), five.seed(3)), ("shard1", "shard2", "shard3"));
        let one = LayerShards { shards: vec!["only".into()], key: "k".into() };
        assert_eq!((one.seed(1), one.seed(3)), ("only", "only"));
    }

    #[test]
    fn what_the_layers_apply_is_labelled_by_substitution_with_the_seed_as_default() {
        // Every shard label inside the synced manifests is a variable, so nothing in them
        // is pinned to shard1..3 or to the default key.
        for (path, bytes) in manifest_tree::FILES {
            let text = String::from_utf8_lossy(bytes);
            if path.starts_with("clusters/") || !path.ends_with(".yaml") {
                continue;
            }
            for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
                assert!(!line.contains("sharding.fluxcd.io/key:"), "{path}: a fixed shard label: {line}");
                if line.contains("SHARDWATCH_SHARD_KEY") {
                    assert!(
                        line.contains(
                            "\"${SHARDWATCH_SHARD_KEY:=sharding.fluxcd.io/key}\": \"${SHARDWATCH_SHARD"
                        ),
                        "{path}: {line}"
                    );
                }
            }
        }
    }

    #[test]
    fn relocates_the_layer_paths_under_the_git_path() {
        assert_eq!(
            relocate("./manifests/infrastructure/sources", "./manifests"),
            "./manifests/infrastructure/sources"
        );
        assert_eq!(
            relocate("./manifests/infrastructure/sources", "deploy/flux/"),
            "./deploy/flux/infrastructure/sources"
        );
    }

    #[test]
    fn the_online_layer_is_a_dependency_chain_across_shards() {
        let objs = online("flux-system", "./manifests").unwrap();
        assert_eq!(names(&objs), ["infra-sources", "infra-controllers", "infra-configs"]);
        assert_eq!(objs[1]["spec"]["dependsOn"][0]["name"], "infra-sources");
        assert_eq!(objs[2]["spec"]["dependsOn"][0]["name"], "infra-controllers");
        assert_eq!(shards(&objs), ["shard1", "shard2", "shard3"]);
    }

    #[test]
    fn the_offline_layer_is_the_same_chain_reading_the_served_url() {
        let url = "http://127.0.0.1:40000/shardwatch-infra.git";
        let objs = offline("flux", url).unwrap();
        assert_eq!(names(&objs), ["infra-sources", "infra-controllers", "infra-configs"]);
        assert_eq!(shards(&objs), ["shard1", "shard2", "shard3"]);
        assert_eq!(objs[1]["spec"]["dependsOn"][0]["name"], "infra-sources");
        assert_eq!(objs[2]["spec"]["dependsOn"][0]["name"], "infra-controllers");
        assert!(objs.iter().all(|o| o["metadata"]["namespace"] == "flux"));
        assert!(objs.iter().all(|o| o["spec"]["sourceRef"]["name"] == SOURCE_NAME));
        assert_eq!(objs[0]["spec"]["postBuild"]["substitute"][GIT_URL_VAR], url);
        assert_eq!(objs[0]["spec"]["path"], "./manifests/offline/sources");
        // Only the carrier substitutes: the others keep their own postBuild (none).
        assert!(objs[1]["spec"]["postBuild"].is_null());
    }

    #[test]
    fn the_url_substitution_is_added_when_the_layer_has_none_and_keeps_other_variables() {
        let text = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n\
                    metadata: {name: infra-sources}\nspec: {path: ./x}\n";
        let objs = with_git_url(text, "ns", "http://h/r.git").unwrap();
        assert_eq!(objs[0]["spec"]["postBuild"]["substitute"][GIT_URL_VAR], "http://h/r.git");
        let text = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n\
                    metadata: {name: infra-sources}\n\
                    spec: {postBuild: {substitute: {OTHER: a, SHARDWATCH_GIT_URL: old}}}\n";
        let objs = with_git_url(text, "ns", "http://h/r.git").unwrap();
        assert_eq!(objs[0]["spec"]["postBuild"]["substitute"]["OTHER"], "a");
        assert_eq!(objs[0]["spec"]["postBuild"]["substitute"][GIT_URL_VAR], "http://h/r.git");
        assert!(with_git_url("kind: ConfigMap\nmetadata: {name: x}\n", "ns", "u").is_err());
    }

    #[test]
    fn the_source_is_labelled_for_the_first_shard_and_names_its_secret_only_when_asked() {
        let plain = Source { url: "http://h/r.git", branch: "main", with_secret: false };
        let s = infra_source(&plain, "flux-system", "sharding.fluxcd.io/key", "shard1");
        assert_eq!(s["metadata"]["name"], SOURCE_NAME);
        assert_eq!(s["metadata"]["labels"]["sharding.fluxcd.io/key"], "shard1");
        assert_eq!(s["spec"]["ref"]["branch"], "main");
        assert!(s["spec"]["secretRef"].is_null());
        let auth = Source { with_secret: true, ..plain };
        let s = infra_source(&auth, "flux-system", "sharding.fluxcd.io/key", "shard1");
        assert_eq!(s["spec"]["secretRef"]["name"], "shardwatch-infra-auth");
    }
}
