//! Flux API versions are discovered, not fixed, and a CRD that comes or goes while
//! shardwatch runs is picked up: against the real apiserver, under `snapshot --follow`,
//! the Bucket CRD is removed, installed again serving only `v1beta2` (as an older Flux
//! does), an object of it is seen, and the CRD removed again: once as the admin, once as a
//! ServiceAccount bound to the shipped least-privilege ClusterRole (it finds the versions
//! through discovery, which every user may read). The dashboard runs beside the follow,
//! as the same user: its header says `buckets: CRD not installed` while the CRD is
//! absent, stops saying it once installed (the object found through the Assignment
//! panel's filter), and says it again once removed. Whatever Bucket CRD the cluster had
//! is put back at the end.

#[path = "support/flux_stack.rs"]
mod flux_stack;
#[path = "support/follow.rs"]
mod follow;
#[path = "support/pty.rs"]
mod pty;
mod support;
#[path = "support/viewer.rs"]
mod viewer;

use std::time::Duration;

use follow::Follow;
use serde_json::Value;

const CRD: &str = "buckets.source.toolkit.fluxcd.io";

/// The Bucket CRD as it was; applied again on drop.
struct SavedCrd {
    cluster: support::Cluster,
    crd: Option<Value>,
}

impl Drop for SavedCrd {
    fn drop(&mut self) {
        let _ = self.cluster.kubectl(&["delete", "crd", CRD, "--ignore-not-found", "--wait=true"]);
        if let Some(mut crd) = self.crd.take() {
            let meta = &mut crd["metadata"];
            for field in ["resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"] {
                meta.as_object_mut().map(|m| m.remove(field));
            }
            crd.as_object_mut().map(|m| m.remove("status"));
            if let Err(e) = self.cluster.kubectl_stdin(&["create", "-f", "-"], &crd.to_string()) {
                eprintln!("could not restore the Bucket CRD: {e}");
            }
        }
    }
}

fn old_bucket_crd() -> String {
    format!(
        r#"{{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
  "metadata":{{"name":"{CRD}"}},
  "spec":{{"group":"source.toolkit.fluxcd.io","scope":"Namespaced",
    "names":{{"kind":"Bucket","listKind":"BucketList","plural":"buckets","singular":"bucket"}},
    "versions":[{{"name":"v1beta2","served":true,"storage":true,"subresources":{{"status":{{}}}},
      "schema":{{"openAPIV3Schema":{{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}}]}}}}"#
    )
}

fn bucket_state(snap: &Value) -> String {
    snap["watches"]["buckets"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| snap["watches"]["buckets"].to_string())
}

#[test]
fn a_bucket_crd_removed_then_installed_at_an_older_version_then_removed_is_followed() {
    let Some(cluster) = support::cluster() else { return };
    let saved = cluster.get_json(&["get", "crd", CRD]).ok();
    let _restore = SavedCrd { cluster: cluster.clone(), crd: saved };
    lifecycle(&cluster, &cluster, &[]);
    // The same as the least-privilege reader (its Flux namespace installs the CRDs again).
    let flux_ns = viewer::flux_namespace(&cluster);
    let reader = viewer::Viewer::bound_to(&cluster, &flux_ns.name, viewer::shipped("clusterrole.yaml"));
    lifecycle(&cluster, &reader.me, &["--flux-namespace", &flux_ns.name]);
}

/// Removes the Bucket CRD, installs it again at v1beta2 with an object, removes it again
/// (as `cluster`), while `snapshot --follow` runs as `follower`: each step is seen, and the
/// object goes with its CRD, never shown as current once its kind is gone.
fn lifecycle(cluster: &support::Cluster, follower: &support::Cluster, extra: &[&str]) {
    cluster
        .kubectl(&["delete", "crd", CRD, "--ignore-not-found", "--wait=true"])
        .expect("delete the Bucket CRD");
    let ns = cluster.namespace("buckets");
    let mut follow = Follow::start(follower, extra);
    let mut dashboard = dashboard(follower, extra);
    follow.wait_for(Duration::from_secs(60), "buckets NotInstalled", |s| match bucket_state(s).as_str() {
        "NotInstalled" => Ok(()),
        other => Err(other.to_string()),
    });
    dashboard.wait_for(NOT_INSTALLED, Duration::from_secs(60));

    cluster.apply(&old_bucket_crd());
    cluster
        .kubectl(&["wait", "--for=condition=Established", "--timeout=60s", "crd", CRD])
        .expect("the v1beta2 Bucket CRD is established");
    let bucket = format!(
        r#"{{"apiVersion":"source.toolkit.fluxcd.io/v1beta2","kind":"Bucket",
  "metadata":{{"name":"old-flux-bucket","namespace":"{}"}},
  "spec":{{"bucketName":"b","endpoint":"minio.example:9000","interval":"5m"}}}}"#,
        ns.name
    );
    cluster.apply(&bucket);
    // Found again while running, read at the only version served.
    follow.wait_for(Duration::from_secs(30), "buckets Live with the v1beta2 object", |s| {
        let state = bucket_state(s);
        if state != "Live" {
            return Err(format!("buckets: {state}"));
        }
        follow::assigned(s, "Bucket", &ns.name, "old-flux-bucket").map(|_| ())
    });
    support::wait_until(
        Duration::from_secs(30),
        "the header no longer saying buckets are not installed",
        || {
            let screen = dashboard.contents();
            if screen.contains(NOT_INSTALLED) { Err(screen) } else { Ok(()) }
        },
    );
    dashboard.send("4");
    dashboard.send("/old-flux-bucket\r");
    // The row (`bucket/NS/NAME`), not the filter line that was typed.
    dashboard.wait_for(&format!("bucket/{}/old-flux-bucket", ns.name), Duration::from_secs(30));
    dashboard.send("\x1b");

    cluster.kubectl(&["delete", "crd", CRD, "--wait=true"]).expect("delete the v1beta2 Bucket CRD");
    follow.wait_for(Duration::from_secs(30), "buckets NotInstalled and the object gone", |s| {
        let state = bucket_state(s);
        match (state.as_str(), follow::assigned(s, "Bucket", &ns.name, "old-flux-bucket").is_ok()) {
            ("NotInstalled", false) => Ok(()),
            (state, held) => Err(format!("buckets: {state}, object still shown: {held}")),
        }
    });
    dashboard.wait_for(NOT_INSTALLED, Duration::from_secs(30));
    dashboard.send("q");
    assert!(dashboard.wait_exit(Duration::from_secs(10)), "the dashboard did not exit on q");
}

/// What the dashboard's header says while the Bucket CRD is absent.
const NOT_INSTALLED: &str = "buckets: CRD not installed";

/// The dashboard as `user`, in a 220×48 pseudo-terminal, colours off.
fn dashboard(user: &support::Cluster, extra: &[&str]) -> pty::Terminal {
    let kubeconfig = user.kubeconfig.to_string_lossy().into_owned();
    let mut args = vec!["--kubeconfig", kubeconfig.as_str(), "--log-file", "/dev/null"];
    args.extend(extra);
    pty::Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], 220, 48)
}
