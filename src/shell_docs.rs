//! Shell completions and the man page, generated from the clap definitions in `cli.rs`,
//! so they can never disagree with the flags the program accepts.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;
use color_eyre::eyre::{Result, WrapErr};

use crate::cli::Cli;

/// Writes the completion script for `shell` (bash, zsh, fish, powershell, elvish).
pub fn completions(shell: Shell, out: &mut impl Write) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "shardwatch", out);
}

/// Writes the man page (roff): synopsis, options, subcommands and the examples of `--help`.
pub fn man_page(out: &mut impl Write) -> Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out).wrap_err("writing the man page")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_generate_for_each_shell() {
        for (shell, marker) in [
            (Shell::Bash, "complete -F"),
            (Shell::Zsh, "#compdef shardwatch"),
            (Shell::Fish, "complete -c shardwatch"),
            (Shell::PowerShell, "Register-ArgumentCompleter"),
        ] {
            let mut out = Vec::new();
            completions(shell, &mut out);
            let script = String::from_utf8(out).expect("UTF-8");
            assert!(script.contains(marker), "{shell}: no {marker:?}");
            // Subcommands and flags come from the clap definitions.
            for word in ["replay", "snapshot", "record", "read-only"] {
                assert!(script.contains(word), "{shell} completion lacks {word}");
            }
        }
    }

    #[test]
    fn the_man_page_names_the_commands_and_flags() {
        let mut out = Vec::new();
        man_page(&mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        for word in [".TH shardwatch", "replay", "read\\-only", "Examples", "kubectl shardwatch"] {
            assert!(page.contains(word), "the man page lacks {word}");
        }
    }
}
