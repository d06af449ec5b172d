//! Actions the user asks for from the dashboard: plain values (no kube types) that
//! `app.rs` turns into cluster actions once confirmed, and the y/N overlay that asks.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph, Widget, Wrap};

use std::borrow::Cow;

use super::flux_request::FluxRequest;
use super::layout::popup;
use super::theme::{Theme, Tone};
use crate::model::shards::MAIN_SHARD;

/// A change to the cluster the user asked for and confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Mark a node unschedulable.
    Cordon(String),
    /// Mark a node schedulable again.
    Uncordon(String),
    /// Delete a controller pod (its Deployment makes a new one).
    DeletePod(String),
    /// Make a node fail (NotReady, its pods with it).
    FailNode(String),
    /// Bring a failed node back.
    RestoreNode(String),
    /// Cordon a node, then delete the Flux pods on it.
    Drain(String),
    /// Set the replicas of every controller Deployment of a shard.
    ScaleShard {
        /// The shard (`main` for the unsharded controllers).
        shard: String,
        /// The replicas each Deployment gets: 0, or 1 to bring a scaled-down shard back.
        replicas: i32,
        /// How many Deployments that touches, for the question.
        deployments: usize,
    },
    /// Reconcile, suspend or resume a Flux object.
    Flux(FluxRequest),
}

impl Request {
    /// The confirmation question, without the `y/N`.
    pub fn question(&self) -> String {
        match self {
            Request::Cordon(node) => format!("Cordon node {node}?"),
            Request::Uncordon(node) => format!("Uncordon node {node}?"),
            Request::DeletePod(pod) => format!("Delete pod {pod}?"),
            Request::FailNode(node) => format!("Fail node {node}?"),
            Request::RestoreNode(node) => format!("Restore node {node}?"),
            Request::Drain(node) => format!("Drain node {node}?"),
            Request::ScaleShard { shard, replicas, deployments } => {
                let n = plural(*deployments, "Deployment");
                if *replicas == 0 {
                    format!("Scale shard {shard} to zero ({n})?")
                } else {
                    format!("Scale shard {shard} back to {} ({n})?", plural(*replicas as usize, "replica"))
                }
            }
            Request::Flux(r) => r.question(),
        }
    }

    /// What happens if confirmed, under the question.
    fn consequence(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Request::Cordon(_) => "New pods will not be scheduled on it; running pods stay.",
            Request::Uncordon(_) => "Pods may be scheduled on it again.",
            Request::DeletePod(_) => "Its Deployment replaces it with a new pod.",
            Request::FailNode(_) => {
                "Its pods go not Ready; with required placement its shard stays down until the node returns."
            }
            Request::RestoreNode(_) => {
                "It reports Ready again; the pods bound to it run again and its shard recovers."
            }
            Request::Drain(_) => {
                "Cordons it and deletes the Flux pods on it; with required placement their replacements stay Pending."
            }
            Request::ScaleShard { shard, replicas: 0, .. } if shard == MAIN_SHARD => {
                "The unsharded controllers' pods go away: objects without a shard label are not reconciled \
                 until it is scaled back (on the local target the controller processes keep running)."
            }
            Request::ScaleShard { replicas: 0, .. } => {
                "Its controller pods go away: its objects are not reconciled until it is scaled back (s again; \
                 on the local target the controller processes keep running)."
            }
            Request::ScaleShard { .. } => "Each of its controller Deployments runs one pod again.",
            Request::Flux(r) => return Cow::Owned(r.consequence()),
        })
    }

    /// The footer line while the request is under way.
    pub fn pending(&self) -> String {
        match self {
            Request::Cordon(node) => format!("cordoning node {node}…"),
            Request::Uncordon(node) => format!("uncordoning node {node}…"),
            Request::DeletePod(pod) => format!("deleting pod {pod}…"),
            Request::FailNode(node) => format!("failing node {node}…"),
            Request::RestoreNode(node) => format!("restoring node {node}…"),
            Request::Drain(node) => format!("draining node {node}…"),
            Request::ScaleShard { shard, replicas, .. } => format!("scaling shard {shard} to {replicas}…"),
            Request::Flux(r) => r.pending(),
        }
    }
}

/// `1 Deployment`, `3 Deployments`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// The footer message when an action key is pressed under `--read-only`.
pub const READ_ONLY: &str = "read-only: actions are disabled";

/// Width of the confirmation overlay.
const WIDTH: u16 = 64;

/// Rows `text` takes when word-wrapped to `width` columns (as the overlay wraps it).
fn wrapped_rows(text: &str, width: usize) -> u16 {
    let mut rows = 1u16;
    let mut used = 0usize;
    for word in text.split(' ') {
        let len = word.chars().count();
        if used > 0 && used + 1 + len > width {
            rows += 1;
            used = len;
        } else {
            used += if used > 0 { 1 + len } else { len };
        }
    }
    rows
}

/// Draws the confirmation overlay for `request` centred in `area`, tall enough for the
/// question and consequence to wrap (wrapped lines keep the one-column left margin).
pub fn render(buf: &mut Buffer, area: Rect, request: &Request, theme: Theme) {
    let question = format!("{} ", request.question());
    let consequence = request.consequence();
    // Two borders and the left padding.
    let inner = usize::from(WIDTH - 3);
    let height = 4 + wrapped_rows(&format!("{question}y/N"), inner) + wrapped_rows(&consequence, inner);
    let rect = popup(area, WIDTH, height);
    if rect.is_empty() {
        return;
    }
    Clear.render(rect, buf);
    let lines = vec![
        Line::from(vec![Span::styled(question, theme.heading()), Span::styled("y/N", theme.key())]),
        Line::styled(consequence, theme.dim()),
        Line::default(),
        Line::from(vec![
            Span::styled("y ", theme.key()),
            Span::raw("confirm  "),
            Span::styled("any other key ", theme.key()),
            Span::raw("cancels"),
        ]),
    ];
    let block = Block::bordered()
        .padding(Padding::left(1))
        .border_style(theme.tone(Tone::Warn))
        .title(Line::styled(" Confirm ", theme.tone(Tone::Warn)));
    Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).render(rect, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_counts_rows_by_words() {
        assert_eq!(wrapped_rows("", 10), 1);
        assert_eq!(wrapped_rows("aaaa bbbb", 9), 1);
        assert_eq!(wrapped_rows("aaaa bbbbb", 9), 2);
        assert_eq!(wrapped_rows("aaaa bbbb cccc", 9), 2);
    }

    #[test]
    fn questions_and_consequences_say_what_happens() {
        let fail = Request::FailNode("w2".into());
        assert_eq!(fail.question(), "Fail node w2?");
        assert_eq!(
            fail.consequence(),
            "Its pods go not Ready; with required placement its shard stays down until the node returns."
        );
        assert!(
            Request::Drain("w3".into()).consequence().starts_with("Cordons it and deletes the Flux pods")
        );
        let main = Request::ScaleShard { shard: MAIN_SHARD.into(), replicas: 0, deployments: 1 };
        assert_eq!(main.question(), "Scale shard main to zero (1 Deployment)?");
        assert!(main.consequence().contains("objects without a shard label"), "{}", main.consequence());
    }
}
