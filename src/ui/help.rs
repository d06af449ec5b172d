//! The `?` overlay: every key, and what the glyphs mean.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

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

/// Draws the help overlay centred in `area`.
pub fn render(buf: &mut Buffer, area: Rect, theme: Theme) {
    let rect = popup(area, 72, 22);
    if rect.is_empty() {
        return;
    }
    Clear.render(rect, buf);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| Line::from(vec![Span::styled(format!(" {k:<11}"), theme.key()), Span::raw(*what)]))
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
