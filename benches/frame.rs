//! What one change and one frame cost as the cluster grows: `cargo bench --bench frame`.
//! Plain timing (no harness): builds models of the seed stack plus N nodes and M Flux
//! objects from the fixture builders, then times `Model::apply` of one event,
//! `Snapshot::of`, and drawing the Shards and Dependencies panels at 160×48.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use shardwatch::model::fixture::*;
use shardwatch::model::objects::Time;
use shardwatch::model::{Model, Snapshot};
use shardwatch::ui::{self, Panel, UiState};

fn model(now: Time, nodes: usize, objects: usize) -> Model {
    let mut model = seed_stack(now);
    let shards = ["shard1", "shard2", "shard3"];
    for i in 0..nodes {
        model.apply(applied(now, node(&format!("node-{i:05}"), Some(shards[i % 3]))));
    }
    for i in 0..objects {
        // Chains of ten, so the graph has depth as real layouts do.
        let deps: Vec<String> = if i % 10 == 0 { vec![] } else { vec![format!("ks-{:05}", i - 1)] };
        let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
        let ks = kustomization(NS, &format!("ks-{i:05}"), Some(shards[i % 3]), &deps);
        model.apply(applied(now, with_ready(ks, ago(now, 60))));
    }
    model
}

fn time<T>(runs: u32, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..runs {
        black_box(f());
    }
    start.elapsed() / runs
}

fn main() {
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    println!(
        "{:>6} {:>7} | {:>12} {:>14} {:>16} {:>16}",
        "nodes", "objects", "apply 1 event", "Snapshot::of", "draw Shards", "draw Dependencies"
    );
    for (nodes, objects) in [(4, 10), (500, 2_000), (5_000, 20_000)] {
        let mut m = model(now, nodes, objects);
        let runs = if objects > 5_000 { 5 } else { 50 };
        let flip = with_failed(
            kustomization(NS, "ks-00005", Some("shard3"), &["ks-00004"]),
            "BuildFailed",
            "x",
            now,
        );
        let apply = time(1_000, || m.apply(applied(now, flip.clone())));
        let snapshot = time(runs, || Snapshot::of(&m, now));
        let snap = Snapshot::of(&m, now);
        let area = Rect::new(0, 0, 160, 48);
        let draw = |panel: Panel| {
            let mut state = UiState::new(false);
            state.panel = panel;
            time(runs, || {
                let mut buf = Buffer::empty(area);
                ui::render(&mut buf, area, &snap, &state);
                buf
            })
        };
        println!(
            "{nodes:>6} {objects:>7} | {:>12.1?} {:>14.1?} {:>16.1?} {:>16.1?}",
            apply,
            snapshot,
            draw(Panel::Shards),
            draw(Panel::Dependencies)
        );
    }
}
