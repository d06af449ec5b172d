//! Actions the user asks for from the dashboard: plain values (no kube types) that
//! `app.rs` turns into cluster actions once confirmed, and the y/N overlay that asks.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use super::layout::popup;
use super::theme::{Theme, Tone};

/// A change to the cluster the user asked for and confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Mark a node unschedulable.
    Cordon(String),
    /// Mark a node schedulable again.
    Uncordon(String),
    /// Delete a controller pod (its Deployment makes a new one).
    DeletePod(String),
}

impl Request {
    /// The confirmation question, without the `y/N`.
    pub fn question(&self) -> String {
        match self {
            Request::Cordon(node) => format!("Cordon node {node}?"),
            Request::Uncordon(node) => format!("Uncordon node {node}?"),
            Request::DeletePod(pod) => format!("Delete pod {pod}?"),
        }
    }

    /// What happens if confirmed, one line under the question.
    fn consequence(&self) -> &'static str {
        match self {
            Request::Cordon(_) => "New pods will not be scheduled on it; running pods stay.",
            Request::Uncordon(_) => "Pods may be scheduled on it again.",
            Request::DeletePod(_) => "Its Deployment replaces it with a new pod.",
        }
    }

    /// The footer line while the request is under way.
    pub fn pending(&self) -> String {
        match self {
            Request::Cordon(node) => format!("cordoning node {node}…"),
            Request::Uncordon(node) => format!("uncordoning node {node}…"),
            Request::DeletePod(pod) => format!("deleting pod {pod}…"),
        }
    }
}

/// The footer message when an action key is pressed under `--read-only`.
pub const READ_ONLY: &str = "read-only: actions are disabled";

/// Draws the confirmation overlay for `request` centred in `area`.
pub fn render(buf: &mut Buffer, area: Rect, request: &Request, theme: Theme) {
    let rect = popup(area, 64, 6);
    if rect.is_empty() {
        return;
    }
    Clear.render(rect, buf);
    let lines = vec![
        Line::from(vec![
            Span::styled(format!(" {} ", request.question()), theme.heading()),
            Span::styled("y/N", theme.key()),
        ]),
        Line::styled(format!(" {}", request.consequence()), theme.dim()),
        Line::default(),
        Line::from(vec![
            Span::styled(" y ", theme.key()),
            Span::raw("confirm  "),
            Span::styled("any other key ", theme.key()),
            Span::raw("cancels"),
        ]),
    ];
    let block = Block::bordered()
        .border_style(theme.tone(Tone::Warn))
        .title(Line::styled(" Confirm ", theme.tone(Tone::Warn)));
    Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).render(rect, buf);
}
