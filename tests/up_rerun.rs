//! `up --target local` interrupted at its later steps on the suite's cluster — SIGKILL
//! during the server-side apply, Ctrl-C while it waits for the Deployments, SIGKILL while it
//! starts the real controllers, Ctrl-C and SIGKILL while it starts the Git server — and
//! then run again: the rerun converges (exit 0, then a
//! further run changes nothing) and nothing is duplicated: 13 Deployments, the three layer
//! Kustomizations, one Git server and one controller supervisor for the cluster.
//! (Interrupts during the Go builds: up_interrupt.rs.) Needs the cluster and the Flux
//! controllers' binaries, like up_local.rs.

#[path = "support/real_flux.rs"]
mod real_flux;
mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::Cluster;

/// Starts `up` and returns once it printed a line containing `step` (or, with `a|b`, one
/// of them), with the lines so far.
fn up_until(cluster: &Cluster, step: &str) -> (Child, String) {
    let alternatives: Vec<&str> = step.split('|').collect();
    let mut up = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .args(["--log-file", "/dev/null", "up", "--target", "local", "--no-tui"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run shardwatch up");
    let mut stderr = BufReader::new(up.stderr.take().unwrap());
    let (mut seen, mut line) = (String::new(), String::new());
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline && stderr.read_line(&mut line).is_ok_and(|n| n > 0) {
        seen.push_str(&line);
        if alternatives.iter().any(|a| line.contains(a)) {
            break;
        }
        line.clear();
    }
    assert!(alternatives.iter().any(|a| seen.contains(a)), "up never reached {step:?}:\n{seen}");
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (up, seen)
}

fn signal(child: &Child, signal: &str) {
    let ok = Command::new("kill").args([signal, &child.id().to_string()]).status().is_ok_and(|s| s.success());
    assert!(ok, "kill {signal}");
}

/// Pids of the processes whose command line has an argument equal to `a` and one starting with `b`.
fn processes_with_args(a: &str, b: &Path) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    let b = b.to_string_lossy().into_owned();
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
            let args: Vec<String> =
                cmdline.split(|c| *c == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
            args.iter().any(|x| x == a) && args.iter().any(|x| x.starts_with(&b))
        })
        .collect()
}

fn names(cluster: &Cluster, args: &[&str]) -> Vec<String> {
    let list = cluster.get_json(args).unwrap_or_else(|e| panic!("kubectl {args:?}: {e}"));
    let mut names: Vec<String> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[test]
fn up_interrupted_at_its_later_steps_converges_on_a_rerun_with_nothing_duplicated() {
    let Some(cluster) = support::cluster() else { return };
    if let Some(why) = real_flux::flux_prerequisite_missing() {
        assert!(!support::under_ci(), "the real Flux controllers are required under CI=true: {why}");
        eprintln!("skipping: {why}");
        return;
    }
    let _nodes = support::healthy_nodes();

    let (mut up, _) = up_until(&cluster, "server-side apply (CRDs first)");
    signal(&up, "-KILL");
    assert_eq!(up.wait().unwrap().code(), None, "killed");

    let (mut up, _) = up_until(&cluster, "Deployments to be Available");
    signal(&up, "-INT");
    assert_eq!(up.wait().unwrap().code(), Some(130), "Ctrl-C exits 130");

    let (mut up, _) = up_until(&cluster, "real Flux controllers as local processes");
    signal(&up, "-KILL");
    assert_eq!(up.wait().unwrap().code(), None, "killed");

    // The Git server's start: stopped first so `up` starts it again. Ctrl-C once the
    // manifests are published (before the server is spawned), then SIGKILL once it serves
    // (the server, in its own process group, outlives `up` and is reused, not doubled).
    let stop = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .args(["--log-file", "/dev/null", "local", "git-server", "stop"])
        .status()
        .expect("shardwatch local git-server stop");
    assert!(stop.success(), "git-server stop");
    let (mut up, _) = up_until(&cluster, "manifests unchanged at|published ");
    signal(&up, "-INT");
    assert_eq!(up.wait().unwrap().code(), Some(130), "Ctrl-C exits 130");
    let (mut up, _) = up_until(&cluster, "serving http");
    signal(&up, "-KILL");
    assert_eq!(up.wait().unwrap().code(), None, "killed");

    // A second `up` is never refused by a killed one's lock, and converges.
    let log = real_flux::up(&cluster);
    assert!(log.contains("13 Deployments"), "{log}");
    let again = real_flux::up(&cluster);
    assert!(again.contains("up to date: nothing changed"), "a further run changed something:\n{again}");

    let deployments = names(&cluster, &["-n", real_flux::FLUX_NS, "get", "deployments"]);
    assert_eq!(deployments.len(), 13, "no Deployment twice or extra: {deployments:?}");
    let ks =
        names(&cluster, &["-n", real_flux::FLUX_NS, "get", "kustomizations.kustomize.toolkit.fluxcd.io"]);
    let layer: Vec<&String> = ks.iter().filter(|k| k.starts_with("infra-")).collect();
    assert_eq!(layer, ["infra-configs", "infra-controllers", "infra-sources"], "{ks:?}");

    let name = std::env::var("SHARDWATCH_CLUSTER_NAME").ok().filter(|n| !n.is_empty());
    let name = name.as_deref().unwrap_or("shardwatch");
    let git_root = shardwatch::local::git_server::GitServer::of_cluster(name).root();
    let git = processes_with_args("git-serve", &git_root);
    assert_eq!(git.len(), 1, "one Git server for {}: {git:?}", git_root.display());
    let run_dir = shardwatch::local::kubelet::run_dir_of(name);
    let supervisors = processes_with_args("kubelet", &run_dir);
    assert_eq!(supervisors.len(), 1, "one controller supervisor for {}: {supervisors:?}", run_dir.display());
}
