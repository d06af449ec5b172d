//! Interrupting `up --target local` while it builds the control plane (Ctrl-C: SIGINT, or
//! SIGKILL, which no handler sees) leaves no process of ours behind: not a `go` command,
//! not a compiler it runs. Two `up` of one cluster at once: the second is refused naming
//! the first; a SIGKILLed `up`'s lock does not block the next. Uses a fresh cache folder,
//! so the build really starts; needs `go` and `bash` (the local target's own requirements)
//! and is skipped outside CI when `go` is missing.

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

/// One fresh build at a time: two would only slow each other on a loaded machine.
static BUILDS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `shardwatch up --target local --no-tui` of cluster `name` with `cache` as its cache.
fn up_command(cache: &std::path::Path, name: &str) -> Command {
    let mut up = Command::new(env!("CARGO_BIN_EXE_shardwatch"));
    up.args(["--log-file", "/dev/null", "up", "--target", "local", "--no-tui", "--no-kubeconfig-update"])
        .env("SHARDWATCH_CACHE", cache)
        .env("SHARDWATCH_CLUSTER_NAME", name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    up
}

/// Starts `up` and returns once its build is under way (its status line names the first
/// component), with `go` running as processes of ours.
fn up_building(cache: &std::path::Path, name: &str) -> std::process::Child {
    let marker = format!("SHARDWATCH_CACHE={}", cache.display());
    let mut up = up_command(cache, name).spawn().expect("run shardwatch up");
    let mut seen = String::new();
    let mut stderr = BufReader::new(up.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut line = String::new();
    while Instant::now() < deadline && stderr.read_line(&mut line).is_ok_and(|n| n > 0) {
        seen.push_str(&line);
        if line.contains("building kwok (1 of 6)") {
            break;
        }
        line.clear();
    }
    assert!(seen.contains("building kwok (1 of 6)"), "the build did not start:\n{seen}");
    // The rest of its output is drained so a full pipe never stalls it.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    support::wait_until(Duration::from_secs(60), "a `go` process of ours", || {
        let ours = processes_with(&marker);
        ours.iter().any(|pid| comm(*pid) == "go").then_some(()).ok_or_else(|| format!("ours: {ours:?}"))
    });
    up
}

/// A process's command name.
fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

fn signal(child: &std::process::Child, signal: &str) {
    let ok = Command::new("kill").args([signal, &child.id().to_string()]).status().is_ok_and(|s| s.success());
    assert!(ok, "kill {signal}");
}

/// Waits until no process carries `cache` in its environment.
fn none_left(cache: &std::path::Path) {
    let marker = format!("SHARDWATCH_CACHE={}", cache.display());
    support::wait_until(Duration::from_secs(20), "no process of ours left", || {
        match processes_with(&marker).as_slice() {
            [] => Ok(()),
            left => Err(format!(
                "still running: {:?}",
                left.iter().map(|p| format!("{p} {}", comm(*p))).collect::<Vec<_>>()
            )),
        }
    });
}

#[test]
fn interrupting_up_during_the_first_build_leaves_no_process_of_ours() {
    if support::local_target_tools_missing() {
        return;
    }
    let _one = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let cache = std::env::temp_dir().join(support::unique_name("interrupted-up-cache"));
    std::fs::create_dir_all(&cache).unwrap();
    let mut up = up_building(&cache, &support::unique_name("interrupted"));
    // Ctrl-C.
    signal(&up, "-INT");
    let status = up.wait().unwrap();
    assert_eq!(status.code(), Some(130), "up exits as interrupted");
    none_left(&cache);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn a_second_up_is_refused_and_a_killed_up_takes_its_build_with_it_and_blocks_nothing() {
    if support::local_target_tools_missing() {
        return;
    }
    let _one = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let cache = std::env::temp_dir().join(support::unique_name("killed-up-cache"));
    std::fs::create_dir_all(&cache).unwrap();
    let name = support::unique_name("killed");
    let mut first = up_building(&cache, &name);

    // A second `up` of the same cluster: refused at once, naming the first.
    let second = up_command(&cache, &name).output().expect("run a second up");
    let said = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "refused with exit code 2:\n{said}");
    assert!(said.contains(&format!("another `shardwatch up` (pid {}, running since ", first.id())), "{said}");
    assert!(said.contains(&format!("standing up local cluster {name};")), "{said}");
    assert!(!said.contains("building"), "the second one built nothing:\n{said}");

    // SIGKILL: no handler runs, yet the build's process group dies with it.
    signal(&first, "-KILL");
    let status = first.wait().unwrap();
    assert_eq!(status.code(), None, "killed by a signal");
    none_left(&cache);

    // Its lock is gone with it: the next `up` builds (and is interrupted in turn).
    let mut next = up_building(&cache, &name);
    signal(&next, "-INT");
    assert_eq!(next.wait().unwrap().code(), Some(130));
    none_left(&cache);
    let _ = std::fs::remove_dir_all(&cache);
}
