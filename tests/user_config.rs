//! Themes and the config file from the command line: found where the README says, and
//! a bad file is one line naming the file and the line, exit 2. No cluster needed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs shardwatch with `XDG_CONFIG_HOME` set to `config_home`; (exit code, stdout, stderr).
fn shardwatch(config_home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .args(["--log-file", "/dev/null"])
        .args(args)
        .env("XDG_CONFIG_HOME", config_home)
        .env_remove("SHARDWATCH_THEME")
        .output()
        .expect("run shardwatch");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// An empty config folder of its own for a test.
fn config_home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sw-user-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("shardwatch/themes")).unwrap();
    dir
}

fn recording() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/failover.ndjson").to_string_lossy().into_owned()
}

#[test]
fn a_user_theme_is_found_in_the_config_folder_and_a_bad_one_exits_2_naming_file_and_line() {
    let home = config_home("themes");
    let dark = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/themes/dark.toml"))
        .unwrap();
    let themes = home.join("shardwatch/themes");
    std::fs::write(themes.join("mine.toml"), dark.replace("#1d1f21", "#101010")).unwrap();
    let rec = recording();
    // `-o text` resolves the theme like the player does, then prints instead of playing.
    let (code, out, err) = shardwatch(&home, &["--theme", "mine", "replay", &rec, "-o", "text"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("verdict"), "{out}");

    let broken = themes.join("broken.toml");
    std::fs::write(&broken, dark.replace("warn = \"#e0c060\"", "warn = \"#e0c06\"")).unwrap();
    let line = dark.lines().position(|l| l.starts_with("warn =")).unwrap() + 1;
    let (code, _, err) = shardwatch(&home, &["--theme", "broken", "replay", &rec, "-o", "text"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.trim_end(),
        format!(
            "shardwatch: {}:{line}: warn = \"#e0c06\": not a colour, expected \"#rrggbb\"",
            broken.display()
        )
    );

    let (code, _, err) = shardwatch(&home, &["--theme", "nosuch", "replay", &rec, "-o", "text"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no theme named \"nosuch\"") && err.contains("broken, mine"), "{err}");
    std::fs::remove_dir_all(&home).unwrap();
}
