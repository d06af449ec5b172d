//! The config file, `config.toml` in the config folder (or `--config FILE`): defaults for
//! the global flags, the theme, key bindings. Flags and environment variables win over it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ConfigError;

/// What the config file may set; every key optional, no other key allowed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Only follow Flux objects in this namespace (`-n`); `None`: all namespaces.
    pub namespace: Option<String>,
    /// Where the Flux controllers run (`--flux-namespace`).
    pub flux_namespace: String,
    /// The label key assigning objects and nodes to shards (`--shard-label`).
    pub shard_label: String,
    /// The theme's name or file (`--theme`).
    pub theme: String,
    /// Refuse every action that changes the cluster (`--read-only`).
    pub read_only: bool,
    /// Do not capture the mouse (`--no-mouse`).
    pub no_mouse: bool,
    /// Contexts where `--allow-remote` is implied.
    pub allow_remote: Vec<String>,
    /// Action name → key, for the dashboard's single-key actions.
    pub keys: BTreeMap<String, String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            namespace: None,
            flux_namespace: "flux-system".to_string(),
            shard_label: "sharding.fluxcd.io/key".to_string(),
            theme: "dark".to_string(),
            read_only: false,
            no_mouse: false,
            allow_remote: Vec::new(),
            keys: BTreeMap::new(),
        }
    }
}

/// Where a command-line value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Given {
    /// A flag on the command line.
    Flag,
    /// An environment variable the flag reads.
    Env,
    /// Neither: the built-in default.
    Default,
}

/// Flags > env > config > defaults: the command line's value when a flag or the
/// environment gave it, else the config file's (which holds the default when unset).
pub fn pick<T>(given: Given, command_line: T, config: T) -> T {
    match given {
        Given::Flag | Given::Env => command_line,
        Given::Default => config,
    }
}

/// `config.toml` in the config folder.
pub fn default_path() -> Option<PathBuf> {
    super::dir().map(|d| d.join("config.toml"))
}

impl Settings {
    /// Parses a config file's text; errors name `file`, the line and the problem.
    pub fn parse(text: &str, file: &Path) -> Result<Settings, ConfigError> {
        let settings: Settings = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            ConfigError::at(file, line, e.message().trim().replace('\n', " ").as_str())
        })?;
        // Checked here so a mistake is reported with the file, before anything starts.
        crate::ui::KeyBindings::new(&settings.keys).map_err(|problem| {
            let line = text.lines().position(|l| l.trim() == "[keys]").map(|i| i + 1);
            ConfigError::at(file, line, &format!("[keys]: {problem}"))
        })?;
        Ok(settings)
    }

    /// Reads `--config FILE` (which must exist), else the default file if there is one,
    /// else the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Settings, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match default_path().filter(|p| p.exists()) {
                Some(p) => p,
                None => return Ok(Settings::default()),
            },
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError(format!("config {}: cannot read: {e}", path.display())))?;
        Settings::parse(&text, &path)
    }
}

/// `shardwatch config --print-default`: every key with its default and what it does;
/// it parses back to [`Settings::default`] (a unit test holds it to that).
pub const DEFAULT_TEXT: &str = r#"# shardwatch configuration: $XDG_CONFIG_HOME/shardwatch/config.toml (else
# ~/.config/shardwatch/config.toml), or --config FILE. Command-line flags and environment
# variables (SHARDWATCH_THEME) override what is set here. Unknown keys are an error.

# Only follow Flux objects in this namespace (-n); unset: all namespaces.
# namespace = "apps"

# Where the Flux controllers run (--flux-namespace).
flux_namespace = "flux-system"

# Label key that assigns Flux objects and nodes to shards (--shard-label).
shard_label = "sharding.fluxcd.io/key"

# dark, light, high-contrast, a theme in the config folder's themes/ (NAME.toml), or a
# theme file (--theme). NO_COLOR overrides it.
theme = "dark"

# Refuse every action that changes the cluster (--read-only).
read_only = false

# Do not capture the mouse, so the terminal's own selection works (--no-mouse).
no_mouse = false

# Kube contexts where --allow-remote is implied (node, pod and scale actions on a
# cluster that is neither kind nor local), e.g. ["staging"].
allow_remote = []

# Dashboard keys: action = "key" (one character). Unbound actions keep their key below;
# a key bound twice is an error. Fixed: 1-5, Tab, Enter, Esc, arrows, PgUp/PgDn, Ctrl-C.
[keys]
# quit = "q"
# help = "?"
# filter = "/"
# command = ":"
# down = "j"
# up = "k"
# first = "g"
# last = "G"
# explain = "e"
# logs = "l"
# copy = "y"
# cordon = "c"
# uncordon_resume = "u"
# drain = "d"
# fail_node = "f"
# reconcile_restore = "r"
# suspend_scale = "s"
# delete_pod = "x"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse(text, Path::new("/c/config.toml"))
    }

    #[test]
    fn the_printed_default_parses_back_to_the_defaults() {
        assert_eq!(parse(DEFAULT_TEXT).unwrap(), Settings::default());
        // And uncommenting every key binding gives the default keys, accepted.
        let (head, keys) = DEFAULT_TEXT.split_once("[keys]").unwrap();
        let uncommented = format!("{head}[keys]{}", keys.replace("\n# ", "\n"));
        let all = parse(&uncommented).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.keys.len(), crate::ui::KeyBindings::ACTIONS.len());
    }

    #[test]
    fn unknown_keys_and_bad_toml_name_the_file_and_line() {
        let e = parse("theme = \"light\"\nthem = \"dark\"\n").unwrap_err();
        assert!(e.0.starts_with("/c/config.toml:2: unknown field `them`"), "{e}");
        let e = parse("read_only = yes\n").unwrap_err();
        assert!(e.0.starts_with("/c/config.toml:1: "), "{e}");
        assert!(!e.0.contains('\n'), "{e}");
        let e = parse("read_only = \"yes\"\n").unwrap_err();
        assert!(e.0.starts_with("/c/config.toml:1: invalid type"), "{e}");
    }

    #[test]
    fn bad_key_bindings_are_clear_errors() {
        let e = parse("theme = \"dark\"\n[keys]\nreconcile = \"R\"\n").unwrap_err();
        assert!(e.0.starts_with("/c/config.toml:2: [keys]: unknown action \"reconcile\""), "{e}");
        let e = parse("[keys]\nexplain = \"x\"\n").unwrap_err();
        assert!(e.0.contains("\"x\" is bound to both delete_pod and explain"), "{e}");
        let e = parse("[keys]\nquit = \"Q\"\n").unwrap();
        assert_eq!(e.keys["quit"], "Q");
    }

    #[test]
    fn a_missing_explicit_file_is_an_error_and_no_default_file_means_defaults() {
        let e = Settings::load(Some(Path::new("/nonexistent/shardwatch.toml"))).unwrap_err();
        assert!(e.0.starts_with("config /nonexistent/shardwatch.toml: cannot read"), "{e}");
    }
}
