//! What a process (and its children) costs, read from /proc: resident memory and CPU time.

use std::time::{Duration, Instant};

/// Clock ticks per second of utime/stime in /proc/PID/stat; 100 on every Linux build
/// this runs on (CONFIG_HZ does not change USER_HZ).
const TICKS: f64 = 100.0;

/// The process and all its descendants.
fn tree(pid: u32) -> Vec<u32> {
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        // /proc/PID/task/TID/children lists the children of each thread.
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for t in tasks.flatten() {
                if let Ok(c) = std::fs::read_to_string(t.path().join("children")) {
                    out.extend(c.split_whitespace().filter_map(|s| s.parse::<u32>().ok()));
                }
            }
        }
        i += 1;
    }
    out
}

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resident memory of the process tree in MB (VmRSS summed).
pub fn rss_mb(pid: u32) -> f64 {
    tree(pid).iter().map(|p| status_kb(*p, "VmRSS:")).sum::<u64>() as f64 / 1024.0
}

/// Peak resident memory of the process tree in MB (VmHWM summed).
pub fn peak_mb(pid: u32) -> f64 {
    tree(pid).iter().map(|p| status_kb(*p, "VmHWM:")).sum::<u64>() as f64 / 1024.0
}

/// utime+stime of the process tree, in seconds.
pub fn cpu_secs(pid: u32) -> f64 {
    tree(pid)
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .filter_map(|s| {
            // Fields after the command (which may hold spaces) start after the last ')'.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum::<u64>() as f64
        / TICKS
}

/// CPU used by the tree over `window`, as % of one core.
pub async fn cpu_percent(pid: u32, window: Duration) -> f64 {
    let t0 = Instant::now();
    let c0 = cpu_secs(pid);
    tokio::time::sleep(window).await;
    let c1 = cpu_secs(pid);
    100.0 * (c1 - c0) / t0.elapsed().as_secs_f64()
}

/// Whether the process still runs (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').map(|i| s[i + 2..].starts_with('Z')).map(|z| !z))
        .unwrap_or(false)
}
