//! `--theme NAME|FILE`: a theme file, a user theme in the config folder's `themes/`, or a
//! built-in one.

use std::path::{Path, PathBuf};

use super::ConfigError;
use crate::ui::palette::{BUILT_IN, Palette};

/// The palette `choice` names, looking for user themes in `themes_dir`.
///
/// A value with a `/` or ending in `.toml` is a file; otherwise `themes_dir/NAME.toml`
/// when it exists (so a user may override a built-in name), else a built-in theme.
pub fn resolve(choice: &str, themes_dir: Option<&Path>) -> Result<Palette, ConfigError> {
    if choice.contains('/') || choice.ends_with(".toml") {
        return from_file(Path::new(choice));
    }
    if let Some(path) = themes_dir.map(|d| d.join(format!("{choice}.toml"))).filter(|p| p.is_file()) {
        return from_file(&path);
    }
    Palette::built_in(choice).ok_or_else(|| {
        let mut names: Vec<String> = BUILT_IN.iter().map(|(n, _)| (*n).to_string()).collect();
        for name in user_themes(themes_dir) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        ConfigError(format!("no theme named {choice:?}; themes: {}, or a FILE.toml", names.join(", ")))
    })
}

/// The user themes' folder: `themes/` in the config folder.
pub fn themes_dir() -> Option<PathBuf> {
    super::dir().map(|d| d.join("themes"))
}

/// Reads and parses a theme file; errors name the file and the line.
pub fn from_file(path: &Path) -> Result<Palette, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("theme {}: cannot read: {e}", path.display())))?;
    Palette::parse(&text).map_err(|e| ConfigError::at(path, e.line, &e.problem))
}

/// The names of the user's themes, sorted.
fn user_themes(dir: Option<&Path>) -> Vec<String> {
    let Some(entries) = dir.and_then(|d| std::fs::read_dir(d).ok()) else { return vec![] };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".toml").map(str::to_string))
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("shardwatch-theme-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn names_files_and_user_themes_resolve() {
        let dir = temp_dir("resolve");
        assert_eq!(resolve("light", Some(&dir)).unwrap(), Palette::built_in("light").unwrap());
        // A user theme named like a built-in one replaces it.
        let light = BUILT_IN[1].1;
        let mine = light.replace("#ffffff", "#fafafa");
        std::fs::write(dir.join("light.toml"), &mine).unwrap();
        assert_eq!(resolve("light", Some(&dir)).unwrap(), Palette::parse(&mine).unwrap());
        let file = dir.join("light.toml");
        assert_eq!(resolve(file.to_str().unwrap(), None).unwrap(), Palette::parse(&mine).unwrap());

        let e = resolve("solarized", Some(&dir)).unwrap_err();
        assert_eq!(e.0, "no theme named \"solarized\"; themes: dark, light, high-contrast, or a FILE.toml");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_theme_file_is_one_line_with_file_and_line() {
        let dir = temp_dir("bad");
        let path = dir.join("broken.toml");
        std::fs::write(&path, "background = \"#000000\"\nplain = \"white\"\n").unwrap();
        let e = resolve(path.to_str().unwrap(), None).unwrap_err();
        // Unknown and missing keys are reported before colour values, by the parser.
        assert!(e.0.starts_with(&format!("{}:", path.display())), "{e}");
        assert!(!e.0.contains('\n'), "{e}");
        std::fs::write(&path, BUILT_IN[0].1.replace("plain = \"#d8d8d8\"", "plain = \"white\"")).unwrap();
        let e = resolve(path.to_str().unwrap(), None).unwrap_err();
        let line = BUILT_IN[0].1.lines().position(|l| l.starts_with("plain")).unwrap() + 1;
        assert_eq!(
            e.0,
            format!("{}:{line}: plain = \"white\": not a colour, expected \"#rrggbb\"", path.display())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
