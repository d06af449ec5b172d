//! `--record` on the local cluster, then `replay`: the replayed model equals the one that
//! watched the cluster, snapshot for snapshot, and `shardwatch replay -o json` prints it.
//! Needs `tests/localcluster/cluster.sh start`.

#[path = "support/flux_stack.rs"]
mod flux_stack;
mod support;

use std::time::Duration;

use chrono::Utc;
use shardwatch::cluster::{ConnectOptions, WatchOptions};
use shardwatch::headless::Feed;
use shardwatch::model::flux_state::ObjectState;
use shardwatch::model::{Model, Snapshot};
use shardwatch::recording::Recording;
use shardwatch::recording::recorder::tee;
use shardwatch::recording::replay::snapshot_at;
use support::Cluster;

const SHARDS: [&str; 3] = ["shard1", "shard2", "shard3"];
const DEADLINE: Duration = Duration::from_secs(90);

fn set_status(cluster: &Cluster, ns: &str, name: &str, status: &str) {
    let args =
        ["-n", ns, "patch", "kustomization", name, "--subresource=status", "--type=merge", "-p", status];
    if let Err(e) = cluster.kubectl(&args) {
        panic!("cannot write the status of {name}: {e}");
    }
}

/// The state the model shows for Kustomization `name`, if it has it.
fn state_of(model: &Model, name: &str) -> Option<ObjectState> {
    let snap = Snapshot::of(model, Utc::now());
    snap.dependencies.nodes.iter().find(|n| &*n.key.name == name).map(|n| n.state.state)
}

/// Applies events from the feed until `done` holds for the model (panics at the deadline).
async fn until(feed: &mut Feed, what: &str, done: impl Fn(&Model) -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !done(&feed.model) {
        match tokio::time::timeout_at(deadline, feed.rx.recv()).await {
            Ok(Some(event)) => feed.model.apply(event),
            Ok(None) => panic!("the watches ended while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

#[test]
fn a_recording_replays_to_the_same_final_snapshot() {
    let Some(cluster) = support::cluster() else { return };
    flux_stack::install_flux_crds(&cluster);
    let ns = cluster.namespace("record");
    let ns = ns.name.as_str();
    cluster.apply(&flux_stack::controller_deployments(ns, &SHARDS));
    cluster.apply(&flux_stack::kustomization(ns, "infra", Some("shard1"), &[]));
    cluster.apply(&flux_stack::kustomization(ns, "apps", Some("shard2"), &[(ns, "infra")]));
    let ready = flux_stack::status(
        "True",
        "ReconciliationSucceeded",
        "Applied revision: main@sha1:1",
        Some("main@sha1:1"),
    );
    set_status(&cluster, ns, "infra", &ready);

    let file = std::env::temp_dir().join(format!("{}.ndjson", support::unique_name("recording")));
    let watch = WatchOptions {
        connect: ConnectOptions { kubeconfig: Some(cluster.kubeconfig.clone()), context: None },
        objects_namespace: Some(ns.to_string()),
        flux_namespace: ns.to_string(),
        shard_label: "sharding.fluxcd.io/key".into(),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut feed = rt.block_on(Feed::open(&watch)).expect("connect to the local cluster");
    // What `--record` does to the dashboard's and `snapshot --follow`'s feed.
    let rx = std::mem::replace(&mut feed.rx, tokio::sync::mpsc::channel(1).1);
    feed.rx = rt.block_on(async { tee(&file, &feed.model.config, rx) }).expect("start recording");
    rt.block_on(feed.settle(DEADLINE));
    rt.block_on(until(&mut feed, "infra Ready", |m| state_of(m, "infra") == Some(ObjectState::Ready)));

    // Changes while recording: infra fails, a third Kustomization comes and goes.
    let failed = flux_stack::status("False", "HealthCheckFailed", "health check failed after 30s", None);
    set_status(&cluster, ns, "infra", &failed);
    cluster.apply(&flux_stack::kustomization(ns, "extra", Some("shard3"), &[]));
    rt.block_on(until(&mut feed, "infra Failed and extra listed", |m| {
        state_of(m, "infra") == Some(ObjectState::Failed) && state_of(m, "extra").is_some()
    }));
    cluster.kubectl(&["-n", ns, "delete", "kustomization", "extra", "--wait=true"]).expect("delete extra");
    rt.block_on(until(&mut feed, "extra gone", |m| state_of(m, "extra").is_none()));

    // Stop watching; what was sent is read, so the model applied exactly what was written.
    feed.stop_watchers();
    rt.block_on(async {
        while let Some(event) = feed.rx.recv().await {
            feed.model.apply(event);
        }
    });

    let recording = Recording::read(&file).expect("read the recording");
    assert!(recording.events.len() > 10, "{} events recorded", recording.events.len());
    let end = recording.end();
    let live = serde_json::to_value(Snapshot::of(&feed.model, end)).unwrap();
    let replayed = serde_json::to_value(snapshot_at(&recording, end)).unwrap();
    assert_eq!(replayed, live, "the replay reaches the snapshot the live model had");
    assert_eq!(state_of(&feed.model, "infra"), Some(ObjectState::Failed));

    // The command line prints the same snapshot.
    let path = file.to_str().unwrap();
    let (code, out, err) = cluster.shardwatch(&["replay", path, "-o", "json"]);
    assert_eq!(code, 0, "replay -o json failed: {err}");
    let printed: serde_json::Value = serde_json::from_str(&out).expect("replay printed JSON");
    assert_eq!(printed, replayed);
    let _ = std::fs::remove_file(&file);
}
