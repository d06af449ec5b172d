//! The `?` overlay: every key, and what the glyphs mean.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use super::KeyBindings;
use super::layout::popup;
use super::theme::{Theme, Tone};

/// Keys and what they do, in the order a newcomer needs them.
pub const KEYS: [(&str, &str); 16] = [
    ("?", "show / hide this help"),
    ("1-5", "Shards, Placement, Dependencies, Assignment, Events"),
    ("Tab S-Tab", "next / previous panel"),
    (":name", "jump to a panel by name or prefix (:dep, :ev), Enter"),
    ("/text", "filter the panel's rows (Enter keeps, Esc clears)"),
    ("j k ↑ ↓", "move (PgUp PgDn: a page; mouse: wheel, click a row or tab)"),
    ("g G", "first / last row (also Home End)"),
    ("Enter  e", "details / explain why a Flux object is not Ready"),
    ("l", "log of a shard's controllers, a pod, or a Flux object"),
    ("r s u", "Flux object: reconcile / suspend / resume it (asks y/N)"),
    ("Esc", "close, go back, clear the filter"),
    ("c u d f r", "Placement, node: cordon/uncordon/drain/fail/restore (y/N)"),
    ("x", "Placement, pod: delete it (asks y/N)"),
    ("s", "Shards: scale the shard to zero, or back to 1 (asks y/N)"),
    ("y", "copy a flux/kubectl command for the selection (OSC 52)"),
    ("q", "quit (Ctrl-C anywhere)"),
];

/// A key column as the user's bindings have it: each one-character key, and the first
/// character of `:name` and `/text`, becomes the key the user presses for that action.
fn bound(column: &str, keys: &KeyBindings) -> String {
    column
        .split(' ')
        .map(|token| {
            let mut chars = token.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => keys.key_for(c).to_string(),
                (Some(c @ (':' | '/')), Some(_)) => format!("{}{}", keys.key_for(c), &token[1..]),
                _ => token.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Draws the help overlay centred in `area`, with the keys as `keys` binds them.
pub fn render(buf: &mut Buffer, area: Rect, theme: Theme, keys: &KeyBindings) {
    let rect = popup(area, 72, 22);
    if rect.is_empty() {
        return;
    }
    Clear.render(rect, buf);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![Span::styled(format!(" {:<11}", bound(k, keys)), theme.key()), Span::raw(*what)])
        })
        .collect();
    // No blank line before the legend: at 80x24 the overlay has exactly 22 rows.
    let legend = |glyphs: &[(&'static str, Tone, &'static str)]| -> Line<'static> {
        let mut spans = vec![Span::raw(" ")];
        for (g, tone, what) in glyphs {
            spans.push(Span::styled(*g, theme.tone(*tone)));
            spans.push(Span::raw(format!(" {what}  ")));
        }
        Line::from(spans)
    };
    lines.push(Line::styled(" Glyphs", theme.heading()));
    lines.push(legend(&[
        ("●", Tone::Good, "healthy"),
        ("◐", Tone::Warn, "degraded"),
        ("○", Tone::Bad, "down"),
        ("?", Tone::Muted, "unknown"),
        ("↺", Tone::Plain, "restarts"),
    ]));
    lines.push(legend(&[
        ("✓", Tone::Good, "ready"),
        ("↻", Tone::Warn, "progressing"),
        ("…", Tone::Warn, "waiting"),
        ("✕", Tone::Bad, "failed"),
        ("‖", Tone::Muted, "suspended"),
        ("~", Tone::Warn, "stale"),
    ]));
    lines.push(legend(&[
        ("!n", Tone::Bad, "problems on a tab"),
        ("⤷", Tone::Warn, "root cause of a blocked chain"),
    ]));
    let block = Block::bordered()
        .border_style(theme.border())
        .title(Line::styled(" Help ", theme.heading()))
        .title_bottom(
            Line::from(vec![
                Span::styled(" ? ", theme.key()),
                Span::raw("or "),
                Span::styled("Esc ", theme.key()),
                Span::raw("closes "),
            ])
            .right_aligned(),
        );
    Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).render(rect, buf);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_help_names_the_keys_the_user_bound() {
        let wanted: BTreeMap<String, String> =
            [("quit", "Q"), ("filter", "f"), ("fail_node", "F"), ("explain", "E")]
                .into_iter()
                .map(|(a, k)| (a.to_string(), k.to_string()))
                .collect();
        let keys = KeyBindings::new(&wanted).unwrap();
        assert_eq!(bound("q", &keys), "Q");
        assert_eq!(bound("/text", &keys), "ftext");
        assert_eq!(bound("c u d f r", &keys), "c u d F r");
        assert_eq!(bound("Enter  e", &keys), "Enter  E");
        assert_eq!(bound("Tab S-Tab", &keys), "Tab S-Tab");
        assert_eq!(bound("j k ↑ ↓", &keys), "j k ↑ ↓");
        let none = KeyBindings::default();
        assert!(KEYS.iter().all(|(k, _)| bound(k, &none) == *k), "unbound: the built-in keys");
    }
}
