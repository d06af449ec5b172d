//! Flux's own actions, as the flux CLI performs them: reconcile now (the
//! `reconcile.fluxcd.io/requestedAt` annotation, the source first for a Kustomization or
//! HelmRelease), suspend and resume (`spec.suspend`). The owning shard's controller sees
//! the change through its watch; nothing here needs to know which shard that is.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use color_eyre::eyre::{Result, WrapErr, bail, eyre};
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::wait::await_condition;
use kube::{Api, Client};
use serde_json::{Value, json};

use super::actions::{Outcome, plain};
use super::flux_api;
use super::trim::RECONCILE_REQUESTED_AT;
use crate::model::objects::{FluxKey, FluxKind};

/// The token a new request carries: the time, as `flux reconcile` writes it.
pub fn new_token() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The served API of `kind`, or an error saying the cluster does not serve it.
async fn api(client: &Client, key: &FluxKey) -> Result<Api<DynamicObject>> {
    let ar: ApiResource = flux_api::discover(client, key.kind)
        .await
        .map_err(plain)
        .wrap_err_with(|| format!("finding the API of {}", key.kind.as_str()))?
        .ok_or_else(|| {
            eyre!("this cluster does not serve {} (Flux's CRD is not installed)", key.kind.as_str())
        })?;
    Ok(Api::namespaced_with(client.clone(), &key.namespace, &ar))
}

async fn get(client: &Client, key: &FluxKey) -> Result<(Api<DynamicObject>, DynamicObject)> {
    let api = api(client, key).await?;
    let obj = api.get(&key.name).await.map_err(plain).wrap_err_with(|| format!("reading {key}"))?;
    Ok((api, obj))
}

fn suspended(obj: &DynamicObject) -> bool {
    obj.data.pointer("/spec/suspend").and_then(Value::as_bool).unwrap_or(false)
}

/// The source `flux reconcile --with-source` reconciles first: a Kustomization's
/// `sourceRef`; a HelmRelease's HelmChart (`<namespace>-<name>` in its source's
/// namespace) or its `chartRef`. None for sources themselves.
pub fn source_of(key: &FluxKey, obj: &Value) -> Option<FluxKey> {
    let reference = |r: &Value, name: Option<String>| {
        let kind = FluxKind::parse(r.get("kind")?.as_str()?)?;
        let namespace = r.get("namespace").and_then(Value::as_str).unwrap_or(&key.namespace).into();
        let name = name.or_else(|| r.get("name")?.as_str().map(str::to_string))?;
        Some(FluxKey { kind, namespace, name: name.into() })
    };
    match key.kind {
        FluxKind::Kustomization => reference(obj.pointer("/spec/sourceRef")?, None),
        FluxKind::HelmRelease => match obj.pointer("/spec/chartRef") {
            Some(r) => reference(r, None),
            None => {
                let chart = format!("{}-{}", key.namespace, key.name);
                let r = obj.pointer("/spec/chart/spec/sourceRef")?;
                let namespace = r.get("namespace").and_then(Value::as_str).unwrap_or(&key.namespace);
                Some(FluxKey { kind: FluxKind::HelmChart, namespace: namespace.into(), name: chart.into() })
            }
        },
        _ => None,
    }
}

async fn annotate(api: &Api<DynamicObject>, key: &FluxKey, token: &str) -> Result<()> {
    let patch = json!({ "metadata": { "annotations": { RECONCILE_REQUESTED_AT: token } } });
    api.patch(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(plain)
        .wrap_err_with(|| format!("annotating {key}"))?;
    Ok(())
}

/// How long a reconcile with its source waits for the source's controller to handle
/// the request. `flux reconcile --with-source` waits up to its `--timeout` (5 min); the
/// dashboard performs one action at a time, so a shorter wait that then says why.
pub const SOURCE_WAIT: Duration = Duration::from_secs(60);

/// Waits until the controller has handled request `token` on `key`
/// (`status.lastHandledReconcileAt`), through a watch on that one object; then the
/// source must be Ready, as `flux reconcile --with-source` requires before going on.
async fn source_handled(api: &Api<DynamicObject>, key: &FluxKey, token: &str) -> Result<()> {
    let handled = move |o: Option<&DynamicObject>| {
        o.and_then(|o| o.data.pointer("/status/lastHandledReconcileAt")).and_then(Value::as_str)
            == Some(token)
    };
    let obj = tokio::time::timeout(SOURCE_WAIT, await_condition(api.clone(), &key.name, handled))
        .await
        .map_err(|_| {
            eyre!(
                "its source {key} did not handle the request within {} s (is its shard's \
                 source-controller running?); {key} was not annotated",
                SOURCE_WAIT.as_secs()
            )
        })?
        .map_err(|e| eyre!("watching {key}: {e}"))?;
    let ready = obj
        .as_ref()
        .and_then(|o| o.data.pointer("/status/conditions"))
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c.get("type").and_then(Value::as_str) == Some("Ready")));
    let field = |c: &Value, f: &str| c.get(f).and_then(Value::as_str).unwrap_or_default().to_string();
    match ready {
        Some(c) if field(c, "status") == "True" => Ok(()),
        Some(c) => bail!(
            "its source {key} reconciled but is not Ready ({}: {}); the object was not annotated",
            field(c, "reason"),
            crate::redact::redact(&field(c, "message"))
        ),
        None => bail!("its source {key} reconciled but says nothing of Ready; the object was not annotated"),
    }
}

/// Asks the controller to reconcile `key` now; with `with_source`, its source first: the
/// source is annotated, its controller's handling awaited (and its readiness checked),
/// then `key` is annotated, as `flux reconcile --with-source` does.
/// Refused for a suspended object, as `flux reconcile` refuses it.
pub async fn reconcile(client: &Client, key: &FluxKey, with_source: bool) -> Result<Outcome> {
    let (api, obj) = get(client, key).await?;
    if suspended(&obj) {
        bail!("{key} is suspended: resume it first (nothing would reconcile it)");
    }
    let token = new_token();
    let mut source = None;
    if with_source {
        if let Some(src) = source_of(key, &obj.data) {
            let (src_api, src_obj) = get(client, &src).await.wrap_err("its source")?;
            if !suspended(&src_obj) {
                annotate(&src_api, &src, &token).await?;
                source_handled(&src_api, &src, &token).await?;
                source = Some(src);
            }
        }
    }
    annotate(&api, key, &token).await?;
    Ok(Outcome::ReconcileRequested { key: key.clone(), token, source })
}

/// Sets `spec.suspend`; resuming also requests a reconcile, as `flux resume` does.
pub async fn set_suspend(client: &Client, key: &FluxKey, suspend: bool) -> Result<Outcome> {
    let api = api(client, key).await?;
    let patch = if suspend {
        json!({ "spec": { "suspend": true } })
    } else {
        json!({ "spec": { "suspend": false }, "metadata": { "annotations": { RECONCILE_REQUESTED_AT: new_token() } } })
    };
    api.patch(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(plain)
        .wrap_err_with(|| format!("{} {key}", if suspend { "suspending" } else { "resuming" }))?;
    Ok(Outcome::Suspended { key: key.clone(), suspend })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: FluxKind, name: &str) -> FluxKey {
        FluxKey { kind, namespace: "apps".into(), name: name.into() }
    }

    #[test]
    fn the_source_is_the_one_flux_reconcile_with_source_picks() {
        let ks = json!({ "spec": { "sourceRef": { "kind": "GitRepository", "name": "repo" } } });
        assert_eq!(
            source_of(&key(FluxKind::Kustomization, "a"), &ks),
            Some(key(FluxKind::GitRepository, "repo"))
        );
        let hr = json!({ "spec": { "chart": { "spec": { "chart": "c", "sourceRef": {
            "kind": "HelmRepository", "name": "jetstack", "namespace": "flux-system" } } } } });
        assert_eq!(
            source_of(&key(FluxKind::HelmRelease, "cm"), &hr),
            Some(FluxKey {
                kind: FluxKind::HelmChart,
                namespace: "flux-system".into(),
                name: "apps-cm".into()
            })
        );
        let by_ref = json!({ "spec": { "chartRef": { "kind": "OCIRepository", "name": "podinfo" } } });
        assert_eq!(
            source_of(&key(FluxKind::HelmRelease, "p"), &by_ref),
            Some(key(FluxKind::OCIRepository, "podinfo"))
        );
        assert_eq!(source_of(&key(FluxKind::GitRepository, "repo"), &json!({})), None);
    }

    #[test]
    fn tokens_are_times() {
        let t = new_token();
        assert!(chrono::DateTime::parse_from_rfc3339(&t).is_ok(), "{t}");
    }
}
