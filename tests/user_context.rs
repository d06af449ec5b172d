//! `up --target local` puts a `kwok-shardwatch` context into the user's kubeconfig (the
//! first file of KUBECONFIG here) and makes it current, as kind does, so a new shell's
//! kubectl reaches the cluster; `down` takes it out again and leaves the user's other
//! contexts alone. `down` stops the whole local world, so this test has a binary of its
//! own (cargo runs test binaries one at a time) and starts the cluster again at the end.
//! Needs `tests/localcluster/cluster.sh start`.

mod support;

use std::path::Path;
use std::process::Command;

use support::Cluster;

const CONTEXT: &str = "kwok-shardwatch";

/// A user's kubeconfig with one context of its own.
const USER_KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: elsewhere\n  cluster:\n    \
     server: https://127.0.0.1:1\ncontexts:\n- name: elsewhere\n  context:\n    cluster: elsewhere\n    \
     user: someone\ncurrent-context: elsewhere\nusers:\n- name: someone\n  user: {}\n";

/// Runs shardwatch as a user would in a new shell: no --kubeconfig, KUBECONFIG = `user`.
fn shardwatch(user: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .args(["--log-file", "/dev/null"])
        .args(args)
        .env("KUBECONFIG", user)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run shardwatch");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// kubectl as a new shell runs it: only KUBECONFIG = `user`.
fn kubectl(cluster: &Cluster, user: &Path, args: &[&str]) -> Result<String, String> {
    let out =
        Command::new(&cluster.kubectl).args(args).env("KUBECONFIG", user).output().expect("run kubectl");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// Starts the cluster again for the test binaries after this one, however the test ends.
struct StartAgain;

impl Drop for StartAgain {
    fn drop(&mut self) {
        let ok = Command::new(support::cluster_script()).arg("start").status().is_ok_and(|s| s.success());
        if !ok {
            eprintln!("could not start the local cluster again (tests/localcluster/cluster.sh start)");
        }
    }
}

#[test]
fn up_makes_kwok_shardwatch_the_current_context_and_down_takes_it_out() {
    let Some(cluster) = support::cluster() else { return };
    let dir = std::env::temp_dir().join(support::unique_name("user-kubeconfig"));
    std::fs::create_dir_all(&dir).unwrap();
    let user = dir.join("config");
    std::fs::write(&user, USER_KUBECONFIG).unwrap();

    let (code, out) = shardwatch(&user, &["up", "--target", "local", "--no-tui", "--no-flux-controllers"]);
    assert_eq!(code, 0, "up:\n{out}");
    assert_eq!(kubectl(&cluster, &user, &["config", "current-context"]).unwrap(), CONTEXT);
    let nodes = kubectl(&cluster, &user, &["get", "nodes", "-o", "name"]).unwrap();
    assert!(nodes.lines().count() >= 4 && nodes.contains("node/shardwatch-worker2"), "{nodes}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&user).unwrap().permissions().mode() & 0o777, 0o600, "written 0600");

    let _start_again = StartAgain;
    let (code, out) = shardwatch(&user, &["down", "--target", "local"]);
    assert_eq!(code, 0, "down:\n{out}");
    let contexts = kubectl(&cluster, &user, &["config", "get-contexts", "-o", "name"]).unwrap();
    assert_eq!(contexts, "elsewhere", "only the user's own context is left");
    assert!(kubectl(&cluster, &user, &["config", "current-context"]).is_err_and(|e| e.contains("not set")));
    std::fs::remove_dir_all(&dir).unwrap();
}
