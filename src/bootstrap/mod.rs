//! Standing the sharded Flux stack up.
//!
//! The heart is [`shard_transform::shard_install`], a pure function from Flux's install
//! objects to the sharded set, so it is tested with fixture YAML and golden files and no
//! cluster. Around it: [`manifests`] reads and writes multi-document YAML, and [`render`]
//! turns the sharded set into files with a `kustomization.yaml` for people who keep their
//! Flux install in Git. [`up`] runs the whole procedure: cluster ([`kind`] or [`crate::local`]),
//! [`apply`] in order, [`wait`], and on the local target the real controllers
//! ([`flux_runtime`]) with the layer served from a local Git server ([`manifest_tree`]).
//!
//! The infrastructure layer the stack installs ([`infra_layer`]: cert-manager,
//! postgres-operator) lives as plain manifests in the repository's `manifests/` folder,
//! which Flux itself syncs.

pub mod apply;
pub mod confirm;
pub mod flux_runtime;
pub mod flux_source;
pub mod infra_layer;
pub mod kind;
pub mod layer_wait;
pub mod manifest_tree;
pub mod manifests;
pub mod render;
pub mod render_install;
pub mod shard_transform;
pub mod steps;
pub mod up;
pub mod up_lock;
pub mod wait;

pub use manifests::{ManifestError, parse_documents, to_documents, to_yaml};
pub use render::{RenderedFile, render, write_dir};
pub use shard_transform::{Placement, ShardError, ShardOptions, shard_install};
