//! What `up` stood up, recorded in the cache per local-world instance
//! (`SHARDWATCH_CLUSTER_NAME`, default `shardwatch`), so that `down`, `chaos` and the
//! dashboard act on the target `up` resolved (kind when it picked kind by itself) rather
//! than on a default, and the local scripts read the same cluster shape `up` used.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where the stack goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpTarget {
    /// A kind cluster from kind-config.yaml (needs kind and Docker).
    Kind,
    /// The project's local control plane (no Docker needed).
    Local,
    /// The current kube context, untouched except for what Flux needs.
    Current,
}

/// The record of one `up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoodUp {
    /// The target `up` resolved.
    pub target: UpTarget,
    /// The kind cluster's name (kind) or the local cluster's (local); empty for current.
    pub cluster: String,
    /// The kind config (as reshaped for the shards) the cluster was made from.
    pub kind_config: Option<PathBuf>,
    /// The context `up` added to the user's kubeconfig, and that file (None: left alone).
    pub user_context: Option<(String, PathBuf)>,
    /// The shard label key (`--shard-label`), which the local controller sets select by.
    #[serde(default)]
    pub shard_label: Option<String>,
}

/// The instance this environment names: `SHARDWATCH_CLUSTER_NAME`, else `shardwatch`.
pub fn instance() -> String {
    std::env::var("SHARDWATCH_CLUSTER_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "shardwatch".into())
}

/// Where the record of `instance` is kept under `cache`.
pub fn path_in(cache: &Path, instance: &str) -> PathBuf {
    cache.join("stood-up").join(format!("{instance}.json"))
}

fn path() -> PathBuf {
    path_in(&crate::cache::cache_dir(), &instance())
}

/// Records `up`'s outcome (a record that cannot be written only costs the defaults later).
pub fn record(stood: &StoodUp) -> std::io::Result<()> {
    write_to(&path(), stood)
}

/// Writes `stood` to `file`.
pub fn write_to(file: &Path, stood: &StoodUp) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(file, serde_json::to_vec_pretty(stood).map_err(std::io::Error::other)?)
}

/// The last `up`'s record in this instance, if any.
pub fn read() -> Option<StoodUp> {
    read_from(&path())
}

/// The record in `file`, if it is there and readable.
pub fn read_from(file: &Path) -> Option<StoodUp> {
    serde_json::from_slice(&std::fs::read(file).ok()?).ok()
}

/// Forgets the record (after `down`).
pub fn forget() {
    let _ = std::fs::remove_file(path());
}

/// The target `down` acts on: the one given, else the one `up` recorded, else local.
pub fn down_target(given: Option<UpTarget>, recorded: Option<&StoodUp>) -> UpTarget {
    given.or(recorded.map(|r| r.target)).unwrap_or(UpTarget::Local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_decides_downs_default_target() {
        let dir = std::env::temp_dir().join(format!("sw-stood-up-{}", std::process::id()));
        let file = path_in(&dir, "kindpath");
        assert!(file.ends_with("stood-up/kindpath.json"));
        assert_eq!(read_from(&file), None);
        let kind = StoodUp {
            target: UpTarget::Kind,
            cluster: "shardwatch".into(),
            kind_config: Some("/c/kind-config.yaml".into()),
            user_context: Some(("kind-shardwatch".into(), "/home/u/.kube/config".into())),
            shard_label: None,
        };
        write_to(&file, &kind).unwrap();
        assert_eq!(read_from(&file), Some(kind.clone()));
        assert!(std::fs::read_to_string(&file).unwrap().contains("\"target\": \"kind\""));
        // `up` picked kind by itself: a plain `down` deletes the kind cluster.
        assert_eq!(down_target(None, Some(&kind)), UpTarget::Kind);
        assert_eq!(down_target(Some(UpTarget::Local), Some(&kind)), UpTarget::Local);
        assert_eq!(down_target(None, None), UpTarget::Local);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
