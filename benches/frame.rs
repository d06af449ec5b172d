//! What one change, one clock tick and one frame cost at two cluster sizes (criterion):
//! `cargo bench --bench frame`. Models of the seed stack plus N nodes and M ready
//! Kustomizations in chains of ten, built from the fixture builders; the dashboard's
//! incremental views are kept up to date exactly as the event loop keeps them.
//!
//! Per-change and idle cost must stay flat from 2,000 to 20,000 objects; a frame costs
//! what the screen shows; `Snapshot::of` (from scratch) is here for comparison only.
#![forbid(unsafe_code)]

use std::alloc::System;
use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use shardwatch::model::fixture::*;
use shardwatch::model::objects::Time;
use shardwatch::model::{Model, Snapshot, Views};
use shardwatch::ui::{self, Panel, UiState};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

/// Counts live heap bytes, so the bench can say what an object costs in memory
/// (stats_alloc's wrapper: implementing an allocator would take `unsafe` here).
#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes in use now, as far as the wrapper saw.
fn live() -> isize {
    let s = ALLOCATOR.stats();
    s.bytes_allocated as isize - s.bytes_deallocated as isize + s.bytes_reallocated
}

const SIZES: [(usize, usize); 2] = [(500, 2_000), (5_000, 20_000)];

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

fn bench(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    for (nodes, objects) in SIZES {
        let size = format!("{nodes}n/{objects}o");
        let empty = live();
        let mut m = model(now, nodes, objects);
        let stored = live();
        let mut views = Views::new();
        let first = views.refresh(&mut m, now);
        let viewed = live();
        drop(first);
        // Heap bytes per Flux object (nodes included in the count, as they share the store).
        eprintln!(
            "memory/{size}: store {} bytes per object, views {} bytes per object (heap, counted)",
            (stored - empty) / (nodes + objects) as isize,
            (viewed - stored) / (nodes + objects) as isize
        );
        // A status flip in the middle of a chain: its row and the five rows above it change.
        let ks = |ready: bool| {
            let k = kustomization(NS, "ks-00005", Some("shard3"), &["ks-00004"]);
            if ready { with_ready(k, ago(now, 1)) } else { with_failed(k, "BuildFailed", "x", now) }
        };
        let (failed, ready) = (applied(now, ks(false)), applied(now, ks(true)));
        let mut flip = false;
        c.bench_function(&format!("apply one status change + refresh views/{size}"), |b| {
            b.iter(|| {
                flip = !flip;
                m.apply(if flip { failed.clone() } else { ready.clone() });
                black_box(views.refresh(&mut m, now))
            })
        });
        // What a big cluster's Nodes do all the time: an update that changes nothing shown.
        let mut heartbeat = m.nodes.values().last().cloned().expect("a node");
        let mut beat = 0u64;
        c.bench_function(&format!("apply one node heartbeat + refresh views/{size}"), |b| {
            b.iter(|| {
                beat += 1;
                heartbeat.labels.insert("example.com/beat".into(), beat.to_string());
                m.apply(applied(now, heartbeat.clone()));
                black_box(views.refresh(&mut m, now))
            })
        });
        let lease = m.leases.values().next().cloned().expect("a lease");
        c.bench_function(&format!("apply one lease renewal + refresh views/{size}"), |b| {
            b.iter(|| {
                m.apply(applied(now, lease.clone()));
                black_box(views.refresh(&mut m, now))
            })
        });
        c.bench_function(&format!("clock tick + refresh views/{size}"), |b| {
            b.iter(|| {
                views.tick();
                black_box(views.refresh(&mut m, now))
            })
        });
        let snap = views.refresh(&mut m, now);
        let area = Rect::new(0, 0, 160, 48);
        for panel in Panel::ALL {
            let mut state = UiState::new(false);
            state.panel = panel;
            c.bench_with_input(
                BenchmarkId::new(format!("draw {} 160x48", panel.title()), &size),
                &snap,
                |b, s| {
                    b.iter(|| {
                        let mut buf = Buffer::empty(area);
                        ui::render(&mut buf, area, s, &state);
                        buf
                    })
                },
            );
        }
        c.bench_function(&format!("snapshot JSON (stamp + serialise)/{size}"), |b| {
            b.iter(|| {
                let mut s = snap.clone();
                s.stamp(now);
                black_box(serde_json::to_vec(&s).map(|v| v.len()).unwrap_or_default())
            })
        });
        c.bench_function(&format!("Snapshot::of from scratch (reference)/{size}"), |b| {
            b.iter(|| black_box(Snapshot::of(&m, now)))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
