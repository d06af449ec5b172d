//! The README's picture is the dashboard drawn from the demo fixture; this keeps the
//! committed file equal to what the UI draws today. `UPDATE_PICTURES=1` rewrites it.

use std::path::Path;

use chrono::{TimeZone, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use shardwatch::model::Snapshot;
use shardwatch::model::fixture::demo_model;
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
