//! The pure state of the dashboard: no I/O, no async, no ratatui, no kube client.

pub mod assignment;
pub mod assignment_index;
pub mod controller_log;
pub mod discovery;
pub mod event;
pub mod explain;
pub mod failover;
pub mod fixture;
pub mod flux_state;
pub mod graph;
pub mod graph_index;
pub mod objects;
pub mod placement;
pub mod placement_index;
pub mod selector;
pub mod shards;
pub mod snapshot;
pub mod store;
pub mod timeline;
pub mod tree_rows;
pub mod verdict;
pub mod views;

pub use event::{Change, ClusterEvent, ClusterInfo, Object, ObjectId, ResourceKind, WatchState};
pub use snapshot::Snapshot;
pub use store::{Model, ModelConfig};
pub use views::Views;

#[cfg(test)]
mod tests;
