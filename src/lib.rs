//! shardwatch: a terminal dashboard for the health of a sharded Flux CD stack.
//!
//! Data flows one way: `cluster` (kube watchers) → `model` (pure state) → `ui`.

pub mod app;
pub mod bootstrap;
pub mod cache;
pub mod cli;
pub mod cluster;
pub mod headless;
pub mod kind_config;
pub mod kind_host;
pub mod latency;
pub mod local;
pub mod log_feed;
pub mod logging;
pub mod model;
pub mod node_host;
pub mod recording;
pub mod remote_guard;
pub mod shell_docs;
pub mod stood_up;
pub mod terminal;
pub mod ui;
pub mod user_config;
