//! shardwatch's cache folder, outside any repository: the local world's binaries (keyed
//! by version), its clusters, `up`'s records, the scale harness's peers.

use std::path::PathBuf;

/// `SHARDWATCH_CACHE`, else `$XDG_CACHE_HOME/shardwatch` or `~/.cache/shardwatch`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("SHARDWATCH_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("shardwatch")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/shardwatch")))
        .unwrap_or_else(|| std::env::temp_dir().join("shardwatch"))
}
