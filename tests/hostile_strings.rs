//! Hostile strings written to the cluster reach the dashboard inert: a Kustomization whose
//! status message, and a Warning Event about it whose note, carry a window-title escape
//! sequence (OSC), a hyperlink, a colour, control characters, a right-to-left override,
//! wide and very long text. Read back through a pseudo-terminal: none of those sequences
//! is ever written to the terminal, the header stays on top, and the printable rest shows.
//! (Object names cannot carry them: the API allows only DNS-1123 names there.)

#[path = "support/flux_stack.rs"]
mod flux_stack;
#[path = "support/pty.rs"]
mod pty;
mod support;

use std::time::Duration;

use serde_json::json;

const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}]8;;http://evil.example/\u{1b}\\click\u{1b}]8;;\u{1b}\\ \
    \u{1b}[31;1mred\u{1b}[0m \r\n\t\u{8}\u{7f} \u{202e}txet desrever\u{202c} 漢字かな 👩‍👩‍👧‍👦 tail-marker";

#[test]
fn hostile_messages_and_events_are_drawn_inert() {
    let Some(cluster) = support::cluster() else { return };
    flux_stack::install_flux_crds(&cluster);
    let ns = cluster.namespace("hostile");
    cluster.apply(&flux_stack::kustomization(&ns.name, "hostile", Some("shard1"), &[]));
    let long = format!("{HOSTILE} {}", "x".repeat(400));
    cluster
        .kubectl(&[
            "-n",
            &ns.name,
            "patch",
            "kustomization",
            "hostile",
            "--subresource=status",
            "--type=merge",
            "-p",
            &flux_stack::status("False", "ReconciliationFailed", &long, None),
        ])
        .expect("write the hostile status");
    let event = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "hostile-event", "namespace": ns.name},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "shardwatch.test/hostile", "reportingInstance": "test",
        "action": "Reconcile", "reason": "Hostile", "type": "Warning", "note": HOSTILE,
        "regarding": {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                      "namespace": ns.name, "name": "hostile"}
    });
    cluster.apply(&event.to_string());

    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    let mut term = pty::Terminal::spawn(
        env!("CARGO_BIN_EXE_shardwatch"),
        &["--kubeconfig", &kubeconfig, "--log-file", "/dev/null", "-n", &ns.name],
        &[("NO_COLOR", "1")],
        200,
        50,
    );
    term.wait_for("Shards [", Duration::from_secs(30));
    term.send("3");
    term.wait_for("hostile", Duration::from_secs(30));
    let mut screens = vec![term.contents()];
    // The row's details, then its explanation (with the Warning event).
    term.send("\r");
    screens.push(term.wait_for("31;1mred", Duration::from_secs(10)));
    term.send("\u{1b}");
    term.send("e");
    screens.push(term.wait_for("Hostile", Duration::from_secs(30)));

    // What is printable of it did reach the terminal (so the checks below can see bytes).
    assert!(term.wrote(b"tail-marker"), "the message's printable part was never written");
    for (what, bytes) in [
        ("a window title (OSC 0)", "\u{1b}]0;pwned".as_bytes()),
        ("a hyperlink (OSC 8)", "\u{1b}]8;;http://evil".as_bytes()),
        ("the message's colour", "\u{1b}[31;1mred".as_bytes()),
        ("a right-to-left override", "\u{202e}".as_bytes()),
        ("a backspace", "\u{8}\u{7f}".as_bytes()),
    ] {
        assert!(!term.wrote(bytes), "{what} from the cluster reached the terminal");
    }
    for screen in &screens {
        assert!(screen.starts_with("ctx "), "the header is no longer on top:\n{screen}");
    }
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "the dashboard did not exit on q");
    support::wait_until(Duration::from_secs(5), "a restored terminal", || {
        if term.restored() { Ok(()) } else { Err(term.contents()) }
    });
}
