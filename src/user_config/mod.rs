//! What the user configures outside the command line: the config folder, the config
//! file (`config.toml`) and themes (built-in or `themes/NAME.toml` there).

pub mod settings;
pub mod theme_choice;

#[cfg(test)]
mod precedence_tests;

use std::path::{Path, PathBuf};

/// `$XDG_CONFIG_HOME/shardwatch`, else `~/.config/shardwatch` (`None` without either).
pub fn dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d).join("shardwatch"))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/shardwatch")))
}

/// A configuration the user wrote that cannot be used: printed as one line, exit 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// `FILE:LINE: problem` (or `FILE: problem` when the line is not known).
    pub fn at(file: &Path, line: Option<usize>, problem: &str) -> ConfigError {
        match line {
            Some(l) => ConfigError(format!("{}:{l}: {problem}", file.display())),
            None => ConfigError(format!("{}: {problem}", file.display())),
        }
    }
}
