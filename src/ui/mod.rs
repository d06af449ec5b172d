//! The terminal UI: panels drawn from a [`Snapshot`] and the keys that move between them.
//!
//! Everything here is a pure function of the snapshot and the [`UiState`]: no kube
//! types, no I/O, no clock. `app.rs` owns both, calls [`handle_key`] for input and
//! [`draw`] when something changed.

mod assignment_panel;
mod clipboard;
mod dependencies_panel;
mod details;
mod events_panel;
mod explain_panel;
mod flux_request;
mod footer;
mod header;
mod help;
mod key_bindings;
mod keys;
mod layout;
pub mod log_view;
mod mouse;
mod object_events;
pub mod palette;
pub mod picture;
mod placement_panel;
pub mod position_bar;
pub mod progress;
mod request;
mod selection;
mod shards_panel;
mod table;
mod text;
pub mod theme;
mod visibility;

#[cfg(test)]
mod sample;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_flux;
#[cfg(test)]
mod tests_hostile;
#[cfg(test)]
mod tests_keys;
#[cfg(test)]
mod tests_theme;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use crate::model::Snapshot;
use crate::model::controller_log::{LogSource, LogWindow};
use crate::model::objects::FluxKey;

pub use clipboard::flux_reconcile;
pub use flux_request::FluxVerb;
pub use key_bindings::KeyBindings;
pub use keys::{KeyOutcome, handle_key};
pub use mouse::handle_mouse;
pub use request::Request;
pub use selection::{follow as follow_selection, remember as remember_selection};
pub use table::ListState;

use details::Details;
use table::{Rows, Visible};
use theme::Theme;

/// The panels, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Panel {
    /// Controllers per shard.
    #[default]
    Shards,
    /// Nodes, pods and placement violations.
    Placement,
    /// The dependsOn graph with root causes.
    Dependencies,
    /// Objects per shard and orphans.
    Assignment,
    /// What changed, newest first.
    Events,
}

impl Panel {
    /// Every panel, in tab order.
    pub const ALL: [Panel; 5] =
        [Panel::Shards, Panel::Placement, Panel::Dependencies, Panel::Assignment, Panel::Events];

    /// Position in tab order (0-based; the number key is one more).
    pub fn index(self) -> usize {
        Panel::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    /// The title on its tab.
    pub fn title(self) -> &'static str {
        match self {
            Panel::Shards => "Shards",
            Panel::Placement => "Placement",
            Panel::Dependencies => "Dependencies",
            Panel::Assignment => "Assignment",
            Panel::Events => "Events",
        }
    }

    /// The panel a `:` command names: a prefix of its title, a number, or a k9s-ish alias.
    pub fn from_name(name: &str) -> Option<Panel> {
        let name = name.trim().to_lowercase();
        if name.is_empty() {
            return None;
        }
        let alias = match name.as_str() {
            "nodes" | "no" | "pods" | "po" => Some(Panel::Placement),
            "ks" | "hr" | "deps" | "graph" => Some(Panel::Dependencies),
            "orphans" => Some(Panel::Assignment),
            "log" | "ev" => Some(Panel::Events),
            n => n.parse::<usize>().ok().and_then(|i| Panel::ALL.get(i.wrapping_sub(1)).copied()),
        };
        alias.or_else(|| Panel::ALL.into_iter().find(|p| p.title().to_lowercase().starts_with(&name)))
    }

    /// The next panel in tab order, wrapping around.
    pub fn next(self) -> Panel {
        Panel::ALL[(self.index() + 1) % Panel::ALL.len()]
    }

    /// The previous panel in tab order, wrapping around.
    pub fn prev(self) -> Panel {
        Panel::ALL[(self.index() + Panel::ALL.len() - 1) % Panel::ALL.len()]
    }
}

/// What the keyboard is typing into.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Input {
    /// Keys are commands.
    #[default]
    Normal,
    /// Keys edit the filter (applied as it is typed).
    Filter,
    /// Keys edit a `:` command.
    Command(String),
}

/// Everything the UI remembers between frames; the snapshot is not part of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UiState {
    /// The panel shown.
    pub panel: Panel,
    /// Selection and scroll, one per panel in tab order.
    pub lists: [ListState; 5],
    /// Case-insensitive substring filter over the current panel's rows.
    pub filter: String,
    /// Whether a filter or command is being typed.
    pub input: Input,
    /// Help overlay open.
    pub help: bool,
    /// Details overlay open (for the selected row).
    pub details: bool,
    /// Lines the details overlay is scrolled down.
    pub details_scroll: u16,
    /// The Flux object whose explanation view is open.
    pub explain: Option<FluxKey>,
    /// Lines the explanation view is scrolled down.
    pub explain_scroll: u16,
    /// A one-shot message for the footer (an unknown `:` command, an action's outcome).
    pub message: Option<String>,
    /// An action asked for and awaiting `y` (the confirmation overlay is open).
    pub confirm: Option<Request>,
    /// `--read-only`: action keys are refused with a footer message.
    pub read_only: bool,
    /// Why `f` and `r` cannot fail or restore nodes here (where the nodes run is not
    /// known); `None` when they can.
    pub cannot_fail_nodes: Option<String>,
    /// Why node, pod and scale actions are refused on this cluster (neither local nor kind,
    /// no `--allow-remote`); `None` when they are allowed. Flux's verbs are not affected.
    pub remote_refusal: Option<String>,
    /// Draw without colours (`NO_COLOR`).
    pub no_color: bool,
    /// The theme's colours (`--theme`), unused with `no_color`.
    pub palette: theme::Palette,
    /// The user's key bindings (config file `[keys]`).
    pub keys: KeyBindings,
    /// The log view `l` opened, with the lines read so far.
    pub logs: Option<log_view::LogView>,
    /// The explain view's object's log lines (its last few are shown under the cause).
    pub explain_log: Option<log_view::LogView>,
    /// A command `y` copied, for the app to hand to the terminal (OSC 52) and clear.
    pub copy: Option<String>,
}

impl UiState {
    /// A fresh state on the Shards panel.
    pub fn new(no_color: bool) -> UiState {
        UiState { no_color, ..UiState::default() }
    }

    /// The log the screen shows: the log view's, else the explained object's owning
    /// controller's lines about it.
    pub fn wanted_log(&self) -> Option<(LogSource, LogWindow)> {
        match (&self.logs, &self.explain) {
            (Some(view), _) => Some((view.source.clone(), view.window)),
            (None, Some(key)) => Some((LogSource::Object(key.clone()), LogWindow::VIEW)),
            (None, None) => None,
        }
    }

    /// The view that takes the lines read now (the explain view's made on first use).
    pub fn reading_log(&mut self) -> Option<&mut log_view::LogView> {
        if self.logs.is_some() {
            return self.logs.as_mut();
        }
        let source = LogSource::Object(self.explain.clone()?);
        if self.explain_log.as_ref().is_none_or(|v| v.source != source) {
            self.explain_log = Some(log_view::LogView::new(source));
        }
        self.explain_log.as_mut()
    }

    /// The current panel's selection and scroll.
    pub fn list(&self) -> &ListState {
        &self.lists[self.panel.index()]
    }

    /// The current panel's selection and scroll, to change.
    pub fn list_mut(&mut self) -> &mut ListState {
        &mut self.lists[self.panel.index()]
    }
}

/// A panel's rows plus what only panels know: row details and a legend.
trait PanelView {
    /// The rows, for the table.
    fn rows(&self) -> &dyn Rows;
    /// Everything about row `i`, for the details overlay.
    fn details(&self, i: usize, theme: Theme) -> Details;
    /// A short reading guide shown in the panel's border.
    fn legend(&self) -> &'static str;
    /// The Flux object row `i` stands for, if any (what `e` explains).
    fn flux_key(&self, _i: usize) -> Option<FluxKey> {
        None
    }
}

/// The view of one panel over a snapshot; cheap: it indexes rows, it formats none.
fn view<'a>(snap: &'a Snapshot, panel: Panel) -> Box<dyn PanelView + 'a> {
    match panel {
        Panel::Shards => Box::new(shards_panel::ShardRows::new(snap)),
        Panel::Placement => Box::new(placement_panel::PlacementRows::new(snap)),
        Panel::Dependencies => Box::new(dependencies_panel::DependencyRows::new(snap)),
        Panel::Assignment => Box::new(assignment_panel::AssignmentRows::new(snap)),
        Panel::Events => Box::new(events_panel::EventRows::new(snap)),
    }
}

/// The details of the selected row of the current panel, if there is a row.
fn selected_details(snap: &Snapshot, state: &UiState, theme: Theme) -> Option<Details> {
    let view = view(snap, state.panel);
    let visible = Visible::of(view.rows(), &state.filter);
    let pos = state.list().selected.min(visible.len().checked_sub(1)?);
    visible.get(pos).map(|i| view.details(i, theme))
}

/// The Flux object of the selected row of the current panel, if it is one.
fn selected_flux_key(snap: &Snapshot, state: &UiState) -> Option<FluxKey> {
    let view = view(snap, state.panel);
    let visible = Visible::of(view.rows(), &state.filter);
    let pos = state.list().selected.min(visible.len().checked_sub(1)?);
    visible.get(pos).and_then(|i| view.flux_key(i))
}

/// Draws the whole screen for `snap` into the frame.
pub fn draw(frame: &mut Frame, snap: &Snapshot, state: &UiState) {
    let area = frame.area();
    render(frame.buffer_mut(), area, snap, state);
}

/// Draws the whole screen into a buffer (what [`draw`] does, without a terminal).
pub fn render(buf: &mut Buffer, area: Rect, snap: &Snapshot, state: &UiState) {
    let theme = Theme::with(state.no_color, state.palette);
    let areas = layout::split(area);
    header::render(buf, areas.header, snap, theme);
    header::render_tabs(buf, areas.tabs, snap, state.panel, theme);
    render_body(buf, areas.body, snap, state, theme);
    footer::render(buf, areas.footer, state, theme);
    if state.details {
        if let Some(d) = selected_details(snap, state, theme) {
            details::render(buf, area, &d, state.details_scroll, theme);
        }
    }
    if let Some(key) = &state.explain {
        explain_panel::render(buf, area, snap, key, state.explain_scroll, state.explain_log.as_ref(), theme);
    }
    if let Some(view) = &state.logs {
        log_view::render(buf, areas.body, view, theme);
    }
    if state.help {
        help::render(buf, area, theme, &state.keys);
    }
    if let Some(r) = &state.confirm {
        request::render(buf, area, r, theme);
    }
    text::defuse_bidi(buf);
    theme.paint_defaults(buf, area);
}

/// The current panel in its border: honest notices about missing data, then the table.
fn render_body(buf: &mut Buffer, area: Rect, snap: &Snapshot, state: &UiState, theme: Theme) {
    let view = view(snap, state.panel);
    let rows = view.rows();
    let visible = Visible::of(rows, &state.filter);
    let list = state.list();
    let position = match visible.len() {
        0 => "0".to_string(),
        n => format!("{}/{n}", list.selected.min(n - 1) + 1),
    };
    let mut title = vec![
        Span::styled(format!(" {} ", state.panel.title()), theme.heading()),
        Span::styled(format!("[{position}] "), theme.dim()),
    ];
    if !state.filter.is_empty() {
        title.push(Span::styled(format!("/{} ", state.filter), theme.key()));
    }
    let legend = Line::styled(format!(" {} ", view.legend()), theme.dim()).right_aligned();
    let block = Block::bordered().border_style(theme.border()).title(Line::from(title));
    let block = if area.width > 60 { block.title(legend) } else { block };
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.is_empty() {
        return;
    }

    let (notices, blind) = visibility::panel_notices(snap, state.panel);
    let to_line = |(tone, text): &(theme::Tone, String)| Line::styled(text.clone(), theme.tone(*tone));
    if blind && rows.len() == 0 {
        // Nothing to list because nothing can be seen: say why, in the middle.
        let lines: Vec<Line> = notices.iter().map(to_line).collect();
        let top = inner.height.saturating_sub(lines.len() as u16) / 2;
        let r = Rect { y: inner.y + top, height: inner.height - top, ..inner };
        Paragraph::new(lines).alignment(Alignment::Center).wrap(Wrap { trim: true }).render(r, buf);
        return;
    }
    // Keep at least a header and three rows for the table.
    let room = inner.height.saturating_sub(4) as usize;
    let shown = notices.len().min(room).min(2);
    for (i, n) in notices.iter().take(shown).enumerate() {
        let mut line = to_line(n);
        if i + 1 == shown && notices.len() > shown {
            line.spans.push(Span::styled(format!("  (+{} more)", notices.len() - shown), theme.dim()));
        }
        let r = Rect { y: inner.y + i as u16, height: 1, ..inner };
        text::fit(line, r.width as usize).render(r, buf);
    }
    let mut table_area = Rect { y: inner.y + shown as u16, height: inner.height - shown as u16, ..inner };
    // A short list leaves room: preview the selected row there rather than blank lines.
    let needed = u16::try_from(visible.len() + 2).unwrap_or(u16::MAX);
    if !state.details && !visible.is_empty() && table_area.height >= needed.saturating_add(PREVIEW_MIN) {
        let preview = Rect { y: table_area.y + needed, height: table_area.height - needed, ..table_area };
        table_area.height = needed - 1;
        let pos = list.selected.min(visible.len() - 1);
        if let Some(i) = visible.get(pos) {
            details::render_preview(buf, preview, &view.details(i, theme), theme);
        }
    }
    let empty = if rows.len() == 0 { rows.empty() } else { format!("no row matches \"{}\"", state.filter) };
    table::render(buf, table_area, rows, &visible, list, &empty, theme);
}

/// Lines a preview of the selected row needs to be worth showing.
const PREVIEW_MIN: u16 = 6;
