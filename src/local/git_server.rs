//! The local Git server for the real Flux controllers: a bare repository
//! `shardwatch-infra.git`, branch `main`, whose content is a manifests folder placed at
//! `manifests/` (where the Kustomizations' paths expect it), served read-only over smart
//! HTTP by shardwatch itself ([`git_http`](super::git_http), `shardwatch local git-serve`)
//! as a background process. Each local cluster other than `shardwatch` keeps its own
//! folder, so two clusters' servers on one machine share no pid file.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr, bail};
use tokio::process::Command;

use rustix::process::Signal;

use super::kubelet::{alive, signal_process, write_pid_file};
use crate::cache::cache_dir;

/// The repository's name on the server.
pub const REPOSITORY: &str = "shardwatch-infra.git";
/// The hidden subcommand that serves (`shardwatch local git-serve`).
pub const SERVE_COMMAND: &str = "git-serve";

/// One cluster's Git server: its folder, port and the address it is asked to listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitServer {
    /// Its folder (repos/, server.pid, server.log, server.addr).
    pub dir: PathBuf,
    /// Its port (`SHARDWATCH_GIT_PORT`, default 19480).
    pub port: u16,
    /// The address to bind and serve on (`SHARDWATCH_GIT_ADDR`, default 127.0.0.1; `up
    /// --target kind` gives the kind network's gateway).
    pub addr: String,
}

impl GitServer {
    /// The server of cluster `name`, with the environment's port and address.
    pub fn of_cluster(name: &str) -> Self {
        let dir = if name == "shardwatch" {
            cache_dir().join("git-server")
        } else {
            cache_dir().join(format!("git-server-{name}"))
        };
        let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        Self {
            dir,
            port: env("SHARDWATCH_GIT_PORT").and_then(|p| p.parse().ok()).unwrap_or(19480),
            addr: env("SHARDWATCH_GIT_ADDR").unwrap_or_else(|| "127.0.0.1".into()),
        }
    }

    /// The repositories' folder.
    pub fn root(&self) -> PathBuf {
        self.dir.join("repos")
    }

    fn bare(&self) -> PathBuf {
        self.root().join(REPOSITORY)
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("server.pid")
    }

    /// The server's log.
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    fn addr_file(&self) -> PathBuf {
        self.dir.join("server.addr")
    }

    /// The address the running server listens on.
    fn serving_addr(&self) -> String {
        std::fs::read_to_string(self.addr_file())
            .map(|a| a.trim().to_string())
            .unwrap_or_else(|_| "127.0.0.1".into())
    }

    fn url_on(&self, addr: &str) -> String {
        format!("http://{addr}:{}/{REPOSITORY}", self.port)
    }

    /// The running server's pid (checked to be a Git server, not a reused pid).
    fn running_pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.pid_file()).ok()?.trim().parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        // git_server.py: a server an older shardwatch started, stopped all the same.
        let ours = cmdline
            .split(|b| *b == 0)
            .any(|a| a == SERVE_COMMAND.as_bytes() || a.ends_with(b"git_server.py"));
        (ours && alive(pid)).then_some(pid)
    }

    /// The repository URL while the server runs.
    pub fn url(&self) -> Option<String> {
        self.running_pid().map(|_| self.url_on(&self.serving_addr()))
    }

    /// Commits `manifests` as `manifests/` on `main` when the tree changed, in a scratch
    /// work tree with a fixed identity (the user's git config plays no part); returns the
    /// commit `main` points at.
    pub async fn publish(&self, manifests: &Path, progress: &mut dyn FnMut(&str)) -> Result<String> {
        if !manifests.is_dir() {
            bail!("no manifests folder at {}", manifests.display());
        }
        std::fs::create_dir_all(self.root())?;
        let bare = self.bare();
        if !bare.is_dir() {
            git(&["init", "-q", "--bare", "-b", "main"], &[bare.as_os_str()], None).await?;
        }
        let work = self.dir.join("work");
        let _ = std::fs::remove_dir_all(&work);
        git(&["clone", "-q"], &[bare.as_os_str(), work.as_os_str()], None).await?;
        git(&["checkout", "-q", "-B", "main"], &[], Some(&work)).await?;
        copy_tree(manifests, &work.join("manifests"))?;
        git(&["add", "-A"], &[], Some(&work)).await?;
        let has_head = git(&["rev-parse", "-q", "--verify", "HEAD"], &[], Some(&work)).await.is_ok();
        let unchanged = git(&["diff", "--cached", "--quiet"], &[], Some(&work)).await.is_ok();
        if has_head && unchanged {
            let head = git(&["rev-parse", "--short", "HEAD"], &[], Some(&work)).await?;
            progress(&format!("{} unchanged at {head}", manifests.display()));
        } else {
            let message = format!("manifests/ of shardwatch {}", env!("CARGO_PKG_VERSION"));
            git(&["-c", "commit.gpgsign=false", "commit", "-q", "-m", &message], &[], Some(&work)).await?;
            git(&["push", "-q", "origin", "main"], &[], Some(&work)).await?;
            let head = git(&["rev-parse", "--short", "HEAD"], &[], Some(&work)).await?;
            progress(&format!("published {} as {head}", manifests.display()));
        }
        let head = git(&["rev-parse", "HEAD"], &[], Some(&work)).await?;
        let _ = std::fs::remove_dir_all(&work);
        Ok(head)
    }

    /// Publishes `manifests` and serves the repository, starting the server unless it runs
    /// on the address asked for; returns the repository URL.
    pub async fn start(&self, manifests: &Path, progress: &mut dyn FnMut(&str)) -> Result<String> {
        std::fs::create_dir_all(&self.dir).wrap_err_with(|| format!("creating {}", self.dir.display()))?;
        self.publish(manifests, progress).await?;
        // A server bound to another address (loopback for the local target, the kind gateway
        // for kind) is restarted on the one asked for, so the URL given is where it listens.
        if self.running_pid().is_some() && self.serving_addr() != self.addr {
            progress(&format!("serving on {}, wanted on {}: restarting", self.serving_addr(), self.addr));
            self.stop(progress).await?;
        }
        let url = self.url_on(&self.addr);
        if let Some(pid) = self.running_pid() {
            progress(&format!("already serving {url} (pid {pid})"));
            return Ok(url);
        }
        let log = std::fs::File::options().create(true).append(true).open(self.log_file())?;
        let exe = std::env::current_exe().wrap_err("finding shardwatch's own binary")?;
        // Written before the spawn and by the server itself first thing: an `up` SIGKILLed
        // right after the spawn leaves no server the next `up` cannot see (and start a
        // second of); the address is only read while the pid file names a live server.
        std::fs::write(self.addr_file(), &self.addr)?;
        let mut command = Command::new(exe);
        command
            .args(["local", SERVE_COMMAND, "--root"])
            .arg(self.root())
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--addr")
            .arg(&self.addr)
            .arg("--pid-file")
            .arg(self.pid_file())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        super::kubelet::own_process_group(&mut command);
        let child = command.spawn().wrap_err("starting the Git server")?;
        let pid = child.id().unwrap_or_default();
        write_pid_file(&self.pid_file(), pid)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !answers(&url).await {
            if self.running_pid().is_none() {
                bail!("the Git server exited; see {}", self.log_file().display());
            }
            if Instant::now() > deadline {
                bail!("no answer on {url} after 10s; see {}", self.log_file().display());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        progress(&format!("serving {url} (pid {pid}, log {})", self.log_file().display()));
        Ok(url)
    }

    /// Stops the server if it runs.
    pub async fn stop(&self, progress: &mut dyn FnMut(&str)) -> Result<()> {
        if let Some(pid) = self.running_pid() {
            let _ = signal_process(pid, Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while alive(pid) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if alive(pid) {
                let _ = signal_process(pid, Signal::KILL);
            }
            progress(&format!("Git server stopped (pid {pid})"));
        }
        let _ = std::fs::remove_file(self.pid_file());
        Ok(())
    }
}

/// Whether `git ls-remote URL main` works.
pub async fn answers(url: &str) -> bool {
    Command::new("git")
        .args(["ls-remote", url, "refs/heads/main"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// Runs git with a fixed identity; its trimmed stdout, or the error with its stderr.
async fn git(args: &[&str], paths: &[&std::ffi::OsStr], dir: Option<&Path>) -> Result<String> {
    let mut command = Command::new("git");
    command.args(args).args(paths).stdin(Stdio::null()).kill_on_drop(true);
    for (key, value) in [
        ("GIT_AUTHOR_NAME", "shardwatch"),
        ("GIT_AUTHOR_EMAIL", "shardwatch@localhost"),
        ("GIT_COMMITTER_NAME", "shardwatch"),
        ("GIT_COMMITTER_EMAIL", "shardwatch@localhost"),
    ] {
        command.env(key, value);
    }
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let out = command.output().await.wrap_err("running git (the local Git server needs it on PATH)")?;
    if !out.status.success() {
        bail!("`git {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Replaces `to` with a copy of the tree `from`.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to)?;
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).wrap_err_with(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("shardwatch-git-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Publishes a folder, serves it with the Rust server, and clones it with git over HTTP.
    #[tokio::test]
    async fn a_published_folder_is_cloned_over_http_and_republished_only_when_changed() {
        let dir = temp("serve");
        let manifests = dir.join("in");
        std::fs::create_dir_all(manifests.join("infra")).unwrap();
        std::fs::write(manifests.join("infra/ks.yaml"), "kind: Kustomization\n").unwrap();
        let server = GitServer { dir: dir.join("server"), port: 0, addr: "127.0.0.1".into() };
        let first = server.publish(&manifests, &mut |_| {}).await.unwrap();
        let mut said = Vec::new();
        let again = server.publish(&manifests, &mut |l| said.push(l.to_string())).await.unwrap();
        assert_eq!(first, again, "an unchanged folder makes no commit");
        assert!(said[0].contains("unchanged"), "{said:?}");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(super::super::git_http::serve(server.root(), listener));
        let url = format!("http://127.0.0.1:{port}/{REPOSITORY}");
        assert!(answers(&url).await, "ls-remote of {url}");
        let clone = dir.join("clone");
        git(&["clone", "-q", &url], &[clone.as_os_str()], None).await.unwrap();
        let text = std::fs::read_to_string(clone.join("manifests/infra/ks.yaml")).unwrap();
        assert_eq!(text, "kind: Kustomization\n");
        assert_eq!(git(&["rev-parse", "HEAD"], &[], Some(&clone)).await.unwrap(), first);

        std::fs::write(manifests.join("infra/ks.yaml"), "kind: Kustomization # 2\n").unwrap();
        let second = server.publish(&manifests, &mut |_| {}).await.unwrap();
        assert_ne!(second, first);
        git(&["pull", "-q", "--ff-only"], &[], Some(&clone)).await.unwrap();
        assert_eq!(git(&["rev-parse", "HEAD"], &[], Some(&clone)).await.unwrap(), second);
        let missing = format!("http://127.0.0.1:{port}/nothing.git");
        assert!(!answers(&missing).await, "an unknown repository is not served");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
