//! One `up` per cluster at a time: a file lock in the cache, held for the whole run. The
//! second `up` is refused naming who holds it (pid, since when). The kernel releases the
//! lock when its holder ends in any way, SIGKILL included, so a dead `up` never blocks.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};

/// Held while `up` runs; dropping it releases the lock.
#[derive(Debug)]
pub struct UpLock {
    _file: File,
}

/// Another `up` holds the lock of the same cluster (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpLocked {
    /// The cluster, as `up` names it (`local cluster swguard`, `kind cluster shardwatch`, ...).
    pub cluster: String,
    /// What the holder wrote: its pid and since when, if it got to write them.
    pub holder: Option<(u32, String)>,
    /// The lock file.
    pub file: PathBuf,
}

impl std::fmt::Display for UpLocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.holder {
            Some((pid, since)) => write!(
                f,
                "another `shardwatch up` (pid {pid}, running since {since}) is standing up {}; \
                 wait for it to finish, or stop it (kill {pid}) and run `up` again",
                self.cluster
            ),
            None => write!(
                f,
                "another `shardwatch up` is standing up {} (lock {}); wait for it to finish",
                self.cluster,
                self.file.display()
            ),
        }
    }
}

impl std::error::Error for UpLocked {}

/// The lock file of `cluster` (`local-NAME`, `kind-NAME`, `current-CONTEXT`) under `cache`.
pub fn lock_path(cache: &Path, cluster: &str) -> PathBuf {
    let safe: String = cluster
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect();
    cache.join("locks").join(format!("up-{safe}.lock"))
}

/// Takes the lock of `cluster` (named `shown` to the user), or says who holds it.
pub fn acquire(cache: &Path, cluster: &str, shown: &str) -> color_eyre::Result<UpLock> {
    let path = lock_path(cache, cluster);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Never truncated on open: the holder's line must survive a refused attempt.
    let mut file = File::options().read(true).write(true).create(true).truncate(false).open(&path)?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {
            file.set_len(0)?;
            file.rewind()?;
            let since = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
            writeln!(file, "{} {since}", std::process::id())?;
            file.flush()?;
            Ok(UpLock { _file: file })
        }
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            Err(UpLocked { cluster: shown.to_string(), holder: holder(&text), file: path }.into())
        }
        Err(e) => Err(color_eyre::eyre::eyre!("locking {}: {e}", path.display())),
    }
}

/// The holder's "PID SINCE" line.
fn holder(text: &str) -> Option<(u32, String)> {
    let (pid, since) = text.trim().split_once(' ')?;
    Some((pid.parse().ok()?, since.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_naming_the_holder_until_the_holder_lets_go() {
        let cache = std::env::temp_dir().join(format!("sw-up-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&cache);
        let held = acquire(&cache, "local-a", "local cluster a").unwrap();
        let refused = acquire(&cache, "local-a", "local cluster a").unwrap_err();
        let locked = refused.downcast_ref::<UpLocked>().expect("an UpLocked");
        let (pid, since) = locked.holder.clone().expect("the holder's line");
        assert_eq!(pid, std::process::id());
        assert!(since.ends_with('Z') && since.len() == 20, "{since}");
        let line = locked.to_string();
        assert!(line.contains(&format!("pid {pid}, running since {since}")), "{line}");
        assert!(line.contains("is standing up local cluster a;"), "{line}");
        assert!(acquire(&cache, "local-b", "local b").is_ok(), "another cluster has its own lock");
        drop(held);
        assert!(acquire(&cache, "local-a", "local a").is_ok(), "released with its holder");
        std::fs::remove_dir_all(&cache).unwrap();
    }

    #[test]
    fn lock_names_stay_inside_the_locks_folder() {
        let p = lock_path(Path::new("/c"), "current-../x y");
        assert_eq!(p, Path::new("/c/locks/up-current-.._x_y.lock"));
        assert_eq!(holder("12 2026-01-01T00:00:00Z\n"), Some((12, "2026-01-01T00:00:00Z".into())));
        assert_eq!(holder(""), None);
    }
}
