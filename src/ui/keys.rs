//! The key map, k9s-style. Keys change only the [`UiState`]; nothing here reaches the
//! cluster: a confirmed action comes back as [`KeyOutcome::Request`] for `app.rs` to send.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::model::Snapshot;

use super::explain_panel;
use super::flux_request;
use super::log_view::{self, LogView};
use super::placement_panel::{PlacementRows, Target};
use super::request::{READ_ONLY, Request};
use super::shards_panel::ShardRows;
use super::table::{Rows, Visible};
use super::theme::Theme;
use super::{Input, Panel, UiState, selected_details, selected_flux_key, view};
use crate::model::controller_log::LogSource;

/// What a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOutcome {
    /// Nothing: no need to redraw.
    Ignored,
    /// The state changed: redraw.
    Changed,
    /// The user asked to quit.
    Quit,
    /// The user confirmed an action: perform it (and redraw).
    Request(Request),
}

/// Rows the current panel shows under the current filter.
fn visible_rows(state: &UiState, snap: &Snapshot) -> usize {
    let view = view(snap, state.panel);
    Visible::of(view.rows(), &state.filter).len()
}

/// Applies one key to the state. `snap` is what is on screen, so movement can stop at
/// the last row and Enter opens details only on a real row.
pub fn handle_key(state: &mut UiState, key: KeyEvent, snap: &Snapshot) -> KeyOutcome {
    // Terminals with the kitty protocol (and Windows) also report releases.
    if key.kind == KeyEventKind::Release {
        return KeyOutcome::Ignored;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return KeyOutcome::Quit;
    }
    let before = state.clone();
    state.message = None;
    let mut confirmed = None;
    let quit = match state.input {
        Input::Filter => {
            filter_key(state, key, snap);
            false
        }
        Input::Command(_) => command_key(state, key),
        Input::Normal if state.confirm.is_some() => {
            confirmed = confirm_key(state, key);
            false
        }
        Input::Normal if state.help => overlay_key(state, key, |s| s.help = false),
        Input::Normal if state.logs.is_some() => {
            if let Some(view) = state.logs.as_mut() {
                if !log_view::key(view, key) {
                    state.logs = None;
                }
            }
            false
        }
        Input::Normal if state.explain.is_some() => explain_key(state, key, snap),
        Input::Normal if state.details => details_key(state, key, snap),
        // The user's bindings apply to the panels' keys (overlays keep theirs).
        Input::Normal => match state.keys.translate(key) {
            Some(key) => normal_key(state, key, snap),
            None => false,
        },
    };
    if quit {
        KeyOutcome::Quit
    } else if let Some(request) = confirmed {
        KeyOutcome::Request(request)
    } else if *state != before {
        KeyOutcome::Changed
    } else {
        KeyOutcome::Ignored
    }
}

fn typed(key: KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => Some(c),
        _ => None,
    }
}

/// The filter applies as it is typed, like k9s; Enter keeps it, Esc drops it.
fn filter_key(state: &mut UiState, key: KeyEvent, snap: &Snapshot) {
    match key.code {
        KeyCode::Enter => state.input = Input::Normal,
        KeyCode::Esc => {
            state.filter.clear();
            state.input = Input::Normal;
        }
        KeyCode::Backspace => {
            state.filter.pop();
        }
        _ => {
            if let Some(c) = typed(key) {
                state.filter.push(c);
            }
        }
    }
    // Row positions mean something else under a new filter: the first match is selected,
    // not the section heading shown above it for context.
    let view = view(snap, state.panel);
    let (rows, visible) = (view.rows(), Visible::of(view.rows(), &state.filter));
    let first_match = (0..visible.len())
        .find(|&p| visible.get(p).is_some_and(|i| rows.heading_of(i) != Some(i)))
        .unwrap_or(0);
    state.list_mut().selected = first_match;
}

/// `:name` Enter jumps to a panel; `:q` quits as in k9s and vim.
fn command_key(state: &mut UiState, key: KeyEvent) -> bool {
    let Input::Command(cmd) = &mut state.input else { return false };
    match key.code {
        KeyCode::Esc => state.input = Input::Normal,
        KeyCode::Backspace if cmd.is_empty() => state.input = Input::Normal,
        KeyCode::Backspace => {
            cmd.pop();
        }
        KeyCode::Enter => {
            let cmd = std::mem::take(cmd);
            state.input = Input::Normal;
            match cmd.trim() {
                "" => {}
                "q" | "q!" | "quit" => return true,
                name => match Panel::from_name(name) {
                    Some(p) => state.panel = p,
                    None => {
                        state.message = Some(format!(
                            "unknown panel \"{name}\": try :shards :placement :deps :assignment :events"
                        ))
                    }
                },
            }
        }
        _ => {
            if let Some(c) = typed(key) {
                cmd.push(c);
            }
        }
    }
    false
}

/// `y` confirms the pending action; any other key cancels it (and does nothing else).
fn confirm_key(state: &mut UiState, key: KeyEvent) -> Option<Request> {
    let request = state.confirm.take()?;
    if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
        state.message = Some(request.pending());
        Some(request)
    } else {
        state.message = Some("cancelled".into());
        None
    }
}

/// The panel row under the selection (the filter applied), if the panel has rows.
fn selected_row(state: &UiState, rows: &dyn Rows) -> Option<usize> {
    let visible = Visible::of(rows, &state.filter);
    visible.len().checked_sub(1).and_then(|last| visible.get(state.list().selected.min(last)))
}

/// The action an action key asks for on the selected row, or why there is none.
fn action_for(c: char, state: &UiState, snap: &Snapshot) -> Result<Request, String> {
    match (state.panel, c) {
        (Panel::Shards, 's') => shard_action(state, snap),
        (Panel::Placement, 's') => Err("s: scale a shard from the Shards panel (1)".into()),
        (Panel::Placement, _) => placement_action(c, state, snap),
        (Panel::Dependencies | Panel::Assignment, 'r' | 's' | 'u') => {
            let key = selected_flux_key(snap, state).ok_or(format!("{c}: select a Flux object first"))?;
            flux_request::request(c, key, snap).map(Request::Flux)
        }
        _ => Err(format!("{c}: no action on this panel")),
    }
}

/// `s` on a shard: scale its controllers to zero, or back to one when all are at zero.
fn shard_action(state: &UiState, snap: &Snapshot) -> Result<Request, String> {
    let rows = ShardRows::new(snap);
    let shard = selected_row(state, &rows).map(|i| &snap.shards[i]).ok_or("s: select a shard first")?;
    let at_zero = shard.controllers.iter().all(|c| c.desired == 0);
    Ok(Request::ScaleShard {
        shard: shard.name.clone(),
        replicas: if at_zero { 1 } else { 0 },
        deployments: shard.controllers.len(),
    })
}

/// The node and pod keys of the Placement panel.
fn placement_action(c: char, state: &UiState, snap: &Snapshot) -> Result<Request, String> {
    let rows = PlacementRows::new(snap);
    let node_faults = || state.cannot_fail_nodes.clone().map_or(Ok(()), |why| Err(format!("{c}: {why}")));
    match (c, selected_row(state, &rows).and_then(|i| rows.target(i))) {
        ('c', Some(Target::Node(n))) if n.cordoned => Err(format!("node {} is already cordoned", n.name)),
        ('c', Some(Target::Node(n))) => Ok(Request::Cordon(n.name.clone())),
        ('u', Some(Target::Node(n))) if !n.cordoned => Err(format!("node {} is not cordoned", n.name)),
        ('u', Some(Target::Node(n))) => Ok(Request::Uncordon(n.name.clone())),
        ('d', Some(Target::Node(n))) => Ok(Request::Drain(n.name.clone())),
        // A failed node's Ready condition goes Unknown (no heartbeats), then NotReady.
        ('f', Some(Target::Node(n))) if n.ready != Some(true) => {
            let now = if n.ready == Some(false) { "NotReady" } else { "not Ready (Unknown)" };
            Err(format!("node {} is already {now}", n.name))
        }
        ('f', Some(Target::Node(n))) => node_faults().map(|()| Request::FailNode(n.name.clone())),
        ('r', Some(Target::Node(n))) if n.ready == Some(true) => {
            Err(format!("node {} is already Ready", n.name))
        }
        ('r', Some(Target::Node(n))) => node_faults().map(|()| Request::RestoreNode(n.name.clone())),
        ('x', Some(Target::Pod(p))) => Ok(Request::DeletePod(p.name.clone())),
        ('x', _) => Err(format!("{c}: select a pod first")),
        _ => Err(format!("{c}: select a node first")),
    }
}

/// An action key: refused under read-only, else the confirmation overlay opens.
fn ask(c: char, state: &mut UiState, snap: &Snapshot) {
    if state.read_only {
        state.message = Some(READ_ONLY.into());
        return;
    }
    match action_for(c, state, snap) {
        Ok(request @ Request::Flux(_)) => state.confirm = Some(request),
        Ok(_) if state.remote_refusal.is_some() => {
            state.message = state.remote_refusal.as_ref().map(|why| format!("{c}: refused: {why}"));
        }
        Ok(request) => state.confirm = Some(request),
        Err(why) => state.message = Some(why),
    }
}

/// Help swallows keys so nothing moves underneath it.
fn overlay_key(state: &mut UiState, key: KeyEvent, close: impl FnOnce(&mut UiState)) -> bool {
    match key.code {
        KeyCode::Char('q') => return true,
        KeyCode::Esc | KeyCode::Char('?') => close(state),
        _ => {}
    }
    false
}

/// Moves an overlay's scroll offset `s` for a movement key, never past line `last`.
fn scroll(code: KeyCode, s: &mut u16, last: u16) {
    match code {
        KeyCode::Char('j') | KeyCode::Down => *s = s.saturating_add(1).min(last),
        KeyCode::Char('k') | KeyCode::Up => *s = s.saturating_sub(1),
        KeyCode::PageDown => *s = s.saturating_add(10).min(last),
        KeyCode::PageUp => *s = s.saturating_sub(10),
        KeyCode::Char('g') | KeyCode::Home => *s = 0,
        KeyCode::Char('G') | KeyCode::End => *s = last,
        _ => {}
    }
}

fn details_key(state: &mut UiState, key: KeyEvent, snap: &Snapshot) -> bool {
    // Scrolling past the end only shows blank lines; stop at the last one.
    let last = selected_details(snap, state, Theme::new(true)).map_or(0, |d| d.lines.len().saturating_sub(1));
    let last = u16::try_from(last).unwrap_or(u16::MAX);
    let s = &mut state.details_scroll;
    match key.code {
        KeyCode::Char('q') => return true,
        KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace => {
            state.details = false;
            state.details_scroll = 0;
        }
        KeyCode::Char('?') => state.help = true,
        KeyCode::Char('e') => {
            state.details = false;
            state.details_scroll = 0;
            open_explain(state, snap);
        }
        code => scroll(code, s, last),
    }
    false
}

/// `e`: the explanation view of the selected row's Flux object, or why there is none.
fn open_explain(state: &mut UiState, snap: &Snapshot) {
    match selected_flux_key(snap, state) {
        Some(key) => {
            state.explain = Some(key);
            state.explain_scroll = 0;
        }
        None => state.message = Some("e: select a Kustomization, HelmRelease or source first".into()),
    }
}

/// The explanation view scrolls like details; Esc (or `e` again) closes it.
fn explain_key(state: &mut UiState, key: KeyEvent, snap: &Snapshot) -> bool {
    let lines =
        state.explain.as_ref().map_or(0, |k| explain_panel::line_count(snap, k, state.explain_log.as_ref()));
    let last = u16::try_from(lines.saturating_sub(1)).unwrap_or(u16::MAX);
    let s = &mut state.explain_scroll;
    match key.code {
        KeyCode::Char('q') => return true,
        KeyCode::Esc | KeyCode::Backspace | KeyCode::Enter | KeyCode::Char('e') => {
            state.explain = None;
            state.explain_scroll = 0;
            state.explain_log = None;
        }
        KeyCode::Char('?') => state.help = true,
        KeyCode::Char('l') => {
            if let Some(key) = state.explain.clone() {
                state.logs = Some(LogView::new(LogSource::Object(key)));
            }
        }
        code => scroll(code, s, last),
    }
    false
}

/// `l`: the log of what the selected row stands for: a shard's controllers, a pod, or the
/// owning controller of a Flux object (the lines naming it).
fn open_logs(state: &mut UiState, snap: &Snapshot) {
    let source = match state.panel {
        Panel::Shards => {
            let rows = ShardRows::new(snap);
            selected_row(state, &rows).map(|i| &snap.shards[i]).map(|shard| {
                LogSource::Deployments(shard.controllers.iter().map(|c| c.deployment.clone()).collect())
            })
        }
        Panel::Placement => {
            let rows = PlacementRows::new(snap);
            match selected_row(state, &rows).and_then(|i| rows.target(i)) {
                Some(Target::Pod(p)) => Some(LogSource::Pod(p.name.clone())),
                _ => None,
            }
        }
        _ => selected_flux_key(snap, state).map(LogSource::Object),
    };
    match source {
        Some(LogSource::Deployments(d)) if d.is_empty() => {
            state.message = Some("l: this shard has no controller Deployment".into())
        }
        Some(source) => state.logs = Some(LogView::new(source)),
        None => {
            state.message = Some("l: select a shard, a pod, or a Flux object first".into());
        }
    }
}

fn switch(state: &mut UiState, panel: Panel) {
    state.panel = panel;
}

fn normal_key(state: &mut UiState, key: KeyEvent, snap: &Snapshot) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let rows = visible_rows(state, snap);
    let page = state.list().page_size() as isize;
    let panel = state.panel.index();
    let list = &mut state.lists[panel];
    match key.code {
        KeyCode::Char('q') => return true,
        KeyCode::Char('?') => state.help = true,
        KeyCode::Char('/') => {
            list.selected = 0;
            state.filter.clear();
            state.input = Input::Filter;
        }
        KeyCode::Char(':') => state.input = Input::Command(String::new()),
        KeyCode::Tab => switch(state, state.panel.next()),
        KeyCode::BackTab => switch(state, state.panel.prev()),
        KeyCode::Char(c @ '1'..='5') => switch(state, Panel::ALL[c as usize - '1' as usize]),
        KeyCode::Char('j') | KeyCode::Down => list.move_by(1, rows),
        KeyCode::Char('k') | KeyCode::Up => list.move_by(-1, rows),
        KeyCode::Char('f') if ctrl => list.move_by(page, rows),
        KeyCode::Char('b') if ctrl => list.move_by(-page, rows),
        KeyCode::PageDown => list.move_by(page, rows),
        KeyCode::PageUp => list.move_by(-page, rows),
        KeyCode::Char('g') | KeyCode::Home => list.selected = 0,
        KeyCode::Char('G') | KeyCode::End => list.selected = rows.saturating_sub(1),
        KeyCode::Enter if rows > 0 => {
            state.details = true;
            state.details_scroll = 0;
        }
        KeyCode::Esc => state.filter.clear(),
        KeyCode::Char('e') if !ctrl => open_explain(state, snap),
        KeyCode::Char('l') if !ctrl => open_logs(state, snap),
        KeyCode::Char('y') if !ctrl => super::clipboard::copy(state, snap),
        KeyCode::Char(c @ ('c' | 'u' | 'x' | 'd' | 'f' | 'r' | 's')) if !ctrl => ask(c, state, snap),
        _ => {}
    }
    false
}
