//! `--no-mouse` (and `no_mouse` in the config file): the program never asks the terminal
//! for mouse reports, so the terminal's own selection keeps working. The replay of the
//! shipped recording stands in for the dashboard (same terminal set-up); no cluster needed.

#[path = "support/pty.rs"]
mod pty;

use std::time::Duration;

use pty::Terminal;

const WAIT: Duration = Duration::from_secs(20);
/// What crossterm's EnableMouseCapture writes (normal tracking and SGR encoding).
const MOUSE_ON: [&[u8]; 2] = [b"\x1b[?1000h", b"\x1b[?1006h"];

/// Runs the replay with `extra` arguments and config folder `home` until it draws, then quits;
/// whether any mouse-enable sequence was written.
fn asks_for_the_mouse(extra: &[&str], home: &std::path::Path) -> bool {
    let recording = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/failover.ndjson");
    let mut args = vec!["--log-file", "/dev/null"];
    args.extend_from_slice(extra);
    args.extend(["replay", recording]);
    let home = home.to_str().unwrap();
    let env = [("NO_COLOR", "1"), ("XDG_CONFIG_HOME", home)];
    let mut term = Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &env, 100, 30);
    term.wait_for("▶ playing", WAIT);
    term.send("q");
    assert!(term.wait_exit(WAIT), "q ends the replay");
    MOUSE_ON.iter().any(|seq| term.wrote(seq))
}

#[test]
fn no_mouse_from_the_flag_or_the_config_file_never_enables_mouse_reports() {
    let home = std::env::temp_dir().join(format!("sw-no-mouse-{}", std::process::id()));
    std::fs::create_dir_all(home.join("shardwatch")).unwrap();
    assert!(asks_for_the_mouse(&[], &home), "without --no-mouse the mouse is enabled (the check can see it)");
    assert!(!asks_for_the_mouse(&["--no-mouse"], &home), "--no-mouse: ?1000h/?1006h written");
    std::fs::write(home.join("shardwatch/config.toml"), "no_mouse = true\n").unwrap();
    assert!(!asks_for_the_mouse(&[], &home), "no_mouse = true in the config: ?1000h/?1006h written");
    std::fs::remove_dir_all(&home).unwrap();
}
