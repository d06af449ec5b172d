//! Which API version of each Flux kind this cluster serves, found by discovery rather than
//! fixed: an older Flux serves older versions, and a Flux installed without some
//! controller serves none of its kinds. A kind whose CRD comes or goes while shardwatch
//! runs is found again.

use std::time::Duration;

use chrono::Utc;
use kube::api::{ApiResource, DynamicObject};
use kube::discovery::{self, ApiGroup};
use kube::{Api, Client, ResourceExt};
use tokio::sync::mpsc;

use super::trim;
use super::watch::{self, Ended, RECHECK, Trimmer};
use crate::model::objects::{FluxKey, FluxKind};
use crate::model::{Change, ClusterEvent, Object, ObjectId, ResourceKind, WatchState};

/// The group of a Flux kind (`source.toolkit.fluxcd.io`).
pub fn group(kind: FluxKind) -> &'static str {
    kind.api_version().split_once('/').map_or("", |(g, _)| g)
}

/// The version to read `kind` at: the group's preferred version when it serves the kind,
/// else the first other version that does (the server lists them newest first).
/// `versions`: each served version with the kinds it has.
pub fn choose_version<'a>(
    kind: FluxKind,
    preferred: Option<&str>,
    versions: &'a [(String, Vec<String>)],
) -> Option<&'a str> {
    let serves = |(_, kinds): &&(String, Vec<String>)| kinds.iter().any(|k| k == kind.as_str());
    versions
        .iter()
        .filter(|(v, _)| Some(v.as_str()) == preferred)
        .chain(versions.iter())
        .find(serves)
        .map(|(v, _)| v.as_str())
}

/// The served resource of `kind`, or None when the cluster does not serve it.
pub async fn discover(client: &Client, kind: FluxKind) -> Result<Option<ApiResource>, kube::Error> {
    let g = match discovery::group(client, group(kind)).await {
        Ok(g) => g,
        Err(kube::Error::Discovery(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(pick(&g, kind))
}

fn pick(g: &ApiGroup, kind: FluxKind) -> Option<ApiResource> {
    let versions: Vec<(String, Vec<String>)> = g
        .versions()
        .map(|v| (v.to_string(), g.versioned_resources(v).into_iter().map(|(ar, _)| ar.kind).collect()))
        .collect();
    let version = choose_version(kind, g.preferred_version(), &versions)?;
    g.versioned_resources(version).into_iter().map(|(ar, _)| ar).find(|ar| ar.kind == kind.as_str())
}

fn trimmer(kind: FluxKind, label: String) -> Trimmer<DynamicObject> {
    Trimmer::new(
        ResourceKind::Flux(kind),
        move |o| Object::Flux(trim::flux(kind, o, &label)),
        move |o| {
            ObjectId::Flux(FluxKey {
                kind,
                namespace: trim::namespace(o.namespace().as_deref()),
                name: o.name_any().into(),
            })
        },
    )
}

/// Watches one Flux kind at whatever version the cluster serves, for as long as anyone
/// listens: NotInstalled while its CRD is absent (asked again every few seconds), and
/// found again when the CRD is installed, removed or changes versions.
pub async fn run(
    client: Client,
    namespace: Option<String>,
    kind: FluxKind,
    label: String,
    tx: mpsc::Sender<ClusterEvent>,
) {
    let rk = ResourceKind::Flux(kind);
    let send = |state: WatchState| {
        let tx = tx.clone();
        async move { tx.send(ClusterEvent { at: Utc::now(), change: Change::Watch(rk, state) }).await.is_ok() }
    };
    let mut outage = None;
    let mut said_absent = false;
    loop {
        let ar = match discover(&client, kind).await {
            Ok(Some(ar)) => ar,
            Ok(None) => {
                outage = None;
                if !said_absent && !send(WatchState::NotInstalled).await {
                    return;
                }
                said_absent = true;
                tokio::time::sleep(RECHECK).await;
                continue;
            }
            Err(e) => {
                let since = *outage.get_or_insert_with(Utc::now);
                let error = crate::redact::redact(&e.to_string());
                if !send(WatchState::Lost { since, error }).await {
                    return;
                }
                said_absent = false;
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        outage = None;
        let api = match &namespace {
            Some(ns) => Api::<DynamicObject>::namespaced_with(client.clone(), ns, &ar),
            None => Api::<DynamicObject>::all_with(client.clone(), &ar),
        };
        match watch::watch_served(&api, None, &trimmer(kind, label.clone()), &tx).await {
            Ended::Closed => return,
            Ended::NotServed => said_absent = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        list.iter().map(|(v, kinds)| (v.to_string(), kinds.iter().map(|k| k.to_string()).collect())).collect()
    }

    #[test]
    fn the_preferred_version_wins_when_it_serves_the_kind() {
        let v = served(&[
            ("v1", &["GitRepository", "OCIRepository"]),
            ("v1beta2", &["GitRepository", "OCIRepository"]),
        ]);
        assert_eq!(choose_version(FluxKind::OCIRepository, Some("v1"), &v), Some("v1"));
        assert_eq!(choose_version(FluxKind::GitRepository, Some("v1beta2"), &v), Some("v1beta2"));
    }

    #[test]
    fn an_older_flux_is_read_at_the_version_it_serves() {
        // Flux 2.2: GitRepository at v1, OCIRepository and Bucket only at v1beta2.
        let v = served(&[
            ("v1", &["GitRepository", "HelmChart", "HelmRepository"]),
            ("v1beta2", &["GitRepository", "HelmChart", "HelmRepository", "OCIRepository", "Bucket"]),
        ]);
        assert_eq!(choose_version(FluxKind::OCIRepository, Some("v1"), &v), Some("v1beta2"));
        assert_eq!(choose_version(FluxKind::Bucket, Some("v1"), &v), Some("v1beta2"));
        // HelmRelease v2beta1 only (Flux 2.0).
        let h = served(&[("v2beta1", &["HelmRelease"])]);
        assert_eq!(choose_version(FluxKind::HelmRelease, Some("v2beta1"), &h), Some("v2beta1"));
    }

    #[test]
    fn a_kind_no_version_serves_is_absent() {
        let v = served(&[("v1", &["GitRepository"])]);
        assert_eq!(choose_version(FluxKind::Bucket, Some("v1"), &v), None);
        assert_eq!(choose_version(FluxKind::Bucket, None, &[]), None);
    }

    #[test]
    fn each_kind_has_its_group() {
        assert_eq!(group(FluxKind::Kustomization), "kustomize.toolkit.fluxcd.io");
        assert_eq!(group(FluxKind::HelmRelease), "helm.toolkit.fluxcd.io");
        assert_eq!(group(FluxKind::Bucket), "source.toolkit.fluxcd.io");
    }
}
