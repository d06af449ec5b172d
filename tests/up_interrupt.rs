//! Interrupting `up --target local` while it builds the control plane (Ctrl-C: SIGINT)
//! leaves no process of ours behind: not the build script, not a `go` command it runs.
//! Uses a fresh cache folder, so the build really starts; needs `go` and `bash` (the
//! local target's own requirements) and is skipped outside CI when `go` is missing.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Pids of the processes whose environment holds `marker` (every process `up` starts
/// inherits its environment, whatever its command line).
fn processes_with(marker: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != std::process::id())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|kv| kv == marker.as_bytes()))
        })
        .collect()
}

#[test]
fn interrupting_up_during_the_first_build_leaves_no_process_of_ours() {
    if support::local_target_tools_missing() {
        return;
    }
    let cache = std::env::temp_dir().join(support::unique_name("interrupted-up-cache"));
    std::fs::create_dir_all(&cache).unwrap();
    let marker = format!("SHARDWATCH_CACHE={}", cache.display());
    let mut up = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .args(["--log-file", "/dev/null", "up", "--target", "local", "--no-tui", "--no-kubeconfig-update"])
        .env("SHARDWATCH_CACHE", &cache)
        .env("SHARDWATCH_CLUSTER_NAME", support::unique_name("interrupted"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run shardwatch up");

    // Wait for the build to be under way: its status line names the first component.
    let mut seen = String::new();
    let mut stderr = BufReader::new(up.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut line = String::new();
    while Instant::now() < deadline && stderr.read_line(&mut line).is_ok_and(|n| n > 0) {
        seen.push_str(&line);
        if line.contains("building kwok (1 of 6)") {
            break;
        }
        line.clear();
    }
    assert!(seen.contains("building kwok (1 of 6)"), "the build did not start:\n{seen}");
    assert!(!processes_with(&marker).is_empty(), "the build runs as processes of ours");

    // Ctrl-C.
    let ok = Command::new("kill").args(["-INT", &up.id().to_string()]).status().is_ok_and(|s| s.success());
    assert!(ok, "kill -INT");
    let status = up.wait().unwrap();
    assert_eq!(status.code(), Some(130), "up exits as interrupted");
    support::wait_until(Duration::from_secs(10), "no process of ours left", || {
        match processes_with(&marker).as_slice() {
            [] => Ok(()),
            left => Err(format!("still running: {left:?}")),
        }
    });
    let _ = std::fs::remove_dir_all(&cache);
}
