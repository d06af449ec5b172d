//! Every shipped theme and the monochrome screen, drawn: snapshots with the colours of
//! each run of cells, and a check that every character on screen is legible (WCAG
//! contrast of the colours it is actually drawn in, or a distinct glyph without colour).

use std::fmt::Write;

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};

use super::Panel;
use super::palette::{BORDER_CONTRAST, BUILT_IN, Palette, TEXT_CONTRAST, contrast};
use super::sample::snapshot_with_failover;
use super::tests::{draw_to, text};
use super::{Request, UiState};

/// The colours a cell shows: reversed cells swap them, as a terminal does.
fn shown(cell: &Cell) -> (Color, Color) {
    if cell.modifier.contains(Modifier::REVERSED) { (cell.bg, cell.fg) } else { (cell.fg, cell.bg) }
}

/// The screen's text, then per line the runs of equal colours, so a colour change shows
/// in the snapshot's diff.
fn styled(buf: &Buffer) -> String {
    let mut out = text(buf);
    out.push_str("\n\n-- colours per line: columns fg/bg [modifiers]\n");
    let width = buf.area.width as usize;
    for (y, row) in buf.content.chunks(width).enumerate() {
        let _ = write!(out, "{y:2}:");
        let mut x = 0;
        while x < row.len() {
            let key = (row[x].fg, row[x].bg, row[x].modifier);
            let start = x;
            while x < row.len() && (row[x].fg, row[x].bg, row[x].modifier) == key {
                x += 1;
            }
            let mods = if key.2.is_empty() { String::new() } else { format!(" {:?}", key.2) };
            let _ = write!(out, " {start}-{} {}/{}{mods}", x - 1, name(key.0), name(key.1));
        }
        out.push('\n');
    }
    out
}

fn name(c: Color) -> String {
    match c {
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        other => format!("{other:?}"),
    }
}

/// Box-drawing characters are borders (3:1); everything else is text (4.5:1).
fn needed(symbol: &str) -> f64 {
    if symbol.chars().all(|c| ('\u{2500}'..='\u{257f}').contains(&c)) {
        BORDER_CONTRAST
    } else {
        TEXT_CONTRAST
    }
}

/// Every visible character's contrast on screen, or the first that fails.
fn legible(buf: &Buffer) -> Result<(), String> {
    for (i, cell) in buf.content.iter().enumerate() {
        if cell.symbol().trim().is_empty() {
            continue;
        }
        let (fg, bg) = shown(cell);
        let ratio = contrast(fg, bg)
            .ok_or_else(|| format!("cell {i} {:?}: not RGB ({fg:?} on {bg:?})", cell.symbol()))?;
        if ratio < needed(cell.symbol()) {
            let (x, y) = (i % buf.area.width as usize, i / buf.area.width as usize);
            return Err(format!(
                "{:?} at {x},{y}: {} on {} is {ratio:.2}:1",
                cell.symbol(),
                name(fg),
                name(bg)
            ));
        }
    }
    Ok(())
}

/// The screens worth checking: each panel, a selection, help, details and a confirmation.
fn states(palette: Palette, no_color: bool) -> Vec<(String, UiState)> {
    let base = UiState { palette, no_color, ..UiState::default() };
    let mut out: Vec<(String, UiState)> =
        Panel::ALL.iter().map(|p| (format!("{p:?}"), UiState { panel: *p, ..base.clone() })).collect();
    let mut selected = UiState { panel: Panel::Dependencies, ..base.clone() };
    selected.lists[Panel::Dependencies.index()].selected = 3;
    out.push(("selected".into(), selected));
    out.push(("help".into(), UiState { help: true, ..base.clone() }));
    out.push(("details".into(), UiState { details: true, panel: Panel::Events, ..base.clone() }));
    out.push(("confirm".into(), UiState { confirm: Some(Request::Cordon("worker2".into())), ..base }));
    out
}

#[test]
fn every_theme_draws_every_screen_legibly() {
    let snap = snapshot_with_failover();
    for (theme, toml) in BUILT_IN {
        let palette = Palette::parse(toml).expect("shipped theme");
        for (screen, state) in states(palette, false) {
            for (w, h) in [(80, 24), (160, 48)] {
                let buf = draw_to(&snap, &state, w, h);
                if let Err(e) = legible(&buf) {
                    panic!("theme {theme}, {screen} at {w}x{h}: {e}");
                }
            }
        }
    }
}

#[test]
fn themes_snapshots() {
    let snap = snapshot_with_failover();
    for (theme, toml) in BUILT_IN {
        let palette = Palette::parse(toml).expect("shipped theme");
        let mut state = UiState { palette, panel: Panel::Dependencies, ..UiState::default() };
        state.lists[Panel::Dependencies.index()].selected = 3;
        insta::assert_snapshot!(
            format!("theme_{theme}_dependencies_80x24"),
            styled(&draw_to(&snap, &state, 80, 24))
        );
    }
}

#[test]
fn no_color_screens_have_no_colour_and_keep_every_state_apart() {
    let snap = snapshot_with_failover();
    for (screen, state) in states(Palette::default(), true) {
        let buf = draw_to(&snap, &state, 160, 48);
        let coloured = buf.content.iter().filter(|c| c.fg != Color::Reset || c.bg != Color::Reset).count();
        assert_eq!(coloured, 0, "NO_COLOR, {screen}: {coloured} cells have a colour");
    }
    let mut state = UiState { no_color: true, panel: Panel::Dependencies, ..UiState::default() };
    state.lists[Panel::Dependencies.index()].selected = 3;
    insta::assert_snapshot!("theme_no_color_dependencies_80x24", styled(&draw_to(&snap, &state, 80, 24)));
    state.panel = Panel::Events;
    insta::assert_snapshot!("theme_no_color_events_80x24", styled(&draw_to(&snap, &state, 80, 24)));
}

#[test]
fn every_theme_draws_the_up_progress_screen_legibly() {
    use std::time::Duration;

    use ratatui::layout::Rect;

    use super::progress::{ProgressView, render};
    use super::theme::Theme;

    let mut running = ProgressView::default();
    running.step(Duration::ZERO, "cluster (Local)");
    running.step(Duration::from_secs(2), "server-side apply (CRDs first)");
    running.detail("created 30 objects");
    running.status("waiting for 13 Deployments to be Available");
    let mut asking = running.clone();
    asking.ask("Apply this to context kind-shardwatch at https://127.0.0.1:6443 (create 33, change 0)?");
    let mut failed = running.clone();
    failed.failed = Some("kube-apiserver not ready after 120s".into());
    let mut done = running.clone();
    done.finish(Duration::from_secs(9));
    for (theme, toml) in BUILT_IN {
        let palette = Palette::parse(toml).expect("shipped theme");
        for (screen, view) in
            [("running", &running), ("asking", &asking), ("failed", &failed), ("done", &done)]
        {
            let area = Rect::new(0, 0, 100, 30);
            let mut buf = Buffer::empty(area);
            render(&mut buf, area, view, Duration::from_secs(5), 3, Theme::with(false, palette));
            if let Err(e) = legible(&buf) {
                panic!("theme {theme}, up progress {screen}: {e}");
            }
        }
    }
}
