//! The user's key bindings (the config file's `[keys]`): each single-key action may get
//! another character. A pressed key is translated to the action's built-in key before
//! the key map sees it, so the key map itself stays one table.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Translations from the keys the user chose to the built-in ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyBindings {
    /// (pressed, built-in) for every action whose key was changed.
    moved: Vec<(char, char)>,
    /// Built-in keys given up by a rebound action (and not taken by another): ignored.
    freed: Vec<char>,
}

/// Keys no action can take: panel numbers.
const FIXED: [char; 5] = ['1', '2', '3', '4', '5'];

impl KeyBindings {
    /// The bindable actions and their built-in keys.
    pub const ACTIONS: [(&'static str, char); 18] = [
        ("quit", 'q'),
        ("help", '?'),
        ("filter", '/'),
        ("command", ':'),
        ("down", 'j'),
        ("up", 'k'),
        ("first", 'g'),
        ("last", 'G'),
        ("explain", 'e'),
        ("logs", 'l'),
        ("copy", 'y'),
        ("cordon", 'c'),
        ("uncordon_resume", 'u'),
        ("drain", 'd'),
        ("fail_node", 'f'),
        ("reconcile_restore", 'r'),
        ("suspend_scale", 's'),
        ("delete_pod", 'x'),
    ];

    /// Bindings from `action → key`; an unknown action, a key that is not one character,
    /// or one key for two actions is an error saying which.
    pub fn new(wanted: &BTreeMap<String, String>) -> Result<KeyBindings, String> {
        let mut keys: BTreeMap<char, &str> = BTreeMap::new();
        let mut moved = Vec::new();
        for (action, default) in Self::ACTIONS {
            let key = match wanted.get(action) {
                None => default,
                Some(k) => {
                    let mut chars = k.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) if !c.is_whitespace() && !c.is_control() => c,
                        _ => return Err(format!("{action} = {k:?}: a key is one visible character")),
                    }
                }
            };
            if FIXED.contains(&key) {
                return Err(format!("{action} = \"{key}\": 1-5 switch panels and cannot be bound"));
            }
            if let Some(other) = keys.insert(key, action) {
                let (a, b) = if other < action { (other, action) } else { (action, other) };
                return Err(format!("\"{key}\" is bound to both {a} and {b}"));
            }
            if key != default {
                moved.push((key, default));
            }
        }
        if let Some(unknown) = wanted.keys().find(|a| !Self::ACTIONS.iter().any(|(n, _)| n == *a)) {
            let names: Vec<&str> = Self::ACTIONS.iter().map(|(n, _)| *n).collect();
            return Err(format!("unknown action {unknown:?}; actions: {}", names.join(", ")));
        }
        let freed = moved.iter().map(|(_, default)| *default).filter(|d| !keys.contains_key(d)).collect();
        Ok(KeyBindings { moved, freed })
    }

    /// The key as the built-in key map knows it; `None` for a built-in key given up.
    pub fn translate(&self, key: KeyEvent) -> Option<KeyEvent> {
        let KeyCode::Char(c) = key.code else { return Some(key) };
        if key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) {
            return Some(key);
        }
        if let Some((_, default)) = self.moved.iter().find(|(pressed, _)| *pressed == c) {
            return Some(KeyEvent { code: KeyCode::Char(*default), ..key });
        }
        if self.freed.contains(&c) { None } else { Some(key) }
    }

    /// The key the user presses for the action whose built-in key is `default`.
    pub fn key_for(&self, default: char) -> char {
        self.moved.iter().find(|(_, d)| *d == default).map_or(default, |(pressed, _)| *pressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(pairs: &[(&str, &str)]) -> Result<KeyBindings, String> {
        KeyBindings::new(&pairs.iter().map(|(a, k)| (a.to_string(), k.to_string())).collect())
    }

    fn press(b: &KeyBindings, c: char) -> Option<char> {
        match b.translate(KeyEvent::from(KeyCode::Char(c)))?.code {
            KeyCode::Char(c) => Some(c),
            _ => None,
        }
    }

    #[test]
    fn a_rebound_key_acts_and_its_old_key_is_freed() {
        let b = bind(&[("quit", "Q"), ("explain", "E")]).unwrap();
        assert_eq!(press(&b, 'Q'), Some('q'));
        assert_eq!(press(&b, 'q'), None, "q no longer quits");
        assert_eq!(press(&b, 'E'), Some('e'));
        assert_eq!(press(&b, 'j'), Some('j'), "unbound actions keep their key");
        assert_eq!(b.key_for('q'), 'Q');
        // Swapping two keys is allowed: each moves to the other.
        let swap = bind(&[("down", "k"), ("up", "j")]).unwrap();
        assert_eq!((press(&swap, 'k'), press(&swap, 'j')), (Some('j'), Some('k')));
        assert_eq!(KeyBindings::new(&BTreeMap::new()).unwrap(), KeyBindings::default());
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(bind(&[("quit", "j")]).unwrap_err(), "\"j\" is bound to both down and quit");
        assert!(bind(&[("quit", "Ctrl-q")]).unwrap_err().contains("one visible character"));
        assert!(bind(&[("logs", "2")]).unwrap_err().contains("cannot be bound"));
        assert!(
            bind(&[("reload", "R")])
                .unwrap_err()
                .starts_with("unknown action \"reload\"; actions: quit, help")
        );
    }
}

#[cfg(test)]
mod through_the_key_map {
    use super::*;
    use crate::ui::sample::snapshot;
    use crate::ui::{KeyOutcome, UiState, handle_key};

    #[test]
    fn the_dashboard_acts_on_the_bound_key_only() {
        let wanted = [("quit".to_string(), "Q".to_string()), ("help".to_string(), "h".to_string())];
        let mut state =
            UiState { keys: KeyBindings::new(&wanted.into_iter().collect()).unwrap(), ..UiState::default() };
        let snap = snapshot();
        let key = |c| KeyEvent::from(KeyCode::Char(c));
        assert_eq!(handle_key(&mut state, key('q'), &snap), KeyOutcome::Ignored);
        assert_eq!(handle_key(&mut state, key('h'), &snap), KeyOutcome::Changed);
        assert!(state.help);
        state.help = false;
        assert_eq!(handle_key(&mut state, key('Q'), &snap), KeyOutcome::Quit);
    }
}
