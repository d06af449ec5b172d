//! Colours per state and health, in one place so every panel agrees; the colours
//! themselves come from the theme's [`Palette`].
//!
//! With `no_color` (the `NO_COLOR` convention) no foreground or background colour is
//! ever set: severity is carried by modifiers (bold, dim, reversed) and by the shape of
//! the glyphs, which differ per state so nothing relies on colour alone.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

pub use super::palette::Palette;

use crate::model::flux_state::ObjectState;
use crate::model::shards::Health;
use crate::model::timeline::Severity;
use crate::model::verdict::Verdict;

/// How bad something is, independent of what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Working as intended.
    Good,
    /// Needs attention.
    Warn,
    /// Broken.
    Bad,
    /// Deliberately inactive or not known.
    Muted,
    /// Neutral text.
    Plain,
}

/// Styles for tones, states and chrome, from a palette or without colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Use modifiers only, never colours.
    pub no_color: bool,
    /// The colours, when `no_color` is off.
    pub palette: Palette,
}

impl Theme {
    /// The default (dark) theme, with or without colours.
    pub fn new(no_color: bool) -> Theme {
        Theme { no_color, palette: Palette::default() }
    }

    /// A theme with these colours (none with `no_color`).
    pub fn with(no_color: bool, palette: Palette) -> Theme {
        Theme { no_color, palette }
    }

    /// Gives every cell of `area` still on the terminal's defaults the theme's text and
    /// background colours, so the contrast checked for the palette is what is shown
    /// whatever the terminal's own colours are. Run after drawing (overlays clear cells).
    pub fn paint_defaults(self, buf: &mut Buffer, area: Rect) {
        if self.no_color {
            return;
        }
        let area = area.intersection(buf.area);
        for y in area.top()..area.bottom() {
            for x in area.left()..area.right() {
                let cell = &mut buf[(x, y)];
                if cell.fg == Color::Reset {
                    cell.fg = self.palette.plain;
                }
                if cell.bg == Color::Reset {
                    cell.bg = self.palette.background;
                }
            }
        }
    }

    /// The style for a tone.
    pub fn tone(self, tone: Tone) -> Style {
        if self.no_color {
            return match tone {
                Tone::Bad => Style::new().add_modifier(Modifier::BOLD),
                Tone::Muted => Style::new().add_modifier(Modifier::DIM),
                Tone::Good | Tone::Warn | Tone::Plain => Style::new(),
            };
        }
        let p = self.palette;
        match tone {
            Tone::Good => Style::new().fg(p.good),
            Tone::Warn => Style::new().fg(p.warn),
            Tone::Bad => Style::new().fg(p.bad).add_modifier(Modifier::BOLD),
            Tone::Muted => Style::new().fg(p.muted),
            Tone::Plain => Style::new(),
        }
    }

    /// Highlight of the selected row.
    pub fn selected(self) -> Style {
        if self.no_color {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            // Every tone's colour keeps 4.5:1 on the bar (palette test), so spans stay readable.
            Style::new().bg(self.palette.selection).add_modifier(Modifier::BOLD)
        }
    }

    /// Column titles and section headings.
    pub fn heading(self) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if self.no_color { s } else { s.fg(self.palette.heading) }
    }

    /// Key names in hints and help.
    pub fn key(self) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if self.no_color { s } else { s.fg(self.palette.key) }
    }

    /// The active panel's tab.
    pub fn active_tab(self) -> Style {
        if self.no_color {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::new().fg(self.palette.background).bg(self.palette.heading).add_modifier(Modifier::BOLD)
        }
    }

    /// Borders of panels and overlays.
    pub fn border(self) -> Style {
        if self.no_color { Style::new() } else { Style::new().fg(self.palette.border) }
    }

    /// Muted secondary text.
    pub fn dim(self) -> Style {
        self.tone(Tone::Muted)
    }

    /// The style of a health verdict.
    pub fn health(self, h: Health) -> Style {
        self.tone(health_tone(h))
    }

    /// The style of a Flux object state.
    pub fn state(self, s: ObjectState) -> Style {
        self.tone(state_tone(s))
    }
}

/// The tone of a controller or shard health.
pub fn health_tone(h: Health) -> Tone {
    match h {
        Health::Healthy => Tone::Good,
        Health::Degraded => Tone::Warn,
        Health::Down => Tone::Bad,
        Health::Unknown => Tone::Muted,
    }
}

/// A glyph per health; shapes differ so health reads without colour.
pub fn health_glyph(h: Health) -> &'static str {
    match h {
        Health::Healthy => "●",
        Health::Degraded => "◐",
        Health::Down => "○",
        Health::Unknown => "?",
    }
}

/// The tone of a Flux object state.
pub fn state_tone(s: ObjectState) -> Tone {
    match s {
        ObjectState::Ready => Tone::Good,
        ObjectState::Progressing | ObjectState::Waiting | ObjectState::Stale => Tone::Warn,
        ObjectState::Failed => Tone::Bad,
        ObjectState::Suspended | ObjectState::Unknown => Tone::Muted,
    }
}

/// A glyph per object state.
pub fn state_glyph(s: ObjectState) -> &'static str {
    match s {
        ObjectState::Ready => "✓",
        ObjectState::Progressing => "↻",
        ObjectState::Waiting => "…",
        ObjectState::Failed => "✕",
        ObjectState::Suspended => "‖",
        ObjectState::Stale => "~",
        ObjectState::Unknown => "?",
    }
}

/// The tone of an event log entry.
pub fn severity_tone(s: Severity) -> Tone {
    match s {
        Severity::Info => Tone::Plain,
        Severity::Warning => Tone::Warn,
    }
}

/// A glyph per event severity.
pub fn severity_glyph(s: Severity) -> &'static str {
    match s {
        Severity::Info => "·",
        Severity::Warning => "!",
    }
}

/// The tone of the overall verdict.
pub fn verdict_tone(v: Verdict) -> Tone {
    match v {
        Verdict::Healthy => Tone::Good,
        Verdict::Degraded => Tone::Warn,
        Verdict::Failing => Tone::Bad,
        Verdict::Unknown => Tone::Muted,
    }
}

/// A glyph per verdict, beside its word in the header.
pub fn verdict_glyph(v: Verdict) -> &'static str {
    match v {
        Verdict::Healthy => "●",
        Verdict::Degraded => "◐",
        Verdict::Failing => "✕",
        Verdict::Unknown => "?",
    }
}

/// The verdict as shown in the header.
pub fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Healthy => "HEALTHY",
        Verdict::Degraded => "DEGRADED",
        Verdict::Failing => "FAILING",
        Verdict::Unknown => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Every variant; the match fails to compile when a variant is added, so the list
    /// below is updated with it.
    fn all_states() -> [ObjectState; 7] {
        match ObjectState::Ready {
            ObjectState::Ready
            | ObjectState::Progressing
            | ObjectState::Waiting
            | ObjectState::Failed
            | ObjectState::Suspended
            | ObjectState::Stale
            | ObjectState::Unknown => {}
        }
        use ObjectState::*;
        [Ready, Progressing, Waiting, Failed, Suspended, Stale, Unknown]
    }

    fn all_health() -> [Health; 4] {
        match Health::Healthy {
            Health::Healthy | Health::Degraded | Health::Down | Health::Unknown => {}
        }
        [Health::Healthy, Health::Degraded, Health::Down, Health::Unknown]
    }

    fn all_severities() -> [Severity; 2] {
        match Severity::Info {
            Severity::Info | Severity::Warning => {}
        }
        [Severity::Info, Severity::Warning]
    }

    fn all_verdicts() -> [Verdict; 4] {
        match Verdict::Healthy {
            Verdict::Healthy | Verdict::Degraded | Verdict::Failing | Verdict::Unknown => {}
        }
        [Verdict::Healthy, Verdict::Degraded, Verdict::Failing, Verdict::Unknown]
    }

    /// Glyphs of one kind are all visible and all different.
    fn distinct(kind: &str, glyphs: Vec<&'static str>) {
        assert!(glyphs.iter().all(|g| !g.trim().is_empty()), "{kind}: a blank glyph in {glyphs:?}");
        let unique: HashSet<_> = glyphs.iter().collect();
        assert_eq!(unique.len(), glyphs.len(), "{kind}: two states share a glyph in {glyphs:?}");
    }

    #[test]
    fn every_state_has_its_own_glyph_so_no_color_loses_nothing() {
        distinct("ObjectState", all_states().map(state_glyph).to_vec());
        distinct("Health", all_health().map(health_glyph).to_vec());
        distinct("Severity", all_severities().map(severity_glyph).to_vec());
        distinct("Verdict", all_verdicts().map(verdict_glyph).to_vec());
    }

    #[test]
    fn no_color_styles_set_no_colour() {
        let theme = Theme::new(true);
        let tones = [Tone::Good, Tone::Warn, Tone::Bad, Tone::Muted, Tone::Plain];
        let mut styles: Vec<Style> = tones.iter().map(|t| theme.tone(*t)).collect();
        styles.extend([theme.selected(), theme.heading(), theme.key(), theme.active_tab(), theme.border()]);
        for s in styles {
            assert_eq!((s.fg, s.bg), (None, None), "{s:?}");
        }
    }
}
