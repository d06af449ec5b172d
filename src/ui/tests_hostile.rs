//! Hostile strings from the cluster drawn inert: names, reasons, messages, taints and
//! events carrying terminal escape sequences, C0/C1 control characters, bidi overrides,
//! wide and zero-width characters and very long runs, through every panel and overlay at
//! several sizes (a property test, 64 cases a run). No cell may hold a control or bidi
//! character (the terminal would act on it), and the header stays where it is.

use std::sync::Arc;

use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::model::Snapshot;

use super::sample::snapshot;
use super::text::is_bidi_control;
use super::{Panel, UiState, draw};

/// Pieces hostile text is made of.
const PIECES: &[&str] = &[
    "\u{1b}[2J",                  // clear screen
    "\u{1b}[31;1mred",            // colour
    "\u{1b}]0;pwned\u{7}",        // window title (OSC)
    "\u{1b}]8;;http://x\u{1b}\\", // hyperlink
    "\u{1b}[6n",                  // cursor position report request
    "\u{9b}2J",                   // C1 CSI
    "\r\n\t\u{8}\u{7f}\u{0}",     // C0 controls
    "\u{202e}evil\u{202c}",       // right-to-left override
    "\u{2067}isolate\u{2069}",    // right-to-left isolate
    "\u{200f}",                   // right-to-left mark
    "שלום עולם",                  // right-to-left text
    "漢字かな",                   // wide
    "👩‍👩‍👧‍👦",                         // zero-width joiners
    "e\u{301}\u{301}\u{301}",     // combining marks
    "\u{200b}\u{feff}",           // zero-width space, BOM
    "plain-name",
];

fn hostile() -> impl Strategy<Value = String> {
    (prop::collection::vec(prop::sample::select(PIECES), 1..8), 0usize..3).prop_map(|(pieces, long)| {
        let s = pieces.concat();
        // Sometimes very long: wider than any terminal.
        if long == 2 { s.repeat(40) } else { s }
    })
}

/// The sample snapshot with every string a cluster controls replaced by `h`.
fn poisoned(h: &[String]) -> Snapshot {
    let pick = |i: usize| h[i % h.len()].clone();
    let mut snap = snapshot();
    let mut n = 0;
    let mut next = || {
        n += 1;
        pick(n)
    };
    let graph = Arc::make_mut(&mut snap.dependencies);
    for node in graph.nodes.iter_mut() {
        let node = Arc::make_mut(node);
        node.state.reason = next().into();
        node.state.message = next().into();
        node.revision = Some(next().into());
        if let Some(rc) = node.root_cause.as_mut() {
            rc.reason = next().into();
            rc.message = next().into();
        }
    }
    let events = Arc::make_mut(&mut snap.events);
    for e in events.iter_mut() {
        let e = Arc::make_mut(e);
        e.subject = next();
        e.message = next();
    }
    let placement = Arc::make_mut(&mut snap.placement);
    for node in placement.nodes.iter_mut() {
        let node = Arc::make_mut(node);
        node.taints = vec![next()];
        for pod in node.pods.iter_mut() {
            pod.name = next();
        }
    }
    for shard in snap.shards.iter_mut() {
        shard.selector = Some(next());
        for c in shard.controllers.iter_mut() {
            c.leader = Some(next());
            c.reason = Some(next());
        }
    }
    snap.cluster.context = next();
    snap.overall.reasons = vec![next()];
    snap
}

fn check(snap: &Snapshot, state: &UiState, w: u16, h: u16) -> Result<(), TestCaseError> {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    term.draw(|f| draw(f, snap, state)).expect("draw");
    let buf = term.backend().buffer();
    for (i, cell) in buf.content.iter().enumerate() {
        let bad = cell.symbol().chars().find(|c| c.is_control() || is_bidi_control(*c));
        prop_assert!(bad.is_none(), "cell {i} of {w}×{h} holds {:?} ({:?})", bad, cell.symbol());
    }
    // Small terminals give the header up for the panel; at the usual sizes it is on top.
    if w >= 80 {
        let top: String = buf.content[..4].iter().map(|c| c.symbol()).collect();
        prop_assert_eq!(top, "ctx ", "the header moved at {}×{}", w, h);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn hostile_strings_are_drawn_inert(h in prop::collection::vec(hostile(), 1..6)) {
        let snap = poisoned(&h);
        for panel in Panel::ALL {
            for (details, help) in [(false, false), (true, false), (false, true)] {
                // The footer's message can quote an API error, which quotes the cluster.
                let message = Some(h[0].clone());
                let state = UiState { details, help, message, ..UiState { panel, ..UiState::new(false) } };
                for (w, hgt) in [(80, 24), (160, 48), (33, 9)] {
                    check(&snap, &state, w, hgt)?;
                }
            }
        }
    }
}
