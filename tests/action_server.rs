//! The dashboard's action server against the real apiserver: a reconcile with its source
//! waits (up to a minute) for the source's controller, and an action confirmed after it
//! is done and reported meanwhile, not held up behind it. The objects carry a shard key no
//! controller selects, so the source is never handled and the wait lasts.

#[path = "support/flux_stack.rs"]
mod flux_stack;
mod support;

use std::time::Duration;

use shardwatch::cluster::actions::{Action, ActionReport, serve};
use shardwatch::cluster::{ConnectOptions, connect};
use shardwatch::model::objects::{FluxKey, FluxKind};
use tokio::sync::mpsc;

fn key(kind: FluxKind, ns: &str, name: &str) -> FluxKey {
    FluxKey { kind, namespace: ns.into(), name: name.into() }
}

#[test]
fn an_action_after_a_waiting_reconcile_is_not_held_up_by_it() {
    let Some(cluster) = support::cluster() else { return };
    // The first cluster test binary to run: on a fresh cluster no Flux CRD is there yet.
    flux_stack::install_flux_crds(&cluster);
    let ns = cluster.namespace("sw-actions");
    cluster.apply(&format!(
        r#"apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: held, namespace: {ns}, labels: {{sharding.fluxcd.io/key: nobody}}}}
spec: {{interval: 10m, url: "http://127.0.0.1:9/none.git", ref: {{branch: main}}}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: waits, namespace: {ns}, labels: {{sharding.fluxcd.io/key: nobody}}}}
spec: {{interval: 10m, path: ./, prune: false, sourceRef: {{kind: GitRepository, name: held}}}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: other, namespace: {ns}, labels: {{sharding.fluxcd.io/key: nobody}}}}
spec: {{interval: 10m, path: ./, prune: false, sourceRef: {{kind: GitRepository, name: held}}}}
"#,
        ns = ns.name
    ));

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let (first, suspended) = runtime.block_on(async {
        let target = ConnectOptions { kubeconfig: Some(cluster.kubeconfig.clone()), context: None };
        let (client, _) = connect(&target).await.expect("connect");
        let (action_tx, action_rx) = mpsc::channel(8);
        let (report_tx, mut report_rx) = mpsc::channel::<ActionReport>(8);
        let server = tokio::spawn(serve(client, ns.name.clone(), action_rx, report_tx));
        let waits = key(FluxKind::Kustomization, &ns.name, "waits");
        action_tx.send(Action::Reconcile { key: waits, with_source: true }).await.unwrap();
        let other = key(FluxKind::Kustomization, &ns.name, "other");
        action_tx.send(Action::Suspend { key: other, suspend: true }).await.unwrap();
        // The reconcile's own wait is 60 s: the first report must come well before that.
        let first = tokio::time::timeout(Duration::from_secs(45), report_rx.recv())
            .await
            .expect("no report within 45 s: the suspend waited behind the reconcile")
            .expect("a report");
        server.abort();
        let suspended = cluster
            .get_json(&["-n", &ns.name, "get", "kustomization", "other"])
            .map(|k| k["spec"]["suspend"] == true)
            .unwrap_or(false);
        (first, suspended)
    });
    assert!(
        matches!(&first.action, Action::Suspend { key, suspend: true } if &*key.name == "other"),
        "the first report is the suspend's, not the waiting reconcile's: {first:?}"
    );
    assert!(first.result.is_ok(), "the suspend succeeded: {first:?}");
    assert!(suspended, "Kustomization other has spec.suspend=true");
}
