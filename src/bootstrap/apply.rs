//! Server-side apply in dependency order: CRDs first (waited until Established), then
//! namespaces, identities and RBAC, then everything else. Field manager `shardwatch`.
//!
//! Every object's resourceVersion before and after tells whether the apply changed it,
//! so a second `up` can say "nothing to change" truthfully.

use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, eyre};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client};
use serde_json::Value;

/// Field manager for every write shardwatch makes.
pub const FIELD_MANAGER: &str = "shardwatch";

/// What one apply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The object did not exist.
    Created,
    /// The object existed and changed.
    Changed,
    /// The object was already as asked.
    Unchanged,
}

/// Counts of what an apply run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Objects created, as `Kind/name`.
    pub created: Vec<String>,
    /// Objects changed, as `Kind/name`.
    pub changed: Vec<String>,
    /// How many were already as asked.
    pub unchanged: usize,
}

impl Summary {
    /// True when the run changed nothing.
    pub fn nothing_changed(&self) -> bool {
        self.created.is_empty() && self.changed.is_empty()
    }

    /// One line for the progress log.
    pub fn line(&self) -> String {
        if self.nothing_changed() {
            format!("nothing to change ({} objects already as wanted)", self.unchanged)
        } else {
            format!(
                "{} created, {} changed, {} unchanged",
                self.created.len(),
                self.changed.len(),
                self.unchanged
            )
        }
    }

    /// The preview's lines: the counts, then what would be created and changed (at most
    /// `max` names each, then how many more).
    pub fn preview_lines(&self, max: usize) -> Vec<String> {
        let mut lines = vec![format!(
            "would create {}, change {}, leave {} unchanged",
            self.created.len(),
            self.changed.len(),
            self.unchanged
        )];
        for (verb, names) in [("create", &self.created), ("change", &self.changed)] {
            lines.extend(names.iter().take(max).map(|n| format!("  {verb} {n}")));
            if names.len() > max {
                lines.push(format!("  … and {} more to {verb}", names.len() - max));
            }
        }
        lines
    }

    fn add(&mut self, what: String, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.created.push(what),
            Outcome::Changed => self.changed.push(what),
            Outcome::Unchanged => self.unchanged += 1,
        }
    }
}

/// The apply wave an object belongs to: lower goes first.
pub fn wave(object: &Value) -> u8 {
    match object["kind"].as_str().unwrap_or_default() {
        "CustomResourceDefinition" => 0,
        "Namespace" => 1,
        "ServiceAccount" | "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding"
        | "ResourceQuota" | "LimitRange" | "NetworkPolicy" | "ConfigMap" => 2,
        "Service" => 3,
        _ => 4,
    }
}

/// Applies `objects` in waves; CRDs are waited for until Established before the rest.
pub async fn apply_all(
    client: &Client,
    objects: &[Value],
    progress: &mut dyn FnMut(&str),
) -> Result<Summary> {
    let mut ordered: Vec<&Value> = objects.iter().collect();
    // Stable: within a wave, the input order is kept.
    ordered.sort_by_key(|o| wave(o));
    let mut summary = Summary::default();
    let crds: Vec<&Value> = ordered.iter().copied().filter(|o| wave(o) == 0).collect();
    for crd in &crds {
        summary.add(describe(crd), apply_one(client, crd).await?);
    }
    if !crds.is_empty() {
        progress(&format!("waiting for {} CRDs to be Established", crds.len()));
        let api: Api<CustomResourceDefinition> = Api::all(client.clone());
        for crd in &crds {
            let name = crd["metadata"]["name"].as_str().unwrap_or_default();
            tokio::time::timeout(
                Duration::from_secs(60),
                await_condition(api.clone(), name, conditions::is_crd_established()),
            )
            .await
            .map_err(|_| eyre!("CRD {name} was not Established within 60s"))?
            .wrap_err_with(|| format!("waiting for CRD {name}"))?;
        }
    }
    for object in ordered.into_iter().filter(|o| wave(o) > 0) {
        summary.add(describe(object), apply_one(client, object).await?);
    }
    Ok(summary)
}

/// What applying `objects` would do, asking the API server (a server-side apply dry run of
/// each object that exists; one that does not, or whose kind is not served yet because its
/// CRD comes with this apply, would be created). Nothing is written.
pub async fn preview(client: &Client, objects: &[Value]) -> Result<Summary> {
    let mut summary = Summary::default();
    for object in objects {
        summary.add(describe(object), dry_run_one(client, object).await?);
    }
    Ok(summary)
}

/// What [`apply_one`] would do to `object`, written nowhere.
async fn dry_run_one(client: &Client, object: &Value) -> Result<Outcome> {
    let Identity { what, kind, name, gvk, .. } = identity(object)?;
    let Ok((resource, caps)) = discovery::pinned_kind(client, &gvk).await else {
        return Ok(Outcome::Created);
    };
    let api = dynamic_api(client, &resource, caps.scope == Scope::Namespaced, object)?;
    // Never read, so never compared: counted as a change.
    if kind == "Secret" {
        return Ok(Outcome::Changed);
    }
    let Some(before) = api.get_opt(name).await.wrap_err_with(|| format!("reading {what}"))? else {
        return Ok(Outcome::Created);
    };
    let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
    let after = api
        .patch(name, &params, &Patch::Apply(object))
        .await
        .wrap_err_with(|| format!("dry-run applying {what}"))?;
    Ok(if content(&before) == content(&after) { Outcome::Unchanged } else { Outcome::Changed })
}

/// What the API needs to find an object's resource, read from the object itself.
struct Identity<'a> {
    /// `Kind/namespace/name`, for messages.
    what: String,
    api_version: &'a str,
    kind: &'a str,
    name: &'a str,
    gvk: GroupVersionKind,
}

/// The object's apiVersion, kind and name, or an error naming what it lacks.
fn identity(object: &Value) -> Result<Identity<'_>> {
    let what = describe(object);
    let api_version = object["apiVersion"].as_str().ok_or_else(|| eyre!("{what} has no apiVersion"))?;
    let kind = object["kind"].as_str().ok_or_else(|| eyre!("{what} has no kind"))?;
    let name = object["metadata"]["name"].as_str().ok_or_else(|| eyre!("{what} has no name"))?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    Ok(Identity { what, api_version, kind, name, gvk })
}

/// `Kind/namespace/name` or `Kind/name`.
pub fn describe(object: &Value) -> String {
    let kind = object["kind"].as_str().unwrap_or("?");
    let name = object["metadata"]["name"].as_str().unwrap_or("?");
    match object["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// Server-side applies one object and tells whether it changed.
pub async fn apply_one(client: &Client, object: &Value) -> Result<Outcome> {
    let Identity { what, api_version, kind, name, gvk } = identity(object)?;
    let (resource, caps) = discovery::pinned_kind(client, &gvk).await.wrap_err_with(|| {
        format!("the API server does not serve {api_version} {kind} (needed for {what})")
    })?;
    let api = dynamic_api(client, &resource, caps.scope == Scope::Namespaced, object)?;
    let params = PatchParams::apply(FIELD_MANAGER).force();
    // shardwatch never reads a Secret, not even to compare: a Secret is applied blind.
    if kind == "Secret" {
        api.patch(name, &params, &Patch::Apply(object)).await.wrap_err_with(|| format!("applying {what}"))?;
        return Ok(Outcome::Changed);
    }
    let before = api.get_opt(name).await.wrap_err_with(|| format!("reading {what}"))?;
    let after =
        api.patch(name, &params, &Patch::Apply(object)).await.wrap_err_with(|| format!("applying {what}"))?;
    Ok(match before {
        None => Outcome::Created,
        Some(b) if content(&b) == content(&after) => Outcome::Unchanged,
        Some(_) => Outcome::Changed,
    })
}

/// An object without the bookkeeping the API server rewrites on its own: right after
/// a CRD appears, a no-op apply can still re-encode managedFields (and so bump the
/// resourceVersion) once the CRD's schema is published, which is no change to the user.
/// Nor is the status, which an apply never writes: a controller that updates it between
/// the read and the apply (a Deployment's, Flux's) must not count as a change.
fn content(o: &DynamicObject) -> Value {
    let mut v = serde_json::to_value(o).unwrap_or_default();
    if let Some(object) = v.as_object_mut() {
        object.remove("status");
    }
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.remove("resourceVersion");
    }
    v
}

fn dynamic_api(
    client: &Client,
    resource: &ApiResource,
    namespaced: bool,
    object: &Value,
) -> Result<Api<DynamicObject>> {
    if !namespaced {
        return Ok(Api::all_with(client.clone(), resource));
    }
    let ns = object["metadata"]["namespace"]
        .as_str()
        .ok_or_else(|| eyre!("{} is namespaced but names no namespace", describe(object)))?;
    Ok(Api::namespaced_with(client.clone(), ns, resource))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn crds_before_namespaces_before_rbac_before_services_before_workloads() {
        let objs = [
            json!({"kind": "Deployment"}),
            json!({"kind": "Service"}),
            json!({"kind": "ClusterRole"}),
            json!({"kind": "Namespace"}),
            json!({"kind": "CustomResourceDefinition"}),
            json!({"kind": "Kustomization"}),
        ];
        let mut sorted: Vec<&Value> = objs.iter().collect();
        sorted.sort_by_key(|o| wave(o));
        let kinds: Vec<&str> = sorted.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "CustomResourceDefinition",
                "Namespace",
                "ClusterRole",
                "Service",
                "Deployment",
                "Kustomization"
            ]
        );
    }

    #[test]
    fn summary_says_nothing_to_change_only_without_writes() {
        let mut s = Summary::default();
        s.add("Namespace/flux-system".into(), Outcome::Unchanged);
        assert!(s.nothing_changed());
        assert_eq!(s.line(), "nothing to change (1 objects already as wanted)");
        s.add("Deployment/flux-system/x".into(), Outcome::Changed);
        assert!(!s.nothing_changed());
        assert_eq!(s.line(), "0 created, 1 changed, 1 unchanged");
        for i in 0..3 {
            s.add(format!("Deployment/flux-system/new{i}"), Outcome::Created);
        }
        assert_eq!(
            s.preview_lines(2),
            [
                "would create 3, change 1, leave 1 unchanged",
                "  create Deployment/flux-system/new0",
                "  create Deployment/flux-system/new1",
                "  … and 1 more to create",
                "  change Deployment/flux-system/x",
            ]
        );
    }
}
