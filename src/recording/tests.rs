//! The recording format (round trip, redaction, refusals) and the player's clock.

use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};

use super::player::{Move, Player};
use super::*;
use crate::model::fixture::{applied, kustomization, node, not_ready, with_failed};
use crate::model::objects::Time;
use crate::model::{ClusterEvent, ResourceKind, Snapshot};

fn t0() -> Time {
    Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()
}

fn at(secs: i64) -> Time {
    t0() + TimeDelta::seconds(secs)
}

/// Three events: a node, a failing Kustomization, the node going NotReady.
fn events() -> Vec<ClusterEvent> {
    let failing = with_failed(
        kustomization("flux-system", "apps", Some("shard1"), &[]),
        "BuildFailed",
        "fetch failed: Authorization: Bearer s3cr3t.t0ken rejected",
        at(1),
    );
    vec![
        applied(at(0) + TimeDelta::nanoseconds(123_456_789), node("w1", Some("shard1"))),
        applied(at(1), failing),
        ClusterEvent { at: at(2), change: Change::Watch(ResourceKind::Node, WatchState::Live) },
        applied(at(30), not_ready(node("w1", Some("shard1")))),
    ]
}

fn written(events: &[ClusterEvent]) -> String {
    let mut out = Vec::new();
    write_header(&mut out, &Header::new(t0(), &ModelConfig::default())).unwrap();
    for e in events {
        write_event(&mut out, t0(), e).unwrap();
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn a_recording_reads_back_as_the_same_events_at_the_same_instants() {
    let events = events();
    let text = written(&events);
    assert_eq!(text.lines().count(), 1 + events.len());
    assert!(text.lines().all(|l| !l.contains('\n') && !l.starts_with(' ')), "one compact line each");
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["format"], FORMAT);
    assert_eq!(first["version"], VERSION);
    let read = Recording::parse(text.as_bytes()).unwrap();
    assert_eq!(read.header.model_config(), ModelConfig::default());
    assert_eq!(read.events.len(), events.len());
    // Nanosecond offsets: a replayed model is stamped exactly as the recorded one was.
    assert_eq!(read.events[0].at, events[0].at);
    assert_eq!(read.events[3], events[3]);
    assert_eq!(read.end(), at(30));
}

#[test]
fn free_text_is_redacted_like_logs_and_nothing_else_changes() {
    let text = written(&events());
    assert!(!text.contains("s3cr3t"), "the token never reaches the file:\n{text}");
    assert!(text.contains("Bearer [redacted] rejected"), "{text}");
    let read = Recording::parse(text.as_bytes()).unwrap();
    let mut expected = events();
    expected[1].change = redacted(expected[1].change.clone());
    assert_eq!(read.events, expected);
    let replayed = |evs: &[ClusterEvent]| {
        let mut m = crate::model::Model::new(ModelConfig::default());
        evs.iter().cloned().for_each(|e| m.apply(e));
        Snapshot::of(&m, at(40))
    };
    assert_eq!(replayed(&read.events).shards, replayed(&events()).shards);
}

#[test]
fn other_files_and_newer_versions_are_refused_plainly() {
    let err = |text: &str| format!("{:#}", Recording::parse(text.as_bytes()).unwrap_err());
    assert!(err("").contains("empty file"));
    assert!(err("{\"kind\":\"List\"}\n").contains("not a shardwatch recording header"));
    let mut header = Header::new(t0(), &ModelConfig::default());
    header.version = VERSION + 1;
    let newer = serde_json::to_string(&header).unwrap();
    assert!(err(&newer).contains("newer than this shardwatch reads"), "{}", err(&newer));
    let bad_line = format!("{}\n{{\"t\":1}}\n", written(&[]).trim_end());
    assert!(err(&bad_line).contains("line 2"), "{}", err(&bad_line));
}

#[test]
fn the_player_runs_at_its_speed_and_never_past_the_end() {
    let events = events();
    let mut p = Player::new(&events, t0(), 1.0);
    assert_eq!(p.length(), Duration::from_secs(30));
    assert_eq!(p.advance(Duration::from_millis(500)), 0..1);
    assert_eq!(p.until_next(), Some(Duration::from_millis(500)));
    assert_eq!(p.advance(Duration::from_secs(2)), 1..3);
    p.speed = 10.0;
    assert_eq!(p.until_next(), Some(Duration::from_millis(2_750)));
    assert_eq!(p.advance(Duration::from_secs(60)), 3..4);
    assert_eq!(p.position(), at(30));
    assert!(p.ended());
    assert_eq!(p.until_next(), None);
}

#[test]
fn pause_step_seek_and_speed() {
    let events = events();
    let mut p = Player::new(&events, t0(), 1.0);
    p.paused = true;
    assert_eq!(p.advance(Duration::from_secs(10)), 0..0, "paused: real time moves nothing");
    assert_eq!(p.until_next(), None);
    assert_eq!(p.step(), 0..1);
    assert_eq!(p.step(), 1..2);
    assert_eq!(p.position(), at(1));
    assert_eq!(p.seek_by(TimeDelta::seconds(10)), Move::Apply(2..3));
    assert_eq!(p.position(), at(11));
    // Back: the model is rebuilt from the first event.
    assert_eq!(p.seek_by(TimeDelta::seconds(-10)), Move::Rebuild(0..2));
    assert_eq!(p.applied(), 2);
    assert_eq!(p.seek_by(TimeDelta::seconds(-100)), Move::Rebuild(0..0));
    assert_eq!(p.position(), t0());
    assert_eq!(p.seek_by(TimeDelta::seconds(100)), Move::Apply(0..4));
    assert!(p.ended());
    assert_eq!(p.step(), 4..4, "stepping at the end applies nothing");
    p.change_speed(true);
    assert_eq!(p.speed, 2.0);
    for _ in 0..20 {
        p.change_speed(false);
    }
    assert_eq!(p.speed, 0.125);
}
