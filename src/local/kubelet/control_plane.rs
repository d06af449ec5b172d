//! The control plane's own processes (etcd, kube-apiserver, kube-controller-manager,
//! kube-scheduler, kwok), started once by kwokctl, which watches none of them. Like a
//! kubelet with static pods, the kubelet here starts one again, with back-off, when its
//! process is gone: kube-controller-manager and kube-scheduler exit when they lose their
//! leader election during an API server outage, and nothing else would bring them back.
//! The command line is kwokctl's own (its `kwok.yaml`); the new pid goes into kwokctl's pid
//! file, so `kwokctl delete cluster` still stops it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::process::{Child, Command};

use super::backoff::Backoff;

/// kwokctl's record of the cluster: its first YAML document.
#[derive(Debug, Deserialize)]
struct KwokctlConfiguration {
    #[serde(default)]
    components: Vec<Component>,
}

/// One process as kwokctl runs it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// kwokctl's name for it (also its pid and log file names).
    pub name: String,
    /// The binary.
    pub binary: PathBuf,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Working directory.
    #[serde(default)]
    pub work_dir: Option<PathBuf>,
}

/// Reads the components from kwokctl's `kwok.yaml` text (several documents; the first is
/// the configuration).
pub fn components(kwok_yaml: &str) -> Result<Vec<Component>, String> {
    let first = serde_norway::Deserializer::from_str(kwok_yaml).next().ok_or("kwok.yaml is empty")?;
    let config = KwokctlConfiguration::deserialize(first).map_err(|e| format!("kwok.yaml: {e}"))?;
    Ok(config.components)
}

/// Whether `pid` is a live process (not a zombie) according to `/proc`.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses, which may hold spaces.
        Ok(stat) => {
            stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
        }
        Err(_) => false,
    }
}

/// One component's supervision state.
#[derive(Default)]
struct Watched {
    child: Option<Child>,
    started: Option<Instant>,
    retry_at: Option<Instant>,
    backoff: Backoff,
}

/// Watches the components of the cluster whose kwokctl workdir is `dir`.
pub struct ControlPlane {
    dir: PathBuf,
    watched: HashMap<String, Watched>,
}

impl ControlPlane {
    /// The control plane of the kwokctl cluster in `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, watched: HashMap::new() }
    }

    fn log_file(&self, name: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{name}.log"))
    }

    fn pid_file(&self, name: &str) -> PathBuf {
        self.dir.join("pids").join(format!("{name}.pid"))
    }

    /// Starts again, after their back-off, the components whose process is gone. A cluster
    /// being deleted (no `kwok.yaml`, no pid file) is left alone. Returns what it did.
    pub fn check(&mut self, now: Instant) -> Vec<String> {
        let mut said = Vec::new();
        let Ok(text) = std::fs::read_to_string(self.dir.join("kwok.yaml")) else { return said };
        let components = match components(&text) {
            Ok(c) => c,
            Err(e) => return vec![e],
        };
        for component in components {
            let pid_file = self.pid_file(&component.name);
            let Ok(pid) = std::fs::read_to_string(&pid_file) else { continue };
            let log = self.log_file(&component.name);
            let w = self.watched.entry(component.name.clone()).or_default();
            // Our own child must be reaped, or it would linger as a zombie.
            if let Some(child) = &mut w.child
                && let Ok(Some(_)) = child.try_wait()
            {
                w.child = None;
            }
            let running = pid.trim().parse().is_ok_and(alive);
            if running {
                continue;
            }
            let Some(retry_at) = w.retry_at else {
                let ran_for = w.started.map_or(Duration::ZERO, |s| now.duration_since(s));
                let delay = w.backoff.next(ran_for);
                w.retry_at = Some(now + delay);
                said.push(format!("{} exited; starting it again in {}s", component.name, delay.as_secs()));
                if w.started.is_some() && ran_for < Duration::from_secs(30) {
                    // A restart that did not last: its last words say why.
                    said.extend(
                        last_lines(&self.log_file(&component.name), 3).into_iter().map(|l| format!("  {l}")),
                    );
                }
                continue;
            };
            if now < retry_at {
                continue;
            }
            w.retry_at = None;
            match start(&component, &log) {
                Ok(child) => {
                    let pid = child.id().unwrap_or_default();
                    if let Err(e) = std::fs::write(&pid_file, pid.to_string()) {
                        said.push(format!("writing {}: {e}", pid_file.display()));
                    }
                    w.child = Some(child);
                    w.started = Some(now);
                    said.push(format!("{} started again (pid {pid})", component.name));
                }
                Err(e) => said.push(format!("{} could not start: {e}", component.name)),
            }
        }
        said
    }
}

/// The last `n` lines of a log file (none when it cannot be read).
fn last_lines(path: &Path, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| l.chars().take(300).collect()).collect()
}

/// Starts a component as kwokctl does: its own session, output appended to its log file.
fn start(component: &Component, log: &Path) -> std::io::Result<Child> {
    let out = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
    let mut cmd = Command::new(&component.binary);
    cmd.args(&component.args).stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out);
    if let Some(dir) = &component.work_dir {
        cmd.current_dir(dir);
    }
    super::process::own_process_group(&mut cmd);
    cmd.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_come_from_the_first_document() {
        let yaml = "apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokctlConfiguration\ncomponents:\n\
                    - name: etcd\n  binary: /b/etcd\n  args: [--name=node0]\n  workDir: /w\n  ports: []\n\
                    - name: kube-scheduler\n  binary: /b/kube-scheduler\noptions: {}\n---\nkind: Stage\n";
        let c = components(yaml).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].name, "etcd");
        assert_eq!(c[0].args, ["--name=node0"]);
        assert_eq!(c[0].work_dir.as_deref(), Some(Path::new("/w")));
        assert!(c[1].args.is_empty());
    }

    #[test]
    fn this_process_is_alive_and_a_missing_one_is_not() {
        assert!(alive(std::process::id()));
        assert!(!alive(u32::MAX - 1));
    }
}
