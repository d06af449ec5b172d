//! The replay's bottom line: playing or paused, speed, a bar of the recorded span with
//! the position on it, the recorded clock, and the replay keys.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::text::fit;
use super::theme::{Theme, Tone};
use crate::model::objects::Time;

/// Where a replay is, as the bar shows it (plain values; the UI sees no player).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayPosition {
    /// Recorded time from the start to the position.
    pub elapsed: Duration,
    /// The whole recorded span.
    pub length: Duration,
    /// The recorded instant shown.
    pub at: Time,
    /// Events applied so far.
    pub applied: usize,
    /// Events in the recording.
    pub events: usize,
    /// Recorded seconds per real second.
    pub speed: f64,
    /// Paused (by the user, or stepping).
    pub paused: bool,
    /// At the end of the recording.
    pub ended: bool,
}

/// `1:05`, `12:40`, `1:02:03`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// `1×`, `100×`, `0.5×`.
fn speed(s: f64) -> String {
    if s.fract() == 0.0 { format!("{s:.0}×") } else { format!("{s}×") }
}

/// Draws the bar on one line of `area`.
pub fn render(buf: &mut Buffer, area: Rect, pos: &ReplayPosition, theme: Theme) {
    if area.is_empty() {
        return;
    }
    let (mark, state) = match (pos.ended, pos.paused) {
        (true, _) => ("■", "end"),
        (false, true) => ("‖", "paused"),
        (false, false) => ("▶", "playing"),
    };
    let left = format!(" {mark} {state} {} ", speed(pos.speed));
    let times = format!(
        " {} / {}  {}  event {}/{} ",
        clock(pos.elapsed),
        clock(pos.length),
        pos.at.format("%H:%M:%S UTC"),
        pos.applied,
        pos.events
    );
    let keys = [("space", "pause"), (".", "step"), ("←/→", "10s"), ("+/-", "speed")];
    let hint_width: usize = keys.iter().map(|(k, w)| k.chars().count() + w.len() + 3).sum();
    let fixed = left.chars().count() + times.chars().count();
    let width = area.width as usize;
    // The bar takes what the words leave, at least 10 cells; the hints go first when short.
    let with_hints = width >= fixed + hint_width + 10;
    let bar_width = width.saturating_sub(fixed + if with_hints { hint_width } else { 0 }).max(10);
    let fraction =
        if pos.length.is_zero() { 1.0 } else { pos.elapsed.as_secs_f64() / pos.length.as_secs_f64() };
    let done = ((fraction.clamp(0.0, 1.0) * bar_width as f64).round() as usize).min(bar_width);
    let tone = if pos.ended {
        Tone::Muted
    } else if pos.paused {
        Tone::Warn
    } else {
        Tone::Good
    };
    let mut spans = vec![
        Span::styled(left, theme.tone(tone).add_modifier(ratatui::style::Modifier::BOLD)),
        Span::styled("━".repeat(done), theme.heading()),
        Span::styled("─".repeat(bar_width - done), theme.dim()),
        Span::raw(times),
    ];
    if with_hints {
        for (k, what) in keys {
            spans.push(Span::styled(format!(" {k}"), theme.key()));
            spans.push(Span::styled(format!(" {what} "), theme.dim()));
        }
    }
    fit(Line::from(spans), width).render(Rect { height: 1, ..area }, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn line(pos: &ReplayPosition, width: u16) -> String {
        let area = Rect::new(0, 0, width, 1);
        let mut buf = Buffer::empty(area);
        render(&mut buf, area, pos, Theme::new(true));
        (0..width).map(|x| buf[(x, 0)].symbol().to_string()).collect()
    }

    #[test]
    fn the_bar_shows_state_speed_position_and_keys() {
        let pos = ReplayPosition {
            elapsed: Duration::from_secs(65),
            length: Duration::from_secs(130),
            at: Utc.with_ymd_and_hms(2026, 11, 30, 12, 1, 5).unwrap(),
            applied: 40,
            events: 80,
            speed: 100.0,
            paused: false,
            ended: false,
        };
        let wide = line(&pos, 140);
        assert!(wide.starts_with(" ▶ playing 100× "), "{wide}");
        assert!(wide.contains(" 1:05 / 2:10  12:01:05 UTC  event 40/80 "), "{wide}");
        assert!(wide.contains("space pause"), "{wide}");
        // Half the span done: as many filled cells as empty ones.
        let (filled, empty) = (wide.matches('━').count(), wide.matches('─').count());
        assert!(filled.abs_diff(empty) <= 1, "{filled} filled, {empty} empty: {wide}");
        let narrow = line(&ReplayPosition { paused: true, speed: 0.5, ..pos.clone() }, 60);
        assert!(narrow.starts_with(" ‖ paused 0.5× "), "{narrow}");
        assert!(!narrow.contains("space"), "hints go first on a narrow screen: {narrow}");
        let end = line(&ReplayPosition { ended: true, elapsed: pos.length, ..pos }, 80);
        assert!(end.starts_with(" ■ end "), "{end}");
        assert!(!end.contains('─'), "the whole bar is done at the end: {end}");
    }
}
