//! Faults of the local cluster's etcd for the reliability tests: paused (the apiserver
//! still answers `/version`, but lists hang) and resumed, and its history compacted (as
//! `etcdctl compact` would, through etcd's JSON gateway: etcdctl is not among the cached
//! binaries), so a watch resumed later gets 410 Gone.

use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, bail, eyre};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use rustix::process::Signal;

use super::control_plane::cluster_dir;
use super::kubelet::signal_process;

/// etcd's pid, when it runs.
fn etcd_pid(name: &str) -> Result<u32> {
    let file = cluster_dir(name).join("pids").join("etcd.pid");
    let pid: u32 = std::fs::read_to_string(&file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| eyre!("etcd of {name} is not running (no pid in {})", file.display()))?;
    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
        bail!("etcd of {name} is not running (pid {pid} is gone)");
    }
    Ok(pid)
}

/// Sends SIGSTOP (`pause`) or SIGCONT to cluster `name`'s etcd.
pub fn signal(name: &str, pause: bool, progress: &mut dyn FnMut(&str)) -> Result<()> {
    let pid = etcd_pid(name)?;
    let (sig, word) = if pause { (Signal::STOP, "paused") } else { (Signal::CONT, "resumed") };
    if let Err(e) = signal_process(pid, sig) {
        bail!("cannot signal etcd (pid {pid}): {e}");
    }
    progress(&format!("etcd of {name} {word} (pid {pid})"));
    Ok(())
}

/// Compacts cluster `name`'s etcd history up to its current revision; returns it.
pub async fn compact(name: &str, progress: &mut dyn FnMut(&str)) -> Result<i64> {
    let pid = etcd_pid(name)?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).wrap_err("reading etcd's command line")?;
    let url = cmdline
        .split(|b| *b == 0)
        .filter_map(|a| std::str::from_utf8(a).ok())
        .find_map(|a| a.strip_prefix("--advertise-client-urls="))
        .and_then(|u| u.split(',').next())
        .ok_or_else(|| eyre!("cannot find etcd's client URL in its command line"))?
        .to_string();
    let addr = url
        .strip_prefix("http://")
        .ok_or_else(|| eyre!("etcd's client URL {url} is not plain http"))?
        .trim_end_matches('/')
        .to_string();
    // Any range answers with the store's current revision in its header.
    let range = post(&addr, "/v3/kv/range", r#"{"key":"AA=="}"#).await?;
    let rev: i64 = range["header"]["revision"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .or_else(|| range["header"]["revision"].as_i64())
        .ok_or_else(|| eyre!("etcd at {url} gave no revision: {range}"))?;
    post(&addr, "/v3/kv/compaction", &format!(r#"{{"revision":"{rev}","physical":true}}"#)).await?;
    progress(&format!("etcd of {name} compacted up to revision {rev}"));
    Ok(rev)
}

/// One HTTP/1.1 POST of a JSON body to etcd's gateway; its JSON answer.
async fn post(addr: &str, path: &str, body: &str) -> Result<serde_json::Value> {
    let io = async {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), io)
        .await
        .map_err(|_| eyre!("etcd at {addr} did not answer {path} within 10 s"))?
        .wrap_err_with(|| format!("POST {path} to etcd at {addr}"))?;
    let text = String::from_utf8_lossy(&answer);
    let (head, rest) =
        text.split_once("\r\n\r\n").ok_or_else(|| eyre!("etcd's answer to {path} has no body"))?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        bail!("etcd answered {path} with {}", head.lines().next().unwrap_or_default());
    }
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        unchunk(rest)
    } else {
        rest.to_string()
    };
    serde_json::from_str(body.trim()).wrap_err_with(|| format!("etcd's answer to {path} is not JSON: {body}"))
}

/// The body of a chunked HTTP answer.
fn unchunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unchunk;

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(unchunk("4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n"), "{\"a\":1}");
        assert_eq!(unchunk("0\r\n\r\n"), "");
    }
}
