//! The bottom line: what the keys do now, the prompt being typed, the active filter.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::text::fit;
use super::theme::{Theme, Tone};
use super::{Input, UiState};

fn hints(pairs: &[(&str, &str)], theme: Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (key, what) in pairs {
        spans.push(Span::styled(format!(" {key}"), theme.key()));
        spans.push(Span::styled(format!(" {what} "), theme.dim()));
    }
    spans
}

/// Draws the footer line.
pub fn render(buf: &mut Buffer, area: Rect, state: &UiState, theme: Theme) {
    if area.is_empty() {
        return;
    }
    let cursor = Span::styled("▏", theme.key());
    // The panels' keys as the config file binds them, as the help overlay names them.
    let key = |default: char| state.keys.key_for(default).to_string();
    let (help, filter, panel, quit) = (key('?'), key('/'), key(':'), key('q'));
    let line = match &state.input {
        Input::Filter => {
            let mut spans = vec![Span::styled(" /", theme.key()), Span::raw(state.filter.clone()), cursor];
            spans.extend(hints(&[("Enter", "keep"), ("Esc", "clear")], theme));
            Line::from(spans)
        }
        Input::Command(cmd) => {
            let mut spans = vec![Span::styled(" :", theme.key()), Span::raw(cmd.clone()), cursor];
            spans.push(Span::styled("  shards placement dependencies assignment events", theme.dim()));
            Line::from(spans)
        }
        Input::Normal if state.confirm.is_some() => {
            Line::from(hints(&[("y", "confirm"), ("any other key", "cancels")], theme))
        }
        Input::Normal if state.message.is_some() => {
            Line::styled(format!(" {}", state.message.clone().unwrap_or_default()), theme.tone(Tone::Warn))
        }
        // Overlays keep their built-in keys.
        Input::Normal if state.help => Line::from(hints(&[("?", "close help"), ("q", "quit")], theme)),
        Input::Normal if state.details || state.explain.is_some() => {
            Line::from(hints(&[("Esc", "back"), ("j/k", "scroll"), ("q", "quit")], theme))
        }
        Input::Normal => {
            let mut spans = Vec::new();
            if !state.filter.is_empty() {
                spans.push(Span::styled(format!(" /{}", state.filter), theme.key()));
                spans.push(Span::styled(" (Esc clears) ", theme.dim()));
            }
            spans.extend(hints(
                &[
                    (&help, "help"),
                    (&filter, "filter"),
                    (&panel, "panel"),
                    ("Tab", "next"),
                    ("Enter", "details"),
                    (&quit, "quit"),
                ],
                theme,
            ));
            Line::from(spans)
        }
    };
    fit(line, area.width as usize).render(area, buf);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ui::key_bindings::KeyBindings;

    fn footer(state: &UiState) -> String {
        let area = Rect::new(0, 0, 100, 1);
        let mut buf = Buffer::empty(area);
        render(&mut buf, area, state, Theme::new(true));
        (0..area.width).map(|x| buf[(x, 0)].symbol().to_string()).collect()
    }

    #[test]
    fn the_hints_name_the_keys_the_user_bound() {
        let mut state = UiState::new(true);
        assert!(footer(&state).contains(" ? help  / filter  : panel  Tab next  Enter details  q quit"));
        let wanted: BTreeMap<String, String> = [("quit", "Q"), ("filter", "F"), ("help", "H")]
            .into_iter()
            .map(|(a, k)| (a.into(), k.into()))
            .collect();
        state.keys = KeyBindings::new(&wanted).unwrap();
        assert!(
            footer(&state).contains(" H help  F filter  : panel  Tab next  Enter details  Q quit"),
            "{}",
            footer(&state)
        );
        // Overlays keep their built-in keys, and say so.
        state.help = true;
        assert!(footer(&state).contains(" ? close help  q quit"), "{}", footer(&state));
    }
}
