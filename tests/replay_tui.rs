//! `shardwatch replay` of the shipped recording in a pseudo-terminal, used with the mouse
//! as a person would: a click on a tab switches panels, a click on a row selects it, the
//! wheel moves the selection; mouse reporting is on while it runs and off after `q`.
//! Needs no cluster.

#[path = "support/pty.rs"]
mod pty;

use std::time::Duration;

use pty::Terminal;

const WAIT: Duration = Duration::from_secs(20);

/// The 0-based line and column where `needle` starts on the screen.
fn find(screen: &str, needle: &str) -> (u16, u16) {
    screen
        .lines()
        .enumerate()
        .find_map(|(y, line)| line.find(needle).map(|b| (y as u16, line[..b].chars().count() as u16)))
        .unwrap_or_else(|| panic!("{needle:?} is not on the screen:\n{screen}"))
}

/// A left click at a 0-based cell, in the SGR encoding crossterm asks the terminal for.
fn click(line: u16, column: u16) -> String {
    format!("\x1b[<0;{};{}M\x1b[<0;{};{}m", column + 1, line + 1, column + 1, line + 1)
}

#[test]
fn clicks_select_tabs_and_rows_in_the_replay() {
    let recording = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/failover.ndjson");
    let args = ["--log-file", "/dev/null", "replay", recording];
    let mut term = Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], 120, 34);
    term.wait_for("▶ playing", WAIT);
    term.send(" ");
    let screen = term.wait_for("‖ paused", WAIT);

    let (tabs, x) = find(&screen, "2 Placement");
    term.send(&click(tabs, x + 2));
    let screen = term.wait_for(" Placement [1/", WAIT);
    // The fourth row under the column titles.
    let (titles, _) = find(&screen, "NODE / POD");
    term.send(&click(titles + 4, 10));
    term.wait_for(" Placement [4/", WAIT);
    // The wheel: one notch down moves the selection one row.
    term.send(&format!("\x1b[<65;10;{}M", titles + 2));
    term.wait_for(" Placement [5/", WAIT);
    // A click on another tab.
    let screen = term.contents();
    let (tabs, x) = find(&screen, "5 Events");
    term.send(&click(tabs, x + 2));
    term.wait_for("┌ Events [", WAIT);

    term.send("q");
    assert!(term.wait_exit(WAIT), "q ends the replay");
    // The exit can be seen before the reader has parsed the last bytes written (the
    // restore): wait for the screen, not for the process.
    let start = std::time::Instant::now();
    while !term.restored() && start.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(term.restored(), "the terminal is restored:\n{}", term.contents());
}
