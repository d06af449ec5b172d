//! Unit tests of the model, one file per concept, on Flux-realistic fixtures.

mod assignment;
mod explain;
mod failover;
mod fixture;
mod graph;
mod placement;
mod robustness;
mod selectors;
mod shards;
mod source_cause;
mod states;
mod timeline;
mod verdict;
mod views;
mod watches;

use chrono::TimeZone;

use super::event::{ClusterEvent, Object};
use super::objects::Time;
use super::store::Model;

/// A fixed instant, so ages in assertions are exact.
fn now() -> Time {
    chrono::Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().unwrap_or_default()
}

/// Applies `obj` to `model` as a change seen at `now()`.
fn put(model: &mut Model, obj: impl Into<Object>) {
    model.apply(super::fixture::applied(now(), obj));
}

/// Applies a raw change at `now()`.
fn change(model: &mut Model, change: super::event::Change) {
    model.apply(ClusterEvent { at: now(), change });
}
