//! Flux's actions and logs against the real Flux controllers on the local target:
//! `shardwatch logs` reads a real controller's lines through the pods/log API and the
//! object filter keeps only those naming the object; reconcile, suspend and resume from
//! the command line and from the dashboard are handled by the owning shard's real
//! controller; a request made while that shard is down is shown as pending, and handled
//! once it is back. Needs `tests/localcluster/cluster.sh start` and the Flux binaries.

#[path = "support/follow.rs"]
mod follow;
#[path = "support/pty.rs"]
mod pty;
#[path = "support/real_flux.rs"]
mod real_flux;
mod support;

use std::sync::Mutex;
use std::time::Duration;

use follow::{Follow, assigned};
use pty::Terminal;
use real_flux::{FLUX_NS, handled, kustomization};
use serde_json::Value;
use support::{Cluster, wait_until};

/// Node NotReady takes the grace period (10 s here); a new leader the old Lease's 35 s.
const DEADLINE: Duration = Duration::from_secs(150);
const SCREEN: Duration = Duration::from_secs(60);

/// The tests suspend objects of the shared stack and fail a node: one at a time.
static STACK: Mutex<()> = Mutex::new(());

/// The stack up with the chain Ready; the guard keeps the other tests of this binary out.
fn stack() -> Option<(Cluster, std::sync::MutexGuard<'static, ()>)> {
    let cluster = support::cluster()?;
    let guard = STACK.lock().unwrap_or_else(|p| p.into_inner());
    real_flux::up(&cluster);
    real_flux::chain_ready(&cluster);
    Some((cluster, guard))
}

/// `status.lastHandledReconcileAt` of a Kustomization.
fn last_handled(cluster: &Cluster, name: &str) -> String {
    kustomization(cluster, name)
        .map(|k| k["status"]["lastHandledReconcileAt"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

/// The annotation the last request wrote.
fn requested_at(cluster: &Cluster, name: &str) -> String {
    kustomization(cluster, name)
        .map(|k| {
            k["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].as_str().unwrap_or("").to_string()
        })
        .unwrap_or_default()
}

fn suspended(cluster: &Cluster, name: &str) -> bool {
    kustomization(cluster, name).is_ok_and(|k| k["spec"]["suspend"] == true)
}

/// Resumes a Kustomization however the test ends, so the stack is left reconciling.
struct Resume<'a>(&'a Cluster, &'static str);

impl Drop for Resume<'_> {
    fn drop(&mut self) {
        let patch = r#"{"spec":{"suspend":false}}"#;
        if let Err(e) =
            self.0.kubectl(&["-n", FLUX_NS, "patch", "kustomization", self.1, "--type=merge", "-p", patch])
        {
            eprintln!("could not resume {}: {e}", self.1);
        }
    }
}

#[test]
fn logs_read_the_real_controller_and_the_object_filter_keeps_only_its_lines() {
    let Some((cluster, _stack)) = stack() else { return };
    // A fresh request, so the controller has just logged lines about the object.
    let (code, out, err) = cluster.shardwatch(&["reconcile", "ks/infra-sources", "--yes"]);
    assert_eq!(code, 0, "reconcile:\n{out}\n{err}");
    let token = requested_at(&cluster, "infra-sources");
    real_flux::wait_handled(&cluster, "kustomization", "infra-sources", &token, DEADLINE);

    // The whole log of shard1's kustomize-controller, through pods/log: its real JSON lines.
    let (code, all, err) = cluster.shardwatch(&["logs", "deploy/kustomize-controller-shard1", "--raw"]);
    assert_eq!(code, 0, "logs deploy/...:\n{err}");
    let lines: Vec<Value> = all.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(lines.len() >= 5, "the controller's JSON lines:\n{all}\n{err}");
    assert!(
        lines.iter().any(|l| l["controllerKind"] != "Kustomization" || l["name"] != "infra-sources"),
        "the whole log has lines about other things (start-up, leader election):\n{all}"
    );

    // The object's lines: only the owning controller's lines naming it.
    let (code, mine, err) = cluster.shardwatch(&["logs", "ks/infra-sources", "--raw"]);
    assert_eq!(code, 0, "logs ks/infra-sources:\n{err}");
    assert!(err.contains("kustomize-controller-shard1"), "it says which controller it reads: {err}");
    let mine: Vec<Value> = mine.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert!(!mine.is_empty(), "the controller logged about infra-sources: {err}");
    for l in &mine {
        assert_eq!(
            (l["controllerKind"].as_str(), l["name"].as_str()),
            (Some("Kustomization"), Some("infra-sources")),
            "{l}"
        );
        assert_eq!(l["namespace"], FLUX_NS, "{l}");
    }
    assert!(mine.len() < lines.len(), "the filter dropped lines: {} of {}", mine.len(), lines.len());

    // Readable by default; and a clear answer where nothing can be read.
    let (code, text, _) = cluster.shardwatch(&["logs", "ks/infra-sources"]);
    assert_eq!(code, 0);
    assert!(text.lines().all(|l| l.contains("Kustomization/flux-system/infra-sources")), "{text}");
    let (code, _, err) = cluster.shardwatch(&["logs", "ks/does-not-exist"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot read the log of Kustomization/flux-system/does-not-exist"), "{err}");
}

#[test]
fn suspend_and_resume_round_trip_from_the_command_line() {
    let Some((cluster, _stack)) = stack() else { return };
    let _resume = Resume(&cluster, "infra-configs");
    // Refusals change nothing: --read-only, and no terminal to confirm on.
    let (code, _, err) = cluster.shardwatch(&["--read-only", "suspend", "ks/infra-configs", "--yes"]);
    assert_eq!(code, 3, "{err}");
    let (code, _, err) = cluster.shardwatch(&["suspend", "ks/infra-configs"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("pass --yes"), "{err}");
    assert!(!suspended(&cluster, "infra-configs"));

    let (code, out, err) = cluster.shardwatch(&["suspend", "ks/infra-configs", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(out.trim(), "Kustomization/flux-system/infra-configs suspended");
    assert!(suspended(&cluster, "infra-configs"));
    let (code, _, err) = cluster.shardwatch(&["reconcile", "ks/infra-configs", "--yes"]);
    assert_eq!(code, 1, "a suspended object is not reconciled: {err}");
    assert!(err.contains("is suspended: resume it first"), "{err}");
    let (code, snap, _) = cluster.shardwatch(&["snapshot", "-n", FLUX_NS]);
    assert_eq!(code, 0);
    let snap: Value = serde_json::from_str(&snap).expect("snapshot JSON");
    let row = assigned(&snap, "Kustomization", FLUX_NS, "infra-configs").unwrap().clone();
    assert_eq!(row["state"]["state"], "Suspended", "{row}");

    let (code, out, err) = cluster.shardwatch(&["resume", "ks/infra-configs", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!suspended(&cluster, "infra-configs"));
    // Resuming asks for a reconcile, which shard3's real controller handles.
    let token = requested_at(&cluster, "infra-configs");
    assert!(!token.is_empty());
    real_flux::wait_handled(&cluster, "kustomization", "infra-configs", &token, DEADLINE);
}

/// The dashboard on the real stack, in a 160×40 terminal without colour.
fn dashboard(cluster: &Cluster) -> Terminal {
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    let args = ["--kubeconfig", &kubeconfig, "-n", FLUX_NS, "--log-file", "/dev/null"];
    let term = Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], 160, 40);
    term.wait_for("Shards", SCREEN);
    term
}

/// Selects `name` on the Dependencies panel by filtering for it.
fn select_on_dependencies(term: &mut Terminal, name: &str) {
    term.send("3");
    term.wait_for(name, SCREEN);
    term.send(&format!("/{name}\r"));
    term.wait_for(&format!("/{name}"), SCREEN);
}

#[test]
fn the_dashboard_reconciles_suspends_resumes_and_shows_the_controllers_log() {
    let Some((cluster, _stack)) = stack() else { return };
    let _resume = Resume(&cluster, "infra-configs");
    let mut term = dashboard(&cluster);
    select_on_dependencies(&mut term, "infra-configs");

    // r: the question names the object, the context and the server; y sends it.
    let before = last_handled(&cluster, "infra-configs");
    term.send("r");
    let screen = term.wait_for("Reconcile (with its source) ks/flux-system/infra-configs", SCREEN);
    assert!(
        screen.contains("context kwok-") && screen.contains("https://"),
        "context and server named:\n{screen}"
    );
    term.send("y");
    term.wait_for("reconcile of Kustomization/flux-system/infra-configs requested", SCREEN);
    let token = wait_until(SCREEN, "the annotation written", || {
        let t = requested_at(&cluster, "infra-configs");
        if t.is_empty() || t == before { Err(format!("requestedAt {t:?}")) } else { Ok(t) }
    });
    real_flux::wait_handled(&cluster, "kustomization", "infra-configs", &token, DEADLINE);

    // l: the owning controller's real lines about this object.
    term.send("l");
    term.wait_for("log · Kustomization/flux-system/infra-configs", SCREEN);
    // Which controller it reads (shard3's, the object's shard), then its real lines.
    term.wait_for("kustomize-controller-shard3: pods kustomize-controller-shard3-", SCREEN);
    term.wait_for(" info Reconciliation finished in ", SCREEN);
    // Esc alone: a key right behind it would read as Alt+key.
    term.send("\x1b");
    term.wait_for("┌ Dependencies", SCREEN);

    // s then u: a suspend and resume round trip.
    term.send("s");
    term.wait_for("Suspend ks/flux-system/infra-configs", SCREEN);
    term.send("y");
    wait_until(SCREEN, "infra-configs suspended", || {
        if suspended(&cluster, "infra-configs") { Ok(()) } else { Err("not yet".into()) }
    });
    term.wait_for("Suspended", SCREEN);
    term.send("r");
    term.wait_for("is suspended: u resumes it", SCREEN);
    term.send("u");
    term.wait_for("Resume ks/flux-system/infra-configs", SCREEN);
    term.send("y");
    wait_until(SCREEN, "infra-configs resumed", || {
        if suspended(&cluster, "infra-configs") { Err("still suspended".into()) } else { Ok(()) }
    });
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "q quits");
}

/// Whether a row says "requested 5s ago" (the footer's "… requested (…)" does not count).
fn shows_pending(screen: &str) -> bool {
    screen
        .match_indices("requested ")
        .any(|(i, m)| screen[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

#[test]
fn a_request_made_while_its_shard_is_down_shows_pending_and_is_handled_when_it_returns() {
    let Some((cluster, _stack)) = stack() else { return };
    let mut term = dashboard(&cluster);
    let mut follow = Follow::start(&cluster, &["-n", FLUX_NS]);
    let failed = cluster.fail_node("shardwatch-worker2");
    follow.wait_for(DEADLINE, "infra-controllers orphaned", |s| {
        let ks = assigned(s, "Kustomization", FLUX_NS, "infra-controllers")?;
        if ks["orphan"] == "controller_not_ready" {
            Ok(())
        } else {
            Err(format!("orphan = {}", ks["orphan"]))
        }
    });

    select_on_dependencies(&mut term, "infra-controllers");
    term.wait_for("❄", SCREEN);
    term.send("r");
    term.wait_for("Reconcile (with its source) ks/flux-system/infra-controllers", SCREEN);
    term.send("y");
    let screen = wait_until(SCREEN, "the row shows the request", || {
        let screen = term.contents();
        if shows_pending(&screen) { Ok(screen) } else { Err(screen) }
    });
    // The Assignment panel's note says why it waits.
    term.send("4");
    term.wait_for("no ready kustomize-controller in shard2", SCREEN);
    term.send("3");
    let token = requested_at(&cluster, "infra-controllers");
    assert!(!handled(&cluster, "kustomization", "infra-controllers", &token).unwrap(), "{screen}");
    let snap = follow.wait_for(SCREEN, "the request pending in the snapshot", |s| {
        let ks = assigned(s, "Kustomization", FLUX_NS, "infra-controllers")?;
        match ks["state"]["pending_reconcile"]["token"].as_str() {
            Some(t) if t == token => Ok(ks.clone()),
            _ => Err(format!("{ks}")),
        }
    });
    assert_eq!(snap["orphan"], "controller_not_ready", "{snap}");

    failed.restore();
    // shard2's real controller comes back and handles the request made while it was gone.
    real_flux::wait_handled(&cluster, "kustomization", "infra-controllers", &token, DEADLINE);
    wait_until(SCREEN, "the row no longer says requested", || {
        let screen = term.contents();
        if shows_pending(&screen) { Err(screen) } else { Ok(()) }
    });
}

#[test]
fn reconcile_with_source_waits_for_the_source_to_handle_the_request_first() {
    let Some((cluster, _stack)) = stack() else { return };
    let source =
        kustomization(&cluster, "infra-configs").expect("infra-configs")["spec"]["sourceRef"]["name"]
            .as_str()
            .expect("a sourceRef")
            .to_string();
    let (code, out, err) = cluster.shardwatch(&["reconcile", "ks/infra-configs", "--with-source", "--yes"]);
    assert_eq!(code, 0, "reconcile --with-source:\n{out}\n{err}");
    let token = requested_at(&cluster, "infra-configs");
    assert!(!token.is_empty(), "the object was annotated:\n{out}");
    // By the time the object was annotated, the source's controller had handled the very
    // same request (as `flux reconcile --with-source` waits for it).
    assert!(
        handled(&cluster, "gitrepository", &source, &token).unwrap(),
        "GitRepository {source} had not handled {token} when the command returned:\n{out}"
    );
    assert!(
        out.contains(&format!("source GitRepository/{FLUX_NS}/{source} reconciled first")),
        "the outcome names the source:\n{out}"
    );
    real_flux::wait_handled(&cluster, "kustomization", "infra-configs", &token, DEADLINE);
}
