//! What a Flux object's details add about it beyond its status: the warnings the Events
//! panel holds about it (Kubernetes Warning events and state changes), the pending
//! reconcile request, and the keys that act on it.

use ratatui::text::{Line, Span};

use crate::model::Snapshot;
use crate::model::flux_state::StateDetail;
use crate::model::objects::FluxKey;
use crate::model::timeline::Severity;

use super::details::Details;
use super::flux_request::{owner_of, requested_note};
use super::text::age_since;
use super::theme::{Theme, Tone};

/// Warnings shown per object in its details.
const SHOWN: usize = 3;

/// Adds the object's pending request, its newest warnings and the action keys to `d`.
pub fn add(d: &mut Details, snap: &Snapshot, key: &FluxKey, state: &StateDetail, theme: Theme) {
    if let Some(p) = &state.pending_reconcile {
        let owner = owner_of(snap, key).and_then(|(shard, _, o)| o.map(|o| (shard, o)));
        let note = requested_note(p, snap.taken_at, key.kind, owner.as_ref().map(|(s, o)| (s.as_str(), *o)));
        d.field(theme, "Reconcile", format!("{note} (requestedAt {})", p.token), theme.tone(Tone::Warn));
    }
    let subject = key.to_string();
    let warnings: Vec<_> =
        snap.events.iter().filter(|e| e.severity == Severity::Warning && e.subject == subject).collect();
    if !warnings.is_empty() {
        d.heading(theme, format!("Warnings ({} in the Events panel, 5)", warnings.len()));
        for e in warnings.into_iter().take(SHOWN) {
            d.line(Line::from(vec![
                Span::styled(format!("  {:>4} ago  ", age_since(snap.taken_at, Some(e.at))), theme.dim()),
                Span::styled(e.message.clone(), theme.tone(Tone::Warn)),
            ]));
        }
    }
    d.line(Line::default());
    d.line(Line::styled("l its controller's log  r reconcile  s suspend  u resume  e explain", theme.dim()));
}
