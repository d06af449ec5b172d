//! Standing the sharded Flux stack up.
//!
//! The heart is [`shard_transform::shard_install`], a pure function from Flux's install
//! objects to the sharded set, so it is tested with fixture YAML and golden files and no
//! cluster. Around it: [`manifests`] reads and writes multi-document YAML, and [`render`]
//! turns the sharded set into files with a `kustomization.yaml` for people who keep their
//! Flux install in Git. Creating the kind cluster and applying in order come in later issues.
//!
//! The infrastructure layer the stack installs (cert-manager, postgres-operator) lives as
//! plain manifests in the repository's `manifests/` folder, which Flux itself syncs.

pub mod apply;
pub mod command;
pub mod flux_source;
pub mod kind;
pub mod local;
pub mod manifest_tree;
pub mod manifests;
pub mod render;
pub mod shard_transform;
pub mod steps;
pub mod up;
pub mod wait;

pub use manifests::{ManifestError, parse_documents, to_documents, to_yaml};
pub use render::{RenderedFile, render, write_dir};
pub use shard_transform::{Placement, ShardError, ShardOptions, shard_install};
