//! Plain-value builders for tests, benches and the README picture.
//!
//! Everything is built through `Model::apply` with `ClusterEvent`s, as `cluster/` would feed
//! it, so the event log is populated too. Times are relative to a `now` argument, so a
//! fixture is the same at any wall-clock time.

mod build;
mod demo;

pub use build::*;
pub use demo::{UNREACHABLE_MESSAGE, demo_model};

use super::event::{Change, ClusterEvent, ClusterInfo, Object, ResourceKind};
use super::objects::{FluxKind, Time};
use super::shards::SHARDABLE;
use super::store::{Model, ModelConfig};

/// The Flux namespace of every fixture.
pub const NS: &str = "flux-system";

/// The shard label key of every fixture (Flux's default).
pub const SHARD_LABEL: &str = "sharding.fluxcd.io/key";

/// The seed's shards.
pub const SEED_SHARDS: [&str; 3] = ["shard1", "shard2", "shard3"];

/// The seed's kind workers, the n-th labelled for the n-th shard.
pub const WORKERS: [&str; 3] = ["shardwatch-worker", "shardwatch-worker2", "shardwatch-worker3"];

/// The seed's kind control-plane node.
pub const CONTROL_PLANE: &str = "shardwatch-control-plane";

/// The Git revision every source and Kustomization of the fixtures has applied.
pub const REVISION: &str = "main@sha1:4f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";

/// When the fixtures' stack was listed, relative to `now`: an hour of history before it.
pub const LISTED_SECS_AGO: i64 = 3600;

/// A model holding `objects`, listed at `at`: one `Listed` per kind, so every watch is Live.
pub fn model_from(at: Time, objects: Vec<Object>) -> Model {
    let mut model = Model::new(ModelConfig::default());
    model.apply(ClusterEvent {
        at,
        change: Change::Cluster(ClusterInfo {
            context: "kind-shardwatch".into(),
            server: "https://127.0.0.1:39091".into(),
            kubernetes_version: Some("v1.34.0".into()),
            flux_version: Some("v2.7.3".into()),
        }),
    });
    let kinds = ResourceKind::all();
    for kind in kinds {
        let of_kind = objects.iter().filter(|o| o.kind() == kind).cloned().collect();
        model.apply(ClusterEvent { at, change: Change::Listed(kind, of_kind) });
    }
    model
}

/// Renews, at `at`, every Lease whose holder pod is Ready on a Ready node: what live
/// leaders do every few seconds (no log entry, as the holder does not change).
pub fn renew_leases(model: &mut Model, at: Time) {
    let alive = |holder: &str| {
        let pod = holder.split_once('_').map_or(holder, |(p, _)| p);
        model.pods.get(pod).is_some_and(|p| {
            p.ready && p.node.as_ref().and_then(|n| model.nodes.get(n)).is_some_and(|n| n.ready == Some(true))
        })
    };
    let renewed: Vec<_> = model
        .leases
        .values()
        .filter(|l| l.holder.as_deref().is_some_and(alive))
        .map(|l| super::objects::Lease { renewed: Some(at), ..l.clone() })
        .collect();
    for lease in renewed {
        model.apply(applied(at, lease));
    }
}

/// The objects of a healthy sharded stack (see `flux_stack`), reconciled well before `now`.
pub fn stack_objects(now: Time, shards: &[&str], workers: &[&str]) -> Vec<Object> {
    let listed = ago(now, LISTED_SECS_AGO);
    let long_ago = ago(now, 86_400);
    let reconciled = ago(now, 3 * 3600);
    let mut out: Vec<Object> = vec![control_plane(CONTROL_PLANE).into()];
    for (i, w) in workers.iter().enumerate() {
        out.push(node(w, shards.get(i).copied()).into());
    }
    // Main pods run on the first worker, as kind schedules them; shard pods on their node.
    let main_node = workers.first().copied().unwrap_or(CONTROL_PLANE);
    let no_node = format!(
        "0/{} nodes are available: 1 node(s) had untolerated taint {{node-role.kubernetes.io/control-plane: }}, \
         {} node(s) didn't match Pod's node affinity/selector. preemption: 0/{} nodes are available: \
         {} Preemption is not helpful for scheduling.",
        workers.len() + 1,
        workers.len(),
        workers.len() + 1,
        workers.len() + 1
    );
    let mut deployments = Vec::new();
    for c in SHARDABLE {
        deployments.push((controller(c, None), Some(main_node)));
        for (i, s) in shards.iter().enumerate() {
            deployments.push((controller(c, Some(s)), workers.get(i).copied()));
        }
    }
    deployments.push((plain_controller("notification-controller"), Some(main_node)));
    for (dep, node) in deployments {
        let pod = pod_of(&dep, node.unwrap_or(CONTROL_PLANE), long_ago);
        match node {
            Some(_) => {
                out.push(lease_of(&dep, &pod, listed).into());
                out.push(pod.into());
                out.push(dep.into());
            }
            None => {
                out.push(pending(pod, &no_node).into());
                out.push(with_replicas(dep, 0).into());
            }
        }
    }

    let shard = |i: usize| (!shards.is_empty()).then(|| shards[i % shards.len()]);
    let source = |s: Option<&str>| match s {
        Some(s) => format!("GitRepository/{NS}/infra-{s}"),
        None => format!("GitRepository/{NS}/flux-system"),
    };
    let ready = |o| Object::Flux(with_ready(o, reconciled));
    let created = |mut o: super::objects::FluxObject| {
        o.created = Some(long_ago);
        o
    };
    out.push(ready(created(flux_object(FluxKind::GitRepository, NS, "flux-system", None))));
    out.push(ready(created(kustomization(NS, "flux-system", None, &[]))));
    for s in shards {
        out.push(ready(created(flux_object(FluxKind::GitRepository, NS, &format!("infra-{s}"), Some(s)))));
    }
    let chain = ["infra-sources", "infra-crds", "infra-controllers", "infra-configs"];
    for (i, name) in chain.iter().enumerate() {
        let deps: Vec<&str> = i.checked_sub(1).and_then(|p| chain.get(p)).copied().into_iter().collect();
        let k = with_source(kustomization(NS, name, shard(i), &deps), &source(shard(i)));
        out.push(ready(created(k)));
    }
    for (i, (repo, release, deps)) in [
        ("jetstack", "cert-manager", vec![]),
        ("zalando", "postgres-operator", vec!["cert-manager/cert-manager"]),
    ]
    .into_iter()
    .enumerate()
    {
        let s = shard(i + 1);
        let mut hr = helm_release(release, release, s, &deps);
        hr.source_ref = Some(format!("HelmRepository/{NS}/{repo}"));
        let chart = with_source(
            flux_object(FluxKind::HelmChart, NS, &format!("{release}-{release}"), s),
            &format!("HelmRepository/{NS}/{repo}"),
        );
        out.push(ready(created(flux_object(FluxKind::HelmRepository, NS, repo, s))));
        out.push(ready(created(chart)));
        out.push(ready(created(hr)));
    }
    out
}

/// A healthy sharded stack as the seed sets it up, with `shards` and `workers` (the n-th
/// worker labelled for the n-th shard; a shard without a worker has its pods Pending):
/// the main source/kustomize/helm controllers, one copy of each per shard and
/// notification-controller (13 Deployments for the seed's 3 shards), their pods, Leases
/// renewed 2s before `now`, and an infrastructure chain `infra-sources` → `infra-crds` →
/// `infra-controllers` → `infra-configs` labelled round-robin across the shards, with
/// cert-manager and postgres-operator HelmReleases, their HelmRepositories and HelmCharts.
pub fn flux_stack(now: Time, shards: &[&str], workers: &[&str]) -> Model {
    let mut model = model_from(ago(now, LISTED_SECS_AGO), stack_objects(now, shards, workers));
    renew_leases(&mut model, ago(now, 2));
    model
}

/// The seed's stack, healthy: three shards on three workers.
pub fn seed_stack(now: Time) -> Model {
    flux_stack(now, &SEED_SHARDS, &WORKERS)
}
