//! Flux's CRDs for a cluster, taken from the controllers' Go module zips at the pinned
//! versions (nothing of Flux is kept in this repository), applied server-side and waited
//! for until Established.

use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr, bail};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, Patch, PatchParams};
use serde::Deserialize;

use super::component_build::FluxVersions;
use super::go_tool;

/// The CRDs the tests and the dashboard need Established before going on.
const REQUIRED: [&str; 7] = [
    "kustomizations.kustomize.toolkit.fluxcd.io",
    "helmreleases.helm.toolkit.fluxcd.io",
    "gitrepositories.source.toolkit.fluxcd.io",
    "ocirepositories.source.toolkit.fluxcd.io",
    "helmrepositories.source.toolkit.fluxcd.io",
    "helmcharts.source.toolkit.fluxcd.io",
    "buckets.source.toolkit.fluxcd.io",
];

/// Reads the CRD documents of the controllers' modules (`config/crd/bases/*.yaml`).
pub async fn from_modules(
    versions: &FluxVersions,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<serde_json::Value>> {
    let specs = versions.module_specs();
    // Outside any Go module, so a go.mod around the working directory cannot change what
    // is downloaded.
    let modules = go_tool::download(&specs, &std::env::temp_dir(), progress).await?;
    let mut crds = Vec::new();
    for module in modules {
        let bases = module.dir.join("config/crd/bases");
        let mut files: Vec<_> = std::fs::read_dir(&bases)
            .wrap_err_with(|| format!("reading {}", bases.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file)?;
            for doc in serde_norway::Deserializer::from_str(&text) {
                let value = serde_json::Value::deserialize(doc)
                    .wrap_err_with(|| format!("parsing {}", file.display()))?;
                if value.get("kind").and_then(|k| k.as_str()) == Some("CustomResourceDefinition") {
                    crds.push(value);
                }
            }
        }
    }
    Ok(crds)
}

/// Installs Flux's CRDs and waits until the ones Flux's objects need are Established;
/// returns how many were applied.
pub async fn install(
    client: &Client,
    versions: &FluxVersions,
    progress: &mut dyn FnMut(&str),
) -> Result<usize> {
    let crds = from_modules(versions, progress).await?;
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let params = PatchParams::apply("shardwatch").force();
    for crd in &crds {
        let name = crd["metadata"]["name"].as_str().unwrap_or_default();
        api.patch(name, &params, &Patch::Apply(crd))
            .await
            .wrap_err_with(|| format!("applying CRD {name}"))?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for name in REQUIRED {
        while !established(&api, name).await {
            if Instant::now() > deadline {
                bail!("CRD {name} not Established after 60s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(crds.len())
}

async fn established(api: &Api<CustomResourceDefinition>, name: &str) -> bool {
    let Ok(Some(crd)) = api.get_opt(name).await else { return false };
    crd.status
        .and_then(|s| s.conditions)
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Established" && c.status == "True"))
}
