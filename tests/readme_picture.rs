//! The README's picture is the dashboard drawn from the demo fixture; this keeps the
//! committed file equal to what the UI draws today. `UPDATE_PICTURES=1` rewrites it.

use std::path::Path;

use chrono::{TimeZone, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use shardwatch::model::Snapshot;
use shardwatch::model::fixture::demo_model;
use shardwatch::recording::Recording;
use shardwatch::recording::replay::{self, snapshot_at};
use shardwatch::ui::position_bar::ReplayPosition;
use shardwatch::ui::{self, Panel, UiState};

/// The screen as (text, SVG).
fn picture(panel: Panel, width: u16, height: u16) -> (String, String) {
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let snap = Snapshot::of(&demo_model(now), now);
    let mut state = UiState::new(false);
    state.panel = panel;
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    ui::render(&mut buf, area, &snap, &state);
    let text = (0..height)
        .map(|y| (0..width).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n");
    (text, ui::picture::svg(&buf))
}

fn check(file: &str, svg: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets").join(file);
    if std::env::var_os("UPDATE_PICTURES").is_some() {
        std::fs::write(&path, svg).expect("write picture");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == svg,
        "{} is out of date: run UPDATE_PICTURES=1 cargo test --test readme_picture",
        path.display()
    );
}

/// The replay of the shipped recording (assets/failover.ndjson) paused `secs` in, on
/// `panel`, as `shardwatch replay` draws it: the dashboard above its position bar.
fn replayed(panel: Panel, secs: i64, width: u16, height: u16) -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/failover.ndjson");
    let recording = Recording::read(&path).expect("the shipped recording");
    let at = recording.start() + chrono::TimeDelta::seconds(secs);
    let snap = snapshot_at(&recording, at);
    let mut state = UiState::new(false);
    state.panel = panel;
    let position = ReplayPosition {
        elapsed: std::time::Duration::from_secs(secs.unsigned_abs()),
        length: (recording.end() - recording.start()).to_std().unwrap(),
        at,
        applied: recording.events.iter().take_while(|e| e.at <= at).count(),
        events: recording.events.len(),
        speed: 1.0,
        paused: true,
        ended: false,
    };
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    replay::draw(&mut buf, area, &snap, &state, &position);
    let text = (0..height)
        .map(|y| (0..width).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n");
    (text, ui::picture::svg(&buf))
}

#[test]
fn the_replay_picture_matches_the_recording() {
    let (text, svg) = replayed(Panel::Shards, REPLAY_PICTURE_SECS, 120, 34);
    for shown in ["○ shard2   0/1 ○", "FAILING", "‖ paused"] {
        assert!(text.contains(shown), "the replay picture shows {shown}:\n{text}");
    }
    check("replay.svg", &svg);
}

/// Seconds into the shipped recording of the README's replay picture: shard2's node down.
const REPLAY_PICTURE_SECS: i64 = 40;

#[test]
fn readme_pictures_match_the_ui() {
    let (text, svg) = picture(Panel::Shards, 120, 34);
    for shown in ["shard2", "FAILING", "kustomize-controller"] {
        assert!(text.contains(shown), "the picture shows {shown}:\n{text}");
    }
    check("dashboard.svg", &svg);
    let (text, svg) = picture(Panel::Dependencies, 120, 30);
    assert!(text.contains("root cause"), "the dependencies picture shows a root cause:\n{text}");
    check("dependencies.svg", &svg);
    let (text, svg) = picture(Panel::Placement, 120, 30);
    assert!(text.contains("shardwatch-worker2"), "the placement picture shows the nodes:\n{text}");
    check("placement.svg", &svg);
}
