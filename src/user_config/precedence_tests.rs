//! Flags > environment > config file > defaults, through clap's parse of real arguments.

use clap::{CommandFactory, FromArgMatches};

use super::settings::{Given, Settings, pick};
use crate::cli::Cli;

/// Parses `args` as the binary does, then applies `settings`. (The environment's turn is
/// checked end to end with `SHARDWATCH_THEME` in tests/user_config.rs.)
fn effective(args: &[&str], settings: Settings) -> Cli {
    let mut argv = vec!["shardwatch"];
    argv.extend_from_slice(args);
    let matches = Cli::command().try_get_matches_from(argv).expect("valid arguments");
    let mut cli = Cli::from_arg_matches(&matches).expect("parsed");
    cli.apply(settings, &matches);
    cli
}

fn file() -> Settings {
    Settings {
        namespace: Some("apps".into()),
        flux_namespace: "flux".into(),
        shard_label: "example.com/shard".into(),
        theme: "light".into(),
        read_only: true,
        no_mouse: true,
        ..Settings::default()
    }
}

#[test]
fn the_config_file_fills_what_no_flag_gave() {
    let cli = effective(&[], file());
    assert_eq!(cli.namespace.as_deref(), Some("apps"));
    assert_eq!(cli.flux_namespace, "flux");
    assert_eq!(cli.shard_label, "example.com/shard");
    assert_eq!(cli.theme.as_deref(), Some("light"));
    assert!(cli.read_only && cli.no_mouse);
}

#[test]
fn flags_win_over_the_config_file() {
    let args =
        ["-n", "web", "--flux-namespace", "flux-system", "--shard-label", "k", "--theme", "dark", "check"];
    let cli = effective(&args, file());
    assert_eq!(cli.namespace.as_deref(), Some("web"));
    // Given on the command line even though it equals the built-in default.
    assert_eq!(cli.flux_namespace, "flux-system");
    assert_eq!(cli.shard_label, "k");
    assert_eq!(cli.theme.as_deref(), Some("dark"));
}

#[test]
fn without_a_file_the_defaults_hold() {
    let cli = effective(&[], Settings::default());
    assert_eq!((cli.namespace, cli.flux_namespace.as_str()), (None, "flux-system"));
    assert_eq!(cli.shard_label, "sharding.fluxcd.io/key");
    assert_eq!(cli.theme.as_deref(), Some("dark"));
    assert!(!cli.read_only && !cli.no_mouse);
}

#[test]
fn environment_wins_over_the_file_and_loses_to_a_flag() {
    assert_eq!(pick(Given::Env, "from-env", "from-file"), "from-env");
    assert_eq!(pick(Given::Flag, "from-flag", "from-file"), "from-flag");
    assert_eq!(pick(Given::Default, "built-in", "from-file"), "from-file");
}

#[test]
fn allow_remote_lists_contexts_where_the_flag_is_implied() {
    let listed = || Settings { allow_remote: vec!["staging".into()], ..Settings::default() };
    assert!(effective(&["--context", "staging"], listed()).remote_allowed());
    assert!(!effective(&["--context", "prod"], listed()).remote_allowed());
    assert!(effective(&["--context", "prod", "--allow-remote"], listed()).remote_allowed());
    assert!(!effective(&["--context", "staging"], Settings::default()).remote_allowed());
}
