//! Themes and the config file from the command line: found where the README says, and
//! a bad file is one line naming the file and the line, exit 2. No cluster needed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs shardwatch with `XDG_CONFIG_HOME` set to `config_home`; (exit code, stdout, stderr).
fn shardwatch(config_home: &Path, args: &[&str]) -> (i32, String, String) {
    shardwatch_env(config_home, args, &[])
}

fn shardwatch_env(config_home: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shardwatch"));
    cmd.args(["--log-file", "/dev/null"])
        .args(args)
        .env("XDG_CONFIG_HOME", config_home)
        .env_remove("SHARDWATCH_THEME");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run shardwatch");
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

#[test]
fn config_path_and_print_default() {
    let home = config_home("path");
    let (code, out, _) = shardwatch(&home, &["config", "--path"]);
    assert_eq!((code, out.trim_end()), (0, home.join("shardwatch/config.toml").to_str().unwrap()));
    let (code, out, _) = shardwatch(&home, &["config", "--path", "--config", "/etc/sw.toml"]);
    assert_eq!((code, out.trim_end()), (0, "/etc/sw.toml"));
    // The printed default, used as the config file, is accepted as it is.
    let (code, default, _) = shardwatch(&home, &["config", "--print-default"]);
    assert_eq!(code, 0);
    assert!(default.contains("flux_namespace = \"flux-system\"") && default.contains("[keys]"), "{default}");
    std::fs::write(home.join("shardwatch/config.toml"), &default).unwrap();
    let (code, _, err) = shardwatch(&home, &["replay", &recording(), "-o", "text"]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn a_bad_config_file_is_one_line_naming_file_and_line_exit_2() {
    let home = config_home("bad");
    let file = home.join("shardwatch/config.toml");
    std::fs::write(&file, "read_only = true\nthme = \"light\"\n").unwrap();
    let (code, _, err) = shardwatch(&home, &["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with(&format!("shardwatch: {}:2: unknown field `thme`", file.display())), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let other = home.join("other.toml");
    std::fs::write(&other, "[keys]\nquit = \"j\"\n").unwrap();
    let (code, _, err) = shardwatch(&home, &["--config", other.to_str().unwrap(), "check"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.trim_end(),
        format!("shardwatch: {}:1: [keys]: \"j\" is bound to both down and quit", other.display())
    );
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn the_theme_comes_from_flag_then_environment_then_config() {
    let home = config_home("precedence");
    std::fs::write(home.join("shardwatch/config.toml"), "theme = \"nosuch\"\n").unwrap();
    let rec = recording();
    let replay = ["replay", rec.as_str(), "-o", "text"];
    let (code, _, err) = shardwatch(&home, &replay);
    assert_eq!(code, 2, "the config's theme is used: {err}");
    assert!(err.contains("no theme named \"nosuch\""), "{err}");
    let with_flag: Vec<&str> = ["--theme", "light"].into_iter().chain(replay).collect();
    assert_eq!(shardwatch(&home, &with_flag).0, 0, "the flag wins over the config");
    let (code, _, err) = shardwatch_env(&home, &replay, &[("SHARDWATCH_THEME", "high-contrast")]);
    assert_eq!(code, 0, "the environment wins over the config: {err}");
    let (code, _, err) = shardwatch_env(&home, &with_flag, &[("SHARDWATCH_THEME", "nosuch2")]);
    assert_eq!(code, 0, "the flag wins over the environment: {err}");
    std::fs::remove_dir_all(&home).unwrap();
}
