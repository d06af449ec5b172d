//! The dashboard in a pseudo-terminal against the local cluster, ended every way a user or
//! a supervisor ends it: `q`, Ctrl-C, SIGTERM, SIGHUP; and at 1×1. Each time the terminal
//! is restored (main screen, cursor shown) and the process is gone. Keys typed right after
//! a resize (or a storm of them) are acted on at once.

#[path = "support/pty.rs"]
mod pty;
mod support;

use std::time::{Duration, Instant};

use pty::Terminal;

fn dashboard(cluster: &support::Cluster, cols: u16, rows: u16) -> Terminal {
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    Terminal::spawn(
        env!("CARGO_BIN_EXE_shardwatch"),
        &["--kubeconfig", &kubeconfig, "--log-file", "/dev/null"],
        &[("NO_COLOR", "1")],
        cols,
        rows,
    )
}

fn signal(term: &Terminal, name: &str) {
    let pid = term.pid().expect("a pid").to_string();
    let ok = std::process::Command::new("kill").args([&format!("-{name}"), &pid]).status().expect("kill");
    assert!(ok.success(), "kill -{name} {pid}");
}

fn ended_restored(term: &mut Terminal, how: &str) {
    assert!(term.wait_exit(Duration::from_secs(10)), "the dashboard did not exit on {how}");
    assert_eq!(term.exit_code(), Some(0), "exit code after {how}");
    // The reader thread may still be applying the last bytes.
    support::wait_until(Duration::from_secs(5), &format!("a restored terminal after {how}"), || {
        if term.restored() { Ok(()) } else { Err(format!("screen:\n{}", term.contents())) }
    });
}

#[test]
fn the_terminal_is_restored_after_q_ctrl_c_sigterm_and_sighup() {
    let Some(cluster) = support::cluster() else { return };
    for how in ["q", "ctrl-c", "TERM", "HUP"] {
        let mut term = dashboard(&cluster, 100, 30);
        term.wait_for("Shards", Duration::from_secs(30));
        assert!(!term.restored(), "the dashboard draws on the alternate screen");
        match how {
            "q" => term.send("q"),
            "ctrl-c" => term.send("\u{3}"),
            sig => signal(&term, sig),
        }
        ended_restored(&mut term, how);
    }
}

#[test]
fn tiny_terminals_do_not_break_it() {
    let Some(cluster) = support::cluster() else { return };
    for (cols, rows) in [(1, 1), (2, 1), (1, 3), (10, 2), (20, 5)] {
        let mut term = dashboard(&cluster, cols, rows);
        std::thread::sleep(Duration::from_secs(2));
        assert!(!term.wait_exit(Duration::from_millis(10)), "the dashboard died at {cols}×{rows}");
        term.send("q");
        ended_restored(&mut term, &format!("q at {cols}×{rows}"));
    }
}

#[test]
fn a_resize_storm_while_drawing_leaves_it_drawing_and_restorable() {
    let Some(cluster) = support::cluster() else { return };
    let mut term = dashboard(&cluster, 100, 30);
    term.wait_for("Shards", Duration::from_secs(30));
    // 300 resizes 5 ms apart, through tiny and large sizes, with panel switches between:
    // frames are drawn while the size keeps changing under them.
    let sizes = [(1, 1), (200, 60), (2, 1), (80, 24), (1, 40), (250, 3), (40, 12), (160, 48)];
    for i in 0..300 {
        let (cols, rows) = sizes[i % sizes.len()];
        term.resize(cols, rows);
        if i % 25 == 0 {
            term.send(&((i / 25) % 5 + 1).to_string());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!term.wait_exit(Duration::from_millis(10)), "the dashboard died in the resize storm");
    // The last switch of the storm was to panel 2; the first key after it, typed together
    // with the last resize, must be acted on by itself (no further key to push it through).
    term.resize(120, 40);
    term.send("4");
    // It still draws, at the last size, the panel that key chose: its border spans all 120 columns.
    support::wait_until(Duration::from_secs(10), "Assignment drawn full-width after the storm", || {
        let screen = term.contents();
        let full = screen.lines().any(|l| {
            l.starts_with("┌ Assignment [") && l.trim_end().ends_with('┐') && l.chars().count() == 120
        });
        if full { Ok(()) } else { Err(format!("screen:\n{screen}")) }
    });
    term.send("q");
    ended_restored(&mut term, "q after a resize storm");
}

/// The panel whose title shows, of the five that keys 1–5 choose.
const PANELS: [&str; 5] = ["Shards", "Placement", "Dependencies", "Assignment", "Events"];

#[test]
fn a_key_typed_right_after_a_resize_is_acted_on() {
    let Some(cluster) = support::cluster() else { return };
    let mut term = dashboard(&cluster, 100, 30);
    term.wait_for("┌ Shards [", Duration::from_secs(30));
    // A resize and a key arriving while the dashboard is busy with the one before (two
    // resizes back to back: the second SIGWINCH and the key come during the first one's
    // frame) are seen together. crossterm's default (mio) source returned the resize and
    // left the key unread until another key came: about 1 round in 10 here.
    let mut current = 0;
    for round in 0..100 {
        let next = (current + 1 + round % 3) % PANELS.len();
        term.resize(250, 60);
        std::thread::sleep(Duration::from_micros(500));
        term.resize(if round % 2 == 0 { 120 } else { 110 }, 40);
        term.send(&(next + 1).to_string());
        let title = format!("┌ {} [", PANELS[next]);
        // Polled finely (a round takes a frame or two), with a deadline far above that.
        let sent = Instant::now();
        while !term.contents().contains(&title) {
            assert!(
                sent.elapsed() < Duration::from_secs(10),
                "round {round}: key {} was not acted on within 10 s; screen:\n{}",
                next + 1,
                term.contents()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        current = next;
    }
    term.send("q");
    ended_restored(&mut term, "q after resizes with keys");
}

#[test]
fn a_panic_in_a_draw_restores_the_terminal_and_ends_the_process() {
    let Some(cluster) = support::cluster() else { return };
    let kubeconfig = cluster.kubeconfig.to_string_lossy().into_owned();
    // The third frame panics: the first ones are on the alternate screen by then.
    let mut term = Terminal::spawn(
        env!("CARGO_BIN_EXE_shardwatch"),
        &["--kubeconfig", &kubeconfig, "--log-file", "/dev/null"],
        &[("NO_COLOR", "1"), ("SHARDWATCH_TEST_PANIC_IN_DRAW", "3"), ("RUST_BACKTRACE", "0")],
        100,
        30,
    );
    let pid = term.pid().expect("a pid");
    assert!(term.wait_exit(Duration::from_secs(30)), "the dashboard did not end after a panic in a draw");
    assert_eq!(term.exit_code(), Some(101), "a panic's exit code");
    support::wait_until(Duration::from_secs(5), "a restored terminal after a panic", || {
        if term.restored() { Ok(()) } else { Err(format!("screen:\n{}", term.contents())) }
    });
    // The panic is reported on the restored screen, not lost on the alternate one.
    term.wait_for("a panic in a draw, on purpose", Duration::from_secs(5));
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "process {pid} is still there");
}
