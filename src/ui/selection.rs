//! The selection follows the object it is on, not its row number: when rows appear
//! above it or move (a new event, a node sorted elsewhere), it moves with them.

use super::table::Visible;
use super::{UiState, view};
use crate::model::Snapshot;

/// Remembers what the current panel's selected row stands for (after a key moved it).
pub fn remember(state: &mut UiState, snap: &Snapshot) {
    let view = view(snap, state.panel);
    let visible = Visible::of(view.rows(), &state.filter);
    let list = state.list_mut();
    let pos = list.selected.min(visible.len().saturating_sub(1));
    list.anchor = visible.get(pos).map(|i| view.rows().id(i));
}

/// Moves the current panel's selection onto the row it was on in the previous snapshot
/// (the nearest such row); when that row is gone the selection keeps its place and
/// stands for whatever row is there now.
pub fn follow(state: &mut UiState, snap: &Snapshot) {
    let Some(anchor) = state.list().anchor.clone() else {
        return remember(state, snap);
    };
    let view = view(snap, state.panel);
    let rows = view.rows();
    let visible = Visible::of(rows, &state.filter);
    let n = visible.len();
    if n == 0 {
        return;
    }
    let list = state.list_mut();
    let at = list.selected.min(n - 1);
    let is_anchor = |pos: usize| visible.get(pos).is_some_and(|i| rows.id(i) == anchor);
    // Usually nothing moved: one row is formatted. Else search outwards from where it was.
    let found = (0..n).find_map(|d| {
        let below = at + d;
        let above = at.checked_sub(d).filter(|_| d > 0);
        [Some(below).filter(|p| *p < n), above].into_iter().flatten().find(|p| is_anchor(*p))
    });
    match found {
        Some(pos) => list.selected = pos,
        None => {
            list.selected = at;
            list.anchor = visible.get(at).map(|i| rows.id(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone, Utc};

    use super::*;
    use crate::model::fixture::{
        NS, WORKERS, applied, kustomization, node, not_ready, seed_stack, with_ready,
    };
    use crate::ui::Panel;

    /// What the selected row of the current panel stands for.
    fn selected_id(state: &UiState, snap: &Snapshot) -> String {
        let view = view(snap, state.panel);
        let visible = Visible::of(view.rows(), &state.filter);
        view.rows().id(visible.get(state.list().selected).expect("a selected row"))
    }

    #[test]
    fn the_selection_follows_its_object_when_rows_appear_or_go() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        let later = now + TimeDelta::seconds(5);
        let mut model = seed_stack(now);
        // A few entries in the event log: worker3 going NotReady and Ready again.
        for s in 1..=3 {
            let at = now - TimeDelta::seconds(60 - 10 * s);
            model.apply(applied(at, not_ready(node(WORKERS[2], Some("shard3")))));
            model.apply(applied(at + TimeDelta::seconds(2), node(WORKERS[2], Some("shard3"))));
        }
        let snap = Snapshot::of(&model, now);

        // Events, newest first: a new one pushes the selected entry down a row.
        let mut events = UiState { panel: Panel::Events, ..UiState::new(true) };
        events.list_mut().selected = 3;
        remember(&mut events, &snap);
        let entry = selected_id(&events, &snap);
        // Dependencies, in depth then name order: `aaa` comes in above the selected row.
        let mut deps = UiState { panel: Panel::Dependencies, ..UiState::new(true) };
        deps.list_mut().selected = 4;
        remember(&mut deps, &snap);
        let object = selected_id(&deps, &snap);
        assert!(!object.contains("aaa"), "{object}");

        model.apply(applied(later, not_ready(node(WORKERS[1], Some("shard2")))));
        model.apply(applied(later, with_ready(kustomization(NS, "aaa", Some("shard1"), &[]), later)));
        let moved = Snapshot::of(&model, later);
        follow(&mut events, &moved);
        assert!(events.list().selected > 3, "the entry moved down with the new event");
        assert_eq!(selected_id(&events, &moved), entry);
        follow(&mut deps, &moved);
        assert_eq!(selected_id(&deps, &moved), object);
        assert_eq!(deps.list().selected, 5, "aaa came in above: {}", selected_id(&deps, &moved));

        // A row that goes: the selection keeps its place and stands for what is there now.
        let mut aaa = deps.clone();
        aaa.list_mut().selected = (0..20)
            .find(|p| {
                let v = view(&moved, Panel::Dependencies);
                Visible::of(v.rows(), "").get(*p).is_some_and(|i| v.rows().id(i).contains("aaa"))
            })
            .expect("aaa is listed");
        remember(&mut aaa, &moved);
        let at = aaa.list().selected;
        model.apply(crate::model::ClusterEvent {
            at: later,
            change: crate::model::Change::Deleted(crate::model::ObjectId::Flux(
                kustomization(NS, "aaa", Some("shard1"), &[]).key,
            )),
        });
        let gone = Snapshot::of(&model, later);
        follow(&mut aaa, &gone);
        assert_eq!(aaa.list().selected, at);
        assert_eq!(aaa.list().anchor.as_deref(), Some(selected_id(&aaa, &gone).as_str()));
    }
}
