//! Colours per state and health, in one place so every panel agrees.
//!
//! With `no_color` (the `NO_COLOR` convention) no foreground or background colour is
//! ever set: severity is carried by modifiers (bold, dim, reversed) and by the shape of
//! the glyphs, which differ per state so nothing relies on colour alone.

use ratatui::style::{Color, Modifier, Style};

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

/// The selection bar: a 256-colour dark grey, darker than muted text (DarkGray).
pub const SELECTED_BG: Color = Color::Indexed(237);

/// The palette: styles for tones, states and chrome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Use modifiers only, never colours.
    pub no_color: bool,
}

impl Theme {
    /// A theme with or without colours.
    pub fn new(no_color: bool) -> Theme {
        Theme { no_color }
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
        match tone {
            Tone::Good => Style::new().fg(Color::Green),
            Tone::Warn => Style::new().fg(Color::Yellow),
            Tone::Bad => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Tone::Muted => Style::new().fg(Color::DarkGray),
            Tone::Plain => Style::new(),
        }
    }

    /// Highlight of the selected row.
    pub fn selected(self) -> Style {
        if self.no_color {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            // Darker than the muted text colour, so dim spans stay readable on the bar.
            Style::new().bg(SELECTED_BG).add_modifier(Modifier::BOLD)
        }
    }

    /// Column titles and section headings.
    pub fn heading(self) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if self.no_color { s } else { s.fg(Color::Cyan) }
    }

    /// Key names in hints and help.
    pub fn key(self) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if self.no_color { s } else { s.fg(Color::Yellow) }
    }

    /// The active panel's tab.
    pub fn active_tab(self) -> Style {
        if self.no_color {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::new().fg(Color::Black).bg(Color::Cyan).add_modifier(Modifier::BOLD)
        }
    }

    /// Borders of panels and overlays.
    pub fn border(self) -> Style {
        if self.no_color { Style::new() } else { Style::new().fg(Color::Blue) }
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

/// The tone of the overall verdict.
pub fn verdict_tone(v: Verdict) -> Tone {
    match v {
        Verdict::Healthy => Tone::Good,
        Verdict::Degraded => Tone::Warn,
        Verdict::Failing => Tone::Bad,
        Verdict::Unknown => Tone::Muted,
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
