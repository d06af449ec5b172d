//! `snapshot -o json` assigns Flux objects by evaluating each controller's
//! `--watch-label-selector` in every form Flux accepts (`in`, `notin`, exists, `!key`,
//! several requirements), shows two matching shards as a conflict and an unparsable
//! selector as such. Needs `tests/localcluster/cluster.sh start`.

#[path = "support/flux_stack.rs"]
mod flux_stack;
mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Cluster, wait_until};

const DEADLINE: Duration = Duration::from_secs(180);
const KC: &str = "kustomize-controller";

fn snapshot(cluster: &Cluster, flux_ns: &str, objects_ns: &str) -> Result<Value, String> {
    let (code, out, err) =
        cluster.shardwatch(&["snapshot", "-o", "json", "--flux-namespace", flux_ns, "-n", objects_ns]);
    if code != 0 {
        return Err(format!("snapshot exited {code}: {err}"));
    }
    serde_json::from_str(&out).map_err(|e| format!("snapshot printed invalid JSON ({e}): {out}"))
}

fn labelled_kustomization(ns: &str, name: &str, labels: &[(&str, &str)]) -> String {
    let labels: String = labels.iter().map(|(k, v)| format!("    {k}: \"{v}\"\n")).collect();
    let labels = if labels.is_empty() { String::new() } else { format!("  labels:\n{labels}") };
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: {ns}
{labels}spec:
  interval: 10m
  path: ./
  prune: true
  sourceRef:
    kind: GitRepository
    name: infra
"
    )
}

/// `(shard, orphan, conflict)` of Kustomization `name` in the snapshot's assignment.
fn placed(snap: &Value, ns: &str, name: &str) -> Result<(String, Value, Value), String> {
    let o = snap["assignment"]["shards"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["objects"].as_array().into_iter().flatten())
        .find(|o| {
            o["key"]["kind"] == "Kustomization" && o["key"]["namespace"] == ns && o["key"]["name"] == name
        })
        .ok_or_else(|| format!("Kustomization {name} is not assigned yet"))?;
    let conflict = o.get("conflict").cloned().unwrap_or(Value::Array(vec![]));
    Ok((o["shard"].as_str().unwrap_or_default().to_string(), o["orphan"].clone(), conflict))
}

#[test]
fn objects_are_assigned_by_the_selectors_the_controllers_watch_with() {
    let Some(cluster) = support::cluster() else { return };
    flux_stack::install_flux_crds(&cluster);
    let flux = cluster.namespace("sw-selflux");
    let objects = cluster.namespace("sw-selobj");
    let (fns, ns) = (flux.name.as_str(), objects.name.as_str());
    let deployments = [
        flux_stack::deployment(fns, KC, KC, Some("!team,!example.com/legacy,!sharding.fluxcd.io/key"), None),
        flux_stack::deployment(fns, KC, &format!("{KC}-shard1"), Some("team in (payments, search)"), None),
        flux_stack::deployment(
            fns,
            KC,
            &format!("{KC}-shard2"),
            Some("team notin (payments,search),team"),
            None,
        ),
        flux_stack::deployment(fns, KC, &format!("{KC}-shard3"), Some("example.com/legacy"), None),
        flux_stack::deployment(fns, KC, &format!("{KC}-shard4"), Some("team in (payments"), None),
    ];
    cluster.apply(&deployments.join("---\n"));
    let manifests = [
        labelled_kustomization(ns, "pay", &[("team", "payments")]),
        labelled_kustomization(ns, "ads", &[("team", "ads")]),
        labelled_kustomization(ns, "old", &[("example.com/legacy", "yes")]),
        labelled_kustomization(ns, "plain", &[]),
        labelled_kustomization(ns, "both", &[("team", "search"), ("example.com/legacy", "yes")]),
        // The shard label names shard2, but shard2's controller watches by team and main
        // excludes the shard label: nothing selects it.
        labelled_kustomization(ns, "stray", &[("sharding.fluxcd.io/key", "shard2")]),
    ];
    cluster.apply(&manifests.join("---\n"));

    // Every controller ready (else rows would be ControllerNotReady), every object listed.
    let snap = wait_until(DEADLINE, "five ready kustomize-controllers and six objects", || {
        let s = snapshot(&cluster, fns, ns)?;
        let ready = s["shards"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["controllers"].as_array().into_iter().flatten())
            .filter(|c| c["ready"] == 1)
            .count();
        let names = ["pay", "ads", "old", "plain", "both", "stray"];
        let listed = names.iter().filter(|n| placed(&s, ns, n).is_ok()).count();
        if ready == 5 && listed == 6 {
            Ok(s)
        } else {
            Err(format!("{ready} ready controllers, {listed} objects"))
        }
    });
    let none = Value::Array(vec![]);
    let get = |n: &str| placed(&snap, ns, n).unwrap();
    assert_eq!(get("pay"), ("shard1".into(), Value::Null, none.clone()), "team in (payments, search)");
    assert_eq!(get("ads"), ("shard2".into(), Value::Null, none.clone()), "team notin (...),team");
    assert_eq!(get("old"), ("shard3".into(), Value::Null, none.clone()), "exists");
    assert_eq!(get("plain"), ("main".into(), Value::Null, none.clone()), "!team,!example.com/legacy");
    assert_eq!(
        get("both"),
        ("shard1".into(), Value::Null, serde_json::json!(["shard3"])),
        "two selectors match"
    );
    assert_eq!(get("stray"), ("shard2".into(), serde_json::json!("no_controller"), none.clone()));
    let orphans: Vec<&str> = snap["assignment"]["orphans"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| o["key"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(orphans, ["stray"], "an orphan only when no controller's selector matches");

    // The unparsable selector is shown, and its controller selects nothing.
    let shard4 = snap["shards"].as_array().unwrap().iter().find(|s| s["name"] == "shard4").expect("shard4");
    let error = shard4["controllers"][0]["selector_error"].as_str().unwrap_or_default();
    assert!(error.contains("team in (payments"), "selector_error: {}", shard4["controllers"][0]);

    // Relabelled: `old` leaves shard3 for shard1; `stray` gains an empty `example.com/legacy`
    // (exists holds for an empty value) and shard3 selects it.
    cluster
        .kubectl(&["-n", ns, "label", "kustomization", "old", "example.com/legacy-", "team=payments"])
        .expect("relabel old");
    cluster
        .kubectl(&["-n", ns, "label", "kustomization", "stray", "example.com/legacy="])
        .expect("label stray");
    let snap = wait_until(DEADLINE, "the relabelled objects reassigned", || {
        let s = snapshot(&cluster, fns, ns)?;
        let (old, stray) = (placed(&s, ns, "old")?, placed(&s, ns, "stray")?);
        if old.0 == "shard1" && stray.0 == "shard3" {
            Ok(s)
        } else {
            Err(format!("old {old:?}, stray {stray:?}"))
        }
    });
    assert_eq!(placed(&snap, ns, "stray").unwrap(), ("shard3".into(), Value::Null, none.clone()));
    assert_eq!(snap["assignment"]["orphans"], none);
}
