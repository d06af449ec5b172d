//! `shardwatch snapshot --follow` as a test sees it: the real binary streaming one JSON
//! snapshot per change, read on a thread, waited on with a deadline. It keeps the model's
//! memory across a failover (the timeline), which one-shot `snapshot` runs cannot.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::Cluster;

/// A running `snapshot --follow`; killed on drop.
pub struct Follow {
    child: Child,
    lines: Receiver<Value>,
    /// The newest snapshot received.
    pub last: Value,
}

impl Follow {
    /// Starts following the cluster's Flux namespace (all Flux objects' namespaces).
    pub fn start(cluster: &Cluster, extra: &[&str]) -> Follow {
        let mut child = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .args(["--log-file", "/dev/null"])
            .args(extra)
            .args(["snapshot", "--follow"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run shardwatch snapshot --follow");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    Err(e) => panic!("snapshot --follow printed a line that is not JSON ({e}): {line}"),
                }
            }
        });
        Follow { child, lines, last: Value::Null }
    }

    /// Reads snapshots until `check` accepts one, or panics after `deadline` naming `what`
    /// and what `check` said of the last snapshot.
    pub fn wait_for<T>(
        &mut self,
        deadline: Duration,
        what: &str,
        mut check: impl FnMut(&Value) -> Result<T, String>,
    ) -> T {
        let start = Instant::now();
        let mut last_err = match check(&self.last) {
            Ok(v) if !self.last.is_null() => return v,
            Ok(_) => "no snapshot yet".to_string(),
            Err(e) => e,
        };
        loop {
            let left = deadline.saturating_sub(start.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    self.last = v;
                    match check(&self.last) {
                        Ok(t) => return t,
                        Err(e) => last_err = e,
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("timed out after {deadline:?} waiting for {what}; last seen: {last_err}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("snapshot --follow ended while waiting for {what}; last seen: {last_err}")
                }
            }
        }
    }
}

impl Follow {
    /// Sends `signal` (e.g. `TERM`) and waits up to `within` for the process to end;
    /// its exit status, or None when it was still running (then it is killed on drop).
    pub fn stop_with(&mut self, signal: &str, within: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill").args(["-s", signal, &self.child.id().to_string()]).status();
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The shard named `name` in a snapshot.
pub fn shard<'a>(snap: &'a Value, name: &str) -> Result<&'a Value, String> {
    snap["shards"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .ok_or_else(|| format!("no shard {name} in the snapshot"))
}

/// A shard's health word (`Healthy`, `Degraded`, `Down`, `Unknown`).
pub fn shard_health(snap: &Value, name: &str) -> Result<String, String> {
    Ok(shard(snap, name)?["health"].as_str().unwrap_or_default().to_string())
}

/// The assignment entry of Flux object `kind/namespace/name`.
pub fn assigned<'a>(snap: &'a Value, kind: &str, namespace: &str, name: &str) -> Result<&'a Value, String> {
    snap["assignment"]["shards"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["objects"].as_array().into_iter().flatten())
        .chain(snap["assignment"]["orphans"].as_array().into_iter().flatten())
        .find(|o| o["key"]["kind"] == kind && o["key"]["namespace"] == namespace && o["key"]["name"] == name)
        .ok_or_else(|| format!("{kind}/{namespace}/{name} is not in the snapshot's assignment"))
}
