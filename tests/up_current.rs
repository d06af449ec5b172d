//! `up --target current` on someone's cluster (here the local cluster's kubeconfig as the
//! current one) shows what its forced server-side apply would create or change (a dry run)
//! and asks y/N naming the context and server; without a terminal and without `--yes` it
//! refuses with exit 3; answered "n" it applies nothing. A Flux namespace of its own shows
//! the objects as "create" and proves nothing was written (the namespace never appears).
//! Needs `tests/localcluster/cluster.sh start`.

#[path = "support/pty.rs"]
mod pty;
mod support;

use std::time::Duration;

use pty::Terminal;
use support::Cluster;

const SCREEN: Duration = Duration::from_secs(120);

/// One `up` of the cluster at a time (a second would be refused by up's lock).
static UP: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Flux's install from the repository's fixture (no network, no `flux` CLI needed), moved
/// into namespace `ns`; the file's path.
fn install_yaml(ns: &str) -> String {
    let fixture = format!("{}/tests/fixtures/flux-install/install.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(fixture).expect("the install fixture");
    let path = std::env::temp_dir().join(format!("{ns}-install.yaml"));
    std::fs::write(&path, text.replace("flux-system", ns)).expect("write the install");
    path.to_string_lossy().into_owned()
}

fn namespace_exists(cluster: &Cluster, ns: &str) -> bool {
    cluster.kubectl(&["get", "namespace", ns]).is_ok()
}

#[test]
fn up_target_current_shows_the_dry_run_and_refuses_without_a_terminal() {
    let Some(cluster) = support::cluster() else { return };
    let _one = UP.lock().unwrap_or_else(|p| p.into_inner());
    let ns = support::unique_name("sw-current");
    let install = install_yaml(&ns);
    let args =
        ["--flux-namespace", &ns, "up", "--target", "current", "--no-tui", "--flux-manifests", &install];
    let (code, out, err) = cluster.shardwatch(&args);
    assert_eq!(code, 3, "refused with exit 3:\n{out}{err}");
    assert!(err.contains("what the apply would do (server-side dry run, nothing written)"), "{err}");
    assert!(err.contains("would create "), "the dry run's summary:\n{err}");
    assert!(err.contains(&format!("create Namespace/{ns}")), "names what it would create:\n{err}");
    assert!(err.contains("stdin is not a terminal") && err.contains("--yes"), "{err}");
    assert!(err.contains("nothing was applied"), "{err}");
    assert!(!err.contains("server-side apply (CRDs first)"), "never reached the apply:\n{err}");
    assert!(!namespace_exists(&cluster, &ns), "nothing was written");
    let _ = std::fs::remove_file(&install);
}

#[test]
fn up_target_current_asks_naming_context_and_server_and_n_applies_nothing() {
    let Some(cluster) = support::cluster() else { return };
    let _one = UP.lock().unwrap_or_else(|p| p.into_inner());
    let ns = support::unique_name("sw-current-ask");
    let install = install_yaml(&ns);
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    let args = [
        "--kubeconfig",
        &kubeconfig,
        "--log-file",
        "/dev/null",
        "--flux-namespace",
        &ns,
        "up",
        "--target",
        "current",
        "--no-tui",
        "--flux-manifests",
        &install,
    ];
    let mut term = Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], 200, 60);
    let screen = term.wait_for("y/N", SCREEN);
    assert!(screen.contains("would create "), "the summary before the question:\n{screen}");
    assert!(screen.contains("Apply this to context "), "{screen}");
    assert!(screen.contains(" at https://127.0.0.1:"), "names the server:\n{screen}");
    assert!(screen.contains("forced server-side apply"), "{screen}");
    term.send("n\r");
    let screen = term.wait_for("nothing was applied", SCREEN);
    assert!(screen.contains("not confirmed"), "{screen}");
    assert!(term.wait_exit(Duration::from_secs(10)), "up did not exit:\n{}", term.contents());
    assert!(!namespace_exists(&cluster, &ns), "nothing was written");
    let _ = std::fs::remove_file(&install);
}
