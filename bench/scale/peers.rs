//! k9s and kdash, built from their published sources into a cache outside the repository,
//! keyed by version, the first time they are needed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// k9s, from the Go module proxy.
pub const K9S_VERSION: &str = "v0.50.16";
/// kdash, from crates.io.
pub const KDASH_VERSION: &str = "2.1.1";

/// `~/.cache/shardwatch/peers` (or under `$XDG_CACHE_HOME`).
pub fn default_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"));
    cache.join("shardwatch/peers")
}

/// The k9s binary, built with `go install` when missing and `build` is set.
pub fn k9s(dir: &Path, build: bool) -> Result<PathBuf, String> {
    let bin_dir = dir.join(format!("k9s-{K9S_VERSION}"));
    let bin = bin_dir.join("k9s");
    if bin.is_file() {
        return Ok(bin);
    }
    if !build {
        return Err(format!("{} missing (run without --no-build-peers to build it)", bin.display()));
    }
    eprintln!("building k9s {K9S_VERSION} into {} (about 10 min on 2 cores)", bin_dir.display());
    let status = Command::new("nice")
        .args(["-n", "10", "go", "install", &format!("github.com/derailed/k9s@{K9S_VERSION}")])
        .env("GOBIN", &bin_dir)
        .status();
    match status {
        Ok(s) if s.success() && bin.is_file() => Ok(bin),
        Ok(s) => Err(format!("go install github.com/derailed/k9s@{K9S_VERSION} failed ({s})")),
        Err(e) => Err(format!("cannot run go: {e}")),
    }
}

/// The kdash binary, built with `cargo install` when missing and `build` is set (in a
/// target folder of its own, so it does not hold the project's build lock).
pub fn kdash(dir: &Path, build: bool) -> Result<PathBuf, String> {
    let root = dir.join(format!("kdash-{KDASH_VERSION}"));
    let bin = root.join("bin/kdash");
    if bin.is_file() {
        return Ok(bin);
    }
    if !build {
        return Err(format!("{} missing (run without --no-build-peers to build it)", bin.display()));
    }
    eprintln!("building kdash {KDASH_VERSION} into {} (about 8 min on 2 cores)", root.display());
    let target = std::env::temp_dir().join("shardwatch-kdash-target");
    let status = Command::new("nice")
        .args(["-n", "10", "cargo", "install", "kdash", "--version", KDASH_VERSION, "--root"])
        .arg(&root)
        .env("CARGO_TARGET_DIR", target)
        .status();
    match status {
        Ok(s) if s.success() && bin.is_file() => Ok(bin),
        Ok(s) => Err(format!("cargo install kdash --version {KDASH_VERSION} failed ({s})")),
        Err(e) => Err(format!("cannot run cargo: {e}")),
    }
}
