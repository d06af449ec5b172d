//! Flux's actions, the log view and the reconcile note, on the sample snapshot.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::flux_request::FluxVerb;
use super::sample::snapshot;
use super::{KeyOutcome, Panel, Request, UiState, draw, handle_key};
use crate::model::Snapshot;
use crate::model::controller_log::{LogLine, LogMessage, LogSource, LogWindow};
use crate::model::flux_state::PendingReconcile;
use crate::model::objects::{FluxKey, FluxKind};

fn ch(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn esc() -> KeyEvent {
    KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)
}

fn ks(name: &str) -> FluxKey {
    FluxKey { kind: FluxKind::Kustomization, namespace: "flux-system".into(), name: name.into() }
}

/// The state on `panel` with the rows filtered to `name`.
fn on(panel: Panel, name: &str, snap: &Snapshot) -> UiState {
    let mut s = UiState { panel, ..UiState::new(true) };
    handle_key(&mut s, ch('/'), snap);
    for c in name.chars() {
        handle_key(&mut s, ch(c), snap);
    }
    handle_key(&mut s, KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), snap);
    s
}

fn screen(snap: &Snapshot, state: &UiState) -> String {
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
    term.draw(|f| draw(f, snap, state)).expect("draw");
    let buf = term.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>() + "\n")
        .collect()
}

#[test]
fn r_asks_naming_the_cluster_and_y_sends_a_reconcile_with_the_owning_shard() {
    let snap = snapshot();
    let mut s = on(Panel::Dependencies, "infra-sources", &snap);
    handle_key(&mut s, ch('r'), &snap);
    let Some(Request::Flux(r)) = s.confirm.clone() else { panic!("a Flux request: {:?}", s.confirm) };
    assert_eq!(
        (r.verb, &r.key, r.shard.as_str(), r.orphan),
        (FluxVerb::Reconcile, &ks("infra-sources"), "shard1", None)
    );
    assert_eq!(
        r.question(),
        "Reconcile (with its source) ks/flux-system/infra-sources on context kind-shardwatch (https://127.0.0.1:41235)?"
    );
    assert!(screen(&snap, &s).contains("Reconcile (with its source) ks/flux-system/infra-sources"));
    assert_eq!(handle_key(&mut s, ch('y'), &snap), KeyOutcome::Request(Request::Flux(r)));
    assert_eq!(s.message.as_deref(), Some("requesting a reconcile of ks/flux-system/infra-sources…"));
}

#[test]
fn suspend_and_resume_follow_the_state_and_read_only_refuses() {
    let snap = snapshot();
    let mut s = on(Panel::Assignment, "apps", &snap);
    handle_key(&mut s, ch('u'), &snap);
    assert_eq!(s.message.as_deref(), Some("ks/flux-system/apps is not suspended"));
    handle_key(&mut s, ch('s'), &snap);
    let Some(Request::Flux(r)) = s.confirm.clone() else { panic!("{:?}", s.confirm) };
    assert_eq!(r.verb, FluxVerb::Suspend);
    assert_eq!(
        r.consequence(),
        "Sets spec.suspend: kustomize-controller of shard2 stops reconciling it until resumed."
    );
    handle_key(&mut s, ch('n'), &snap);
    assert_eq!(s.message.as_deref(), Some("cancelled"));
    // Flux's own verbs are not the breaking actions --allow-remote guards.
    let mut remote =
        UiState { remote_refusal: Some("remote".into()), ..on(Panel::Assignment, "apps", &snap) };
    handle_key(&mut remote, ch('s'), &snap);
    assert!(matches!(remote.confirm, Some(Request::Flux(_))), "{:?}", remote.message);
    let mut ro = UiState { read_only: true, ..on(Panel::Assignment, "apps", &snap) };
    handle_key(&mut ro, ch('r'), &snap);
    assert_eq!((ro.confirm.as_ref(), ro.message.as_deref()), (None, Some("read-only: actions are disabled")));
}

#[test]
fn l_opens_the_log_of_what_the_row_stands_for_and_esc_closes_it() {
    let snap = snapshot();
    let mut s = on(Panel::Dependencies, "infra-sources", &snap);
    handle_key(&mut s, ch('l'), &snap);
    assert_eq!(s.wanted_log(), Some((LogSource::Object(ks("infra-sources")), LogWindow::VIEW)));
    let view = s.reading_log().expect("the log view");
    view.apply(LogMessage::Note("kustomize-controller-shard1: pods kc-1".into()));
    let line = r#"{"level":"info","ts":"t","msg":"server-side apply completed","controllerKind":"Kustomization","name":"infra-sources","namespace":"flux-system"}"#;
    view.apply(LogMessage::Line(LogLine { pod: "kc-1".into(), text: line.into() }));
    let text = screen(&snap, &s);
    assert!(text.contains("log · Kustomization/flux-system/infra-sources"), "{text}");
    assert!(
        text.contains("t info server-side apply completed Kustomization/flux-system/infra-sources"),
        "{text}"
    );
    assert!(text.contains("kustomize-controller-shard1: pods kc-1"), "{text}");
    handle_key(&mut s, esc(), &snap);
    assert_eq!((s.logs.as_ref(), s.wanted_log()), (None, None));

    // A shard: its controllers' Deployments; a pod row: that pod.
    let mut s = UiState { panel: Panel::Shards, ..UiState::new(true) };
    handle_key(&mut s, ch('l'), &snap);
    let Some((LogSource::Deployments(d), _)) = s.wanted_log() else { panic!("{:?}", s.wanted_log()) };
    assert!(
        !d.is_empty() && d.iter().all(|d| d.ends_with(&snap.shards[0].name) || snap.shards[0].name == "main"),
        "{d:?}"
    );
}

#[test]
fn the_explain_view_reads_the_objects_log_and_l_opens_all_of_it() {
    let snap = snapshot();
    let mut s = on(Panel::Dependencies, "infra-controllers", &snap);
    handle_key(&mut s, ch('e'), &snap);
    assert_eq!(s.wanted_log(), Some((LogSource::Object(ks("infra-controllers")), LogWindow::VIEW)));
    assert!(s.reading_log().is_some(), "the explain view takes the lines");
    assert!(s.logs.is_none());
    handle_key(&mut s, ch('l'), &snap);
    assert!(s.logs.is_some());
    handle_key(&mut s, esc(), &snap);
    assert_eq!(
        s.wanted_log(),
        Some((LogSource::Object(ks("infra-controllers")), LogWindow::VIEW)),
        "back to the explain view"
    );
    handle_key(&mut s, esc(), &snap);
    assert_eq!((s.wanted_log(), s.explain_log.as_ref()), (None, None));
}

#[test]
fn a_pending_request_shows_on_the_row_with_why_it_waits() {
    let mut snap = snapshot();
    let at = snap.taken_at - chrono::Duration::seconds(7);
    let pending = Some(Box::new(PendingReconcile { token: at.to_rfc3339(), at: Some(at) }));
    let deps = Arc::make_mut(&mut snap.dependencies);
    for n in deps.nodes.iter_mut() {
        if n.key == ks("apps") {
            Arc::make_mut(n).state.pending_reconcile = pending.clone();
        }
    }
    let a = Arc::make_mut(&mut snap.assignment);
    for shard in a.shards.iter_mut() {
        for o in shard.objects.iter_mut() {
            if o.key == ks("apps") {
                Arc::make_mut(o).state.pending_reconcile = pending.clone();
            }
        }
    }
    let s = on(Panel::Dependencies, "apps", &snap);
    let text = screen(&snap, &s);
    assert!(text.contains("requested 7s ago"), "{text}");
    let s = on(Panel::Assignment, "apps", &snap);
    let text = screen(&snap, &s);
    assert!(text.contains("requested 7s ago · no ready kustomize-controller in shard2"), "{text}");
}
