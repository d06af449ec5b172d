//! Logs go to a file, never to the terminal the dashboard draws on.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use color_eyre::eyre::{Result, WrapErr};

use crate::redact::RedactingWriter;

/// The default log file: `$XDG_STATE_HOME/shardwatch/shardwatch.log` or `~/.local/state/...`.
pub fn default_path() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("shardwatch").join("shardwatch.log")
}

/// Sends `tracing` output to `path` (or the default file), redacted; level from `RUST_LOG`,
/// default `info` (at `debug`, kube and hyper log requests: the redaction is what keeps
/// their credentials out).
pub fn init(path: Option<&Path>) -> Result<()> {
    let path = path.map(Path::to_path_buf).unwrap_or_else(default_path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating log folder {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .wrap_err_with(|| format!("opening log file {}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(RedactingWriter(file)))
        .try_init();
    Ok(())
}
