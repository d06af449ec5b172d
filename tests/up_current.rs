//! `up --target current` on someone's cluster (here the local cluster's kubeconfig, whose
//! current context is the suite's cluster) shows what its forced server-side apply would
//! create or change (a dry run) and asks y/N naming the context and server: without a
//! terminal and without `--yes` it refuses with exit 3; answered n or Enter it applies
//! nothing; answered y it applies and the stack converges; `--yes` applies without asking;
//! a rerun with nothing to change asks nothing. Without `--no-tui` the progress screen asks
//! the same question. Each test installs into a Flux namespace of its own (the objects show
//! as "create"; a refused run leaves the namespace absent), with the real Flux CRDs (the
//! fixture's stub CRD is left out, so the suite's CRDs stay as they are), and removes what
//! it installed. Needs `tests/localcluster/cluster.sh start`.

#[path = "support/flux_stack.rs"]
mod flux_stack;
#[path = "support/pty.rs"]
mod pty;
mod support;

use std::time::Duration;

use pty::Terminal;
use serde_json::Value;
use support::Cluster;

const SCREEN: Duration = Duration::from_secs(120);
/// An applying `up`: 13 Deployments to become Available.
const CONVERGE: Duration = Duration::from_secs(240);

/// One `up` of the cluster at a time (a second would be refused by up's lock).
static UP: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Flux's install from the repository's fixture (no network, no `flux` CLI needed) without
/// its stub CRD, moved into namespace `ns`; the file's path.
fn install_yaml(ns: &str) -> String {
    let fixture = format!("{}/tests/fixtures/flux-install/install.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(fixture).expect("the install fixture");
    let docs: Vec<&str> =
        text.split("\n---\n").filter(|d| !d.contains("kind: CustomResourceDefinition")).collect();
    let path = std::env::temp_dir().join(format!("{ns}-install.yaml"));
    std::fs::write(&path, docs.join("\n---\n").replace("flux-system", ns)).expect("write the install");
    path.to_string_lossy().into_owned()
}

fn namespace_exists(cluster: &Cluster, ns: &str) -> bool {
    cluster.kubectl(&["get", "namespace", ns]).is_ok()
}

/// What one test installs into namespace `ns`, removed on drop (passed or failed).
struct Install {
    cluster: Cluster,
    ns: String,
    file: String,
}

impl Install {
    fn new(cluster: &Cluster, prefix: &str) -> Install {
        let ns = support::unique_name(prefix);
        let file = install_yaml(&ns);
        Install { cluster: cluster.clone(), ns, file }
    }

    /// The current context's name and server in the test kubeconfig.
    fn context_and_server(&self) -> (String, String) {
        let config = self.cluster.get_json(&["config", "view", "--minify"]).expect("kubectl config view");
        let context = config["current-context"].as_str().expect("a current context").to_string();
        let server = config["clusters"][0]["cluster"]["server"].as_str().expect("a server").to_string();
        (context, server)
    }

    fn args<'a>(&'a self, kubeconfig: &'a str, tail: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "--kubeconfig",
            kubeconfig,
            "--log-file",
            "/dev/null",
            "--flux-namespace",
            &self.ns,
            "up",
            "--target",
            "current",
            "--flux-manifests",
            &self.file,
            "--timeout",
            "180",
        ];
        args.extend_from_slice(tail);
        args
    }

    fn items(&self, kind: &str) -> Vec<Value> {
        let list = self.cluster.get_json(&["-n", &self.ns, "get", kind]).expect("kubectl get");
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// The stack `up` installs into the namespace: 13 Deployments, all Available, and the
    /// infrastructure layer's three Kustomizations, one per shard.
    fn assert_converged(&self) {
        let deployments = self.items("deployments");
        let mut names: Vec<&str> =
            deployments.iter().filter_map(|d| d["metadata"]["name"].as_str()).collect();
        names.sort_unstable();
        let mut expected = vec!["notification-controller".to_string()];
        for c in ["helm-controller", "kustomize-controller", "source-controller"] {
            expected.push(c.to_string());
            expected.extend((1..=3).map(|i| format!("{c}-shard{i}")));
        }
        expected.sort();
        assert_eq!(names, expected, "the sharded Deployments in {}", self.ns);
        for d in &deployments {
            assert_eq!(
                support::condition(d, "Available"),
                Some("True"),
                "{} Available",
                d["metadata"]["name"]
            );
        }
        let ks = self.items("kustomizations.kustomize.toolkit.fluxcd.io");
        let shard_of = |name: &str| {
            ks.iter()
                .find(|k| k["metadata"]["name"] == name)
                .and_then(|k| k["metadata"]["labels"]["sharding.fluxcd.io/key"].as_str())
                .map(str::to_string)
        };
        for (layer, shard) in
            [("infra-sources", "shard1"), ("infra-controllers", "shard2"), ("infra-configs", "shard3")]
        {
            assert_eq!(shard_of(layer).as_deref(), Some(shard), "Kustomization {layer} in {}", self.ns);
        }
    }
}

impl Drop for Install {
    fn drop(&mut self) {
        let ns = self.ns.as_str();
        let _ = std::fs::remove_file(&self.file);
        if namespace_exists(&self.cluster, ns) {
            let _ = self.cluster.kubectl(&["delete", "namespace", ns, "--wait=false"]);
            // A Flux controller an earlier test left running may have put its finalizer on
            // the Kustomizations; nothing removes it once the controllers stop.
            let names = self
                .cluster
                .kubectl(&["-n", ns, "get", "kustomizations.kustomize.toolkit.fluxcd.io", "-o", "name"])
                .unwrap_or_default();
            for name in names.lines().filter(|l| !l.is_empty()) {
                let _ = self.cluster.kubectl(&[
                    "-n",
                    ns,
                    "patch",
                    name,
                    "--type=merge",
                    "-p",
                    r#"{"metadata":{"finalizers":null}}"#,
                ]);
            }
            if let Err(e) =
                self.cluster.kubectl(&["wait", "--for=delete", &format!("namespace/{ns}"), "--timeout=120s"])
            {
                eprintln!("namespace {ns} not gone: {e}");
            }
        }
        let _ = self.cluster.kubectl(&[
            "delete",
            "clusterrole",
            &format!("crd-controller-{ns}"),
            "--ignore-not-found",
        ]);
        let _ = self.cluster.kubectl(&[
            "delete",
            "clusterrolebinding",
            &format!("crd-controller-{ns}"),
            &format!("cluster-reconciler-{ns}"),
            "--ignore-not-found",
        ]);
    }
}

#[test]
fn up_target_current_shows_the_dry_run_and_refuses_without_a_terminal() {
    let Some(cluster) = support::cluster() else { return };
    let _one = UP.lock().unwrap_or_else(|p| p.into_inner());
    let install = Install::new(&cluster, "sw-current");
    let args = [
        "--flux-namespace",
        &install.ns,
        "up",
        "--target",
        "current",
        "--no-tui",
        "--flux-manifests",
        &install.file,
    ];
    let (code, out, err) = cluster.shardwatch(&args);
    assert_eq!(code, 3, "refused with exit 3:\n{out}{err}");
    assert!(err.contains("what the apply would do (server-side dry run, nothing written)"), "{err}");
    assert!(err.contains("would create "), "the dry run's summary:\n{err}");
    assert!(err.contains(&format!("create Namespace/{}", install.ns)), "names what it would create:\n{err}");
    assert!(err.contains("stdin is not a terminal") && err.contains("--yes"), "{err}");
    assert!(err.contains("nothing was applied"), "{err}");
    assert!(!err.contains("server-side apply (CRDs first)"), "never reached the apply:\n{err}");
    assert!(!namespace_exists(&cluster, &install.ns), "nothing was written");
}

#[test]
fn up_target_current_asks_naming_context_and_server_and_n_or_enter_applies_nothing() {
    let Some(cluster) = support::cluster() else { return };
    let _one = UP.lock().unwrap_or_else(|p| p.into_inner());
    let install = Install::new(&cluster, "sw-current-ask");
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    let (context, server) = install.context_and_server();
    for answer in ["n\r", "\r"] {
        let args = install.args(&kubeconfig, &["--no-tui"]);
        let mut term =
            Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], 200, 60);
        let screen = term.wait_for("y/N", SCREEN);
        assert!(screen.contains("would create "), "the summary before the question:\n{screen}");
        assert!(screen.contains(&format!("Apply this to context {context} at {server}")), "{screen}");
        assert!(screen.contains("forced server-side apply"), "{screen}");
        term.send(answer);
        let screen = term.wait_for("nothing was applied", SCREEN);
        assert!(screen.contains("not confirmed"), "{answer:?}: {screen}");
        assert!(term.wait_exit(Duration::from_secs(10)), "up did not exit:\n{}", term.contents());
        assert_eq!(term.exit_code(), Some(3), "{answer:?}: exit 3");
        assert!(!namespace_exists(&cluster, &install.ns), "{answer:?}: nothing was written");
    }
}

#[test]
fn up_target_current_answered_y_applies_and_converges_and_a_rerun_asks_nothing() {
    let Some(cluster) = support::cluster() else { return };
    let _one = UP.lock().unwrap_or_else(|p| p.into_inner());
    let _nodes = support::healthy_nodes();
    flux_stack::install_flux_crds(&cluster);
    let install = Install::new(&cluster, "sw-current-y");
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    let (context, server) = install.context_and_server();
    let args = install.args(&kubeconfig, &["--no-tui"]);
    let mut term = Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], 200, 80);
    let screen = term.wait_for("y/N", SCREEN);
    assert!(screen.contains(&format!("Apply this to context {context} at {server}")), "{screen}");
    assert!(screen.contains("would create "), "{screen}");
    let ns = &install.ns;
    for what in [
        format!("create Deployment/{ns}/kustomize-controller-shard1"),
        format!("create Kustomization/{ns}/infra-sources"),
    ] {
        assert!(screen.contains(&what), "the dry run names {what}:\n{screen}");
    }
    term.send("y\r");
    assert!(term.wait_exit(CONVERGE), "up did not finish:\n{}", term.contents());
    let screen = term.contents();
    assert_eq!(term.exit_code(), Some(0), "applied:\n{screen}");
    assert!(screen.contains("server-side apply (CRDs first)"), "{screen}");
    install.assert_converged();

    // Nothing left to change: not asked, even without --yes and without a terminal to ask on.
    let (code, out, err) = cluster.shardwatch(&install.args(&kubeconfig, &["--no-tui"])[4..]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("would create 0, change 0, leave "), "the dry run finds nothing to do:\n{err}");
    assert!(err.contains("nothing would change, so nothing is asked"), "{err}");
    assert!(!err.contains("y/N"), "{err}");
    assert!(err.contains("up to date: nothing changed"), "{err}");
}

#[test]
fn up_target_current_with_yes_applies_without_asking_and_a_second_yes_changes_nothing() {
    let Some(cluster) = support::cluster() else { return };
    let _one = UP.lock().unwrap_or_else(|p| p.into_inner());
    let _nodes = support::healthy_nodes();
    flux_stack::install_flux_crds(&cluster);
    let install = Install::new(&cluster, "sw-current-yes");
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    // No terminal at all: --yes is what confirms.
    let args = install.args(&kubeconfig, &["--no-tui", "--yes"]);
    let (code, out, err) = cluster.shardwatch(&args[4..]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("would create "), "the dry run is shown anyway:\n{err}");
    assert!(!err.contains("y/N") && !err.contains("nothing was applied"), "{err}");
    install.assert_converged();
    let (code, out, err) = cluster.shardwatch(&args[4..]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("would create 0, change 0, leave "), "{err}");
    assert!(err.contains("nothing to change ("), "the apply changed nothing:\n{err}");
    assert!(err.contains("up to date: nothing changed"), "{err}");
}

#[test]
fn up_target_current_asks_on_the_progress_screen_n_refuses_and_y_proceeds() {
    let Some(cluster) = support::cluster() else { return };
    let _one = UP.lock().unwrap_or_else(|p| p.into_inner());
    let _nodes = support::healthy_nodes();
    flux_stack::install_flux_crds(&cluster);
    let install = Install::new(&cluster, "sw-current-tui");
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    let (context, server) = install.context_and_server();
    let args = install.args(&kubeconfig, &[]);
    let ask = |term: &Terminal| {
        let screen = term.wait_for("y: apply · n / Esc / q: refuse", SCREEN);
        assert!(screen.contains("shardwatch up — the sharded Flux stack"), "the progress screen:\n{screen}");
        assert!(screen.contains(&format!("Apply this to context {context} at {server}")), "{screen}");
        assert!(screen.contains("would create "), "{screen}");
        assert!(screen.contains(&format!("create Namespace/{}", install.ns)), "{screen}");
    };

    let mut term = Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], 160, 50);
    ask(&term);
    term.send("n");
    // Back on the plain terminal, which says why nothing happened.
    let screen = term.wait_for("nothing was applied", SCREEN);
    assert!(screen.contains("refusing `up --target current`: not confirmed"), "{screen}");
    assert!(term.wait_exit(Duration::from_secs(10)), "up did not exit:\n{}", term.contents());
    assert_eq!(term.exit_code(), Some(3));
    assert!(term.restored(), "the terminal is restored:\n{}", term.contents());
    assert!(!namespace_exists(&cluster, &install.ns), "nothing was written");

    let mut term = Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], 160, 50);
    ask(&term);
    term.send("y");
    term.wait_for("server-side apply (CRDs first)", SCREEN);
    // Past the wait for the Deployments, the dashboard opens on the same screen.
    term.wait_for("1 Shards   2 Placement", CONVERGE);
    // The progress screen is gone: its shards are the dashboard's, read from the namespace.
    term.wait_for("shard3", SCREEN);
    assert!(namespace_exists(&cluster, &install.ns), "applied");
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(20)), "the dashboard did not quit:\n{}", term.contents());
    assert_eq!(term.exit_code(), Some(0));
    assert!(term.restored(), "the terminal is restored:\n{}", term.contents());
    install.assert_converged();
}
