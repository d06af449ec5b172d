//! Where Flux's install manifests come from: the objects [`shard_install`] shards.
//!
//! Four sources, tried in an order the target picks ([`default_order`]): a file the user
//! gives, `flux install --export` from the `flux` CLI, the pinned release's `install.yaml`
//! from GitHub, and the controllers' Go modules. The last one exists because the local test
//! world reaches the Go module proxy and nothing else: Flux's CRDs and kustomize bases ship
//! inside the controllers' module zips, so [`assemble`](fn@assemble) rebuilds the equivalent
//! of Flux's install from them at run time. No Flux YAML is kept in this repository.
//!
//! This file fetches; `assemble.rs` is the pure assembly, kept apart so it is tested without
//! network or processes, and `stand_in.rs` the notification-controller the modules lack.
//!
//! [`shard_install`]: super::shard_transform::shard_install

mod assemble;
mod flux_labels;
mod stand_in;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use color_eyre::eyre::{Report, Result, WrapErr, bail, eyre};
use serde_json::Value;
use tokio::process::Command;

use super::manifests::parse_documents;
use super::shard_transform::SHARDED_CONTROLLERS;
use assemble::{kind_of, name_of};

pub use assemble::{ModuleFiles, assemble};

/// The Flux release whose `install.yaml` the [`FluxSource::Release`] source downloads.
pub const FLUX_VERSION: &str = "v2.7.3";
/// source-controller version of Flux v2.7, as served by the Go module proxy.
pub const SOURCE_CONTROLLER_VERSION: &str = "v1.7.3";
/// kustomize-controller version of Flux v2.7, as served by the Go module proxy.
pub const KUSTOMIZE_CONTROLLER_VERSION: &str = "v1.7.3";
/// helm-controller version of Flux v2.7, as served by the Go module proxy.
pub const HELM_CONTROLLER_VERSION: &str = "v1.4.3";
/// Image tag of the notification-controller stand-in (the proxy does not serve its module).
pub const NOTIFICATION_CONTROLLER_VERSION: &str = "v1.7.4";
/// Namespace every source installs Flux into.
pub const FLUX_NAMESPACE: &str = "flux-system";
/// The components asked of `flux install --export`: the four a sharded stack needs.
pub const FLUX_COMPONENTS: &str =
    "source-controller,kustomize-controller,helm-controller,notification-controller";
/// `(controller, version)` of the Go modules [`FluxSource::GoModules`] downloads.
pub const GO_MODULES: [(&str, &str); 3] = [
    ("source-controller", SOURCE_CONTROLLER_VERSION),
    ("kustomize-controller", KUSTOMIZE_CONTROLLER_VERSION),
    ("helm-controller", HELM_CONTROLLER_VERSION),
];

const NOTIFICATION_CONTROLLER: &str = "notification-controller";
const DEPLOYMENT_FILE: &str = "config/manager/deployment.yaml";
const SERVICE_FILE: &str = "config/manager/service.yaml";
const ROLE_FILE: &str = "config/rbac/role.yaml";
const LEADER_ROLE_FILE: &str = "config/rbac/leader_election_role.yaml";
/// In a module, binds the controller to a reconcile-anything role: kustomize- and
/// helm-controller have one, because they apply arbitrary objects.
const RECONCILER_BINDING_FILE: &str = "config/rbac/cluster_role_binding.yaml";
const CRD_DIR: &str = "config/crd/bases/";
/// Files of a controller module's `config/` folder read besides the CRDs, when present.
const MODULE_FILES: [&str; 5] =
    [DEPLOYMENT_FILE, SERVICE_FILE, ROLE_FILE, LEADER_ROLE_FILE, RECONCILER_BINDING_FILE];
/// Keeps a failing command's message readable when it prints a lot.
const STDERR_TAIL: usize = 2000;

/// One place to get Flux's install objects from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FluxSource {
    /// A multi-document YAML file given by the user (`--flux-manifests FILE`).
    File(PathBuf),
    /// `flux install --export` of the `flux` CLI on PATH (its own embedded version, offline).
    FluxCli,
    /// The `install.yaml` of release [`FLUX_VERSION`], downloaded from GitHub with curl or wget.
    Release,
    /// Assembled from the controllers' Go modules at [`GO_MODULES`] (see [`assemble`](fn@assemble)).
    GoModules,
}

impl fmt::Display for FluxSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "file {}", path.display()),
            Self::FluxCli => write!(f, "`flux install --export`"),
            Self::Release => write!(f, "Flux {FLUX_VERSION} release install.yaml"),
            Self::GoModules => write!(f, "the Flux controllers' Go modules"),
        }
    }
}

/// The sources to try, in order, when the user gives no file: the local test cluster reaches
/// only the Go module proxy, so it starts there; kind and current clusters prefer real Flux.
pub fn default_order(local: bool) -> Vec<FluxSource> {
    if local {
        vec![FluxSource::GoModules, FluxSource::FluxCli, FluxSource::Release]
    } else {
        vec![FluxSource::FluxCli, FluxSource::Release]
    }
}

/// Gets Flux's install objects from one source, checked to hold the controllers it shards.
pub async fn obtain(source: &FluxSource, progress: &mut dyn FnMut(&str)) -> Result<Vec<Value>> {
    let objects = match source {
        FluxSource::File(path) => from_file(path, progress).await,
        FluxSource::FluxCli => from_flux_cli(progress).await,
        FluxSource::Release => from_release(progress).await,
        FluxSource::GoModules => from_go_modules(progress).await,
    }
    .wrap_err_with(|| format!("cannot get Flux's install from {source}"))?;
    // A `flux` on PATH may be another program (InfluxDB's query tool has that name), and a
    // download may be an HTML page: check before the shard transform sees it.
    check_flux_install(&objects).wrap_err_with(|| format!("{source} did not give a usable Flux install"))?;
    progress(&format!("got {} Flux install objects from {source}", objects.len()));
    Ok(objects)
}

/// Tries each source in order and returns the first that works; if none does, the error
/// lists why each failed.
pub async fn obtain_first(
    order: &[FluxSource],
    progress: &mut dyn FnMut(&str),
) -> Result<(FluxSource, Vec<Value>)> {
    let mut failures = Vec::new();
    for (i, source) in order.iter().enumerate() {
        match obtain(source, progress).await {
            Ok(objects) => return Ok((source.clone(), objects)),
            Err(e) => {
                let next = if i + 1 < order.len() { "trying the next source" } else { "no source left" };
                // The error names its source already (see `obtain`); a later success would
                // hide it otherwise, so the progress line carries it.
                progress(&format!("{e:#}; {next}"));
                failures.push(format!("- {e:#}"));
            }
        }
    }
    if failures.is_empty() {
        bail!("no source of Flux install manifests to try");
    }
    bail!("no source gave Flux's install manifests:\n{}", failures.join("\n"))
}

/// Fails unless the objects hold the Deployments the shard transform copies.
fn check_flux_install(objects: &[Value]) -> Result<()> {
    if objects.is_empty() {
        bail!("it holds no Kubernetes object");
    }
    let missing: Vec<&str> = SHARDED_CONTROLLERS
        .into_iter()
        .filter(|c| !objects.iter().any(|o| kind_of(o) == "Deployment" && name_of(o) == *c))
        .collect();
    if !missing.is_empty() {
        bail!("no Deployment named {} among its {} objects", missing.join(", "), objects.len());
    }
    Ok(())
}

async fn from_file(path: &Path, progress: &mut dyn FnMut(&str)) -> Result<Vec<Value>> {
    progress(&format!("reading Flux manifests from {}", path.display()));
    let text =
        tokio::fs::read_to_string(path).await.wrap_err_with(|| format!("cannot read {}", path.display()))?;
    parse_documents(&text).wrap_err_with(|| format!("{} is not valid YAML", path.display()))
}

async fn from_flux_cli(progress: &mut dyn FnMut(&str)) -> Result<Vec<Value>> {
    // `flux install --export` writes the CLI's own Flux version, whatever FLUX_VERSION says.
    let version = run("flux", &["version", "--client", "-o", "json"], None).await?;
    let version = success_stdout("flux version --client", version)?;
    let version =
        cli_version(&version).ok_or_else(|| eyre!("`flux version --client -o json` printed no version"))?;
    supports_sharding(&version).map_err(|why| eyre!(why))?;
    progress(&format!("flux CLI {version}"));
    let args = ["install", "--export", &format!("--components={FLUX_COMPONENTS}")];
    progress(&format!("running flux {}", args.join(" ")));
    let output = run("flux", &args, None).await?;
    let stdout = success_stdout("flux install --export", output)?;
    parse_documents(&stdout).wrap_err("`flux install --export` printed invalid YAML")
}

async fn from_release(progress: &mut dyn FnMut(&str)) -> Result<Vec<Value>> {
    let url = release_url(FLUX_VERSION);
    progress(&format!("downloading {url}"));
    // curl first, wget when curl is absent; a curl that ran and failed is the answer.
    let curl_args = ["-fsSL", "--connect-timeout", "30", "--max-time", "300", &url];
    let (tool, output) = match run("curl", &curl_args, None).await {
        Err(e) if is_not_found(&e) => match run("wget", &["-qO-", "--timeout=60", &url], None).await {
            Err(e) if is_not_found(&e) => bail!("neither curl nor wget is on PATH to download {url}"),
            other => ("wget", other?),
        },
        other => ("curl", other?),
    };
    let stdout = success_stdout(&format!("{tool} {url}"), output)?;
    let all = parse_documents(&stdout).wrap_err_with(|| format!("{url} is not valid YAML"))?;
    let kept = sharded_components_only(all);
    progress(&format!("kept {} objects of the components {FLUX_COMPONENTS}", kept.len()));
    Ok(kept)
}

/// The install objects of the components shardwatch installs: the release's install.yaml
/// also holds image-reflector-, image-automation-controller and source-watcher, which would
/// be applied and waited for. Objects without a component label (the namespace, shared
/// RBAC, policies) stay; Flux labels every component's objects with
/// `app.kubernetes.io/component` (flux2 `manifests/bases/*/labels.yaml`).
pub fn sharded_components_only(objects: Vec<Value>) -> Vec<Value> {
    let wanted: Vec<&str> = FLUX_COMPONENTS.split(',').collect();
    objects
        .into_iter()
        .filter(|o| match o["metadata"]["labels"]["app.kubernetes.io/component"].as_str() {
            Some(component) => wanted.contains(&component),
            None => true,
        })
        .collect()
}

/// The version `flux version --client -o json` prints (`{"flux": "v2.7.3"}`, flux2
/// `cmd/flux/version.go`).
pub fn cli_version(json: &str) -> Option<String> {
    serde_json::from_str::<Value>(json).ok()?["flux"].as_str().map(str::to_string)
}

/// Whether a Flux version shards: `--watch-label-selector` arrived in Flux 2.2.
pub fn supports_sharding(version: &str) -> std::result::Result<(), String> {
    let digits = version.trim_start_matches('v');
    let mut parts = digits.split(['.', '-']).map(|p| p.parse::<u64>());
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) if (major, minor) >= (2, 2) => Ok(()),
        (Some(Ok(_)), Some(Ok(_))) => Err(format!(
            "the flux CLI is {version}: its controllers lack --watch-label-selector, which sharding \
             needs (Flux 2.2 or newer); upgrade it or pass --flux-manifests"
        )),
        _ => Err(format!("the flux CLI's version {version:?} cannot be read")),
    }
}

/// The release asset Flux publishes with every release: the full install, all components.
fn release_url(version: &str) -> String {
    format!("https://github.com/fluxcd/flux2/releases/download/{version}/install.yaml")
}

async fn from_go_modules(progress: &mut dyn FnMut(&str)) -> Result<Vec<Value>> {
    let specs: Vec<String> = GO_MODULES.iter().map(|(c, v)| format!("github.com/fluxcd/{c}@{v}")).collect();
    progress(&format!("go mod download {}", specs.join(" ")));
    let mut args = vec!["mod", "download", "-json"];
    args.extend(specs.iter().map(String::as_str));
    // Outside any Go module, as flux-crds.sh does, so a go.mod around the working directory
    // cannot change what is downloaded.
    let output = run("go", &args, Some(&std::env::temp_dir())).await?;
    let dirs = module_dirs(&String::from_utf8_lossy(&output.stdout), &specs).wrap_err_with(|| {
        let status = output.status;
        format!("go mod download failed ({status}){}", stderr_suffix(&output.stderr))
    })?;
    let mut modules = Vec::new();
    for ((controller, version), dir) in GO_MODULES.iter().zip(dirs) {
        progress(&format!("reading {controller}'s config from {}", dir.display()));
        let files = read_module(&dir).await.wrap_err_with(|| format!("cannot read {}", dir.display()))?;
        modules.push(ModuleFiles { controller: controller.to_string(), version: version.to_string(), files });
    }
    assemble(&modules)
}

/// The module folders from `go mod download -json` output (one JSON object per module),
/// in the order of `specs`; a module's `Error` field becomes the error.
fn module_dirs(stdout: &str, specs: &[String]) -> Result<Vec<PathBuf>> {
    let mut found = BTreeMap::new();
    for item in serde_json::Deserializer::from_str(stdout).into_iter::<Value>() {
        let item = item.wrap_err("go printed something other than JSON")?;
        let field = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let spec = format!("{}@{}", field("Path"), field("Version"));
        let dir = match (field("Error"), field("Dir")) {
            (e, _) if !e.is_empty() => Err(e),
            (_, d) if d.is_empty() => Err("no folder given".to_string()),
            (_, d) => Ok(PathBuf::from(d)),
        };
        found.insert(spec, dir);
    }
    let mut dirs = Vec::new();
    let mut errors = Vec::new();
    for spec in specs {
        match found.remove(spec) {
            Some(Ok(dir)) => dirs.push(dir),
            Some(Err(e)) => errors.push(format!("{spec}: {e}")),
            None => errors.push(format!("{spec}: not in go's output")),
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("; "));
    }
    Ok(dirs)
}

/// Reads the CRD bases and the files of [`MODULE_FILES`] that exist in a module folder.
async fn read_module(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut paths = Vec::new();
    let mut entries = tokio::fs::read_dir(dir.join(CRD_DIR)).await.wrap_err(CRD_DIR)?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") {
            paths.push(format!("{CRD_DIR}{name}"));
        }
    }
    paths.sort();
    paths.extend(MODULE_FILES.iter().map(|p| p.to_string()));
    let mut files = Vec::new();
    for path in paths {
        match tokio::fs::read_to_string(dir.join(&path)).await {
            Ok(text) => files.push((path, text)),
            // Which files are required is assemble's call; absent ones are left out.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).wrap_err(path),
        }
    }
    Ok(files)
}

/// Runs a program to completion with captured output; a missing program says so plainly.
async fn run(program: &str, args: &[&str], dir: Option<&Path>) -> Result<Output> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command.output().await.map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Report::new(NotFound(program.to_string()))
        } else {
            Report::new(e).wrap_err(format!("cannot run `{program}`"))
        }
    })
}

/// A program that is not on PATH, kept as a type so callers can fall back to another.
#[derive(Debug)]
struct NotFound(String);

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not on PATH", self.0)
    }
}

impl std::error::Error for NotFound {}

fn is_not_found(e: &Report) -> bool {
    e.downcast_ref::<NotFound>().is_some()
}

/// The standard output of a command that succeeded, or an error with its status and stderr.
fn success_stdout(what: &str, output: Output) -> Result<String> {
    if !output.status.success() {
        bail!("`{what}` failed ({}){}", output.status, stderr_suffix(&output.stderr));
    }
    String::from_utf8(output.stdout).wrap_err_with(|| format!("`{what}` printed something other than UTF-8"))
}

/// `": <last part of stderr>"`, or nothing when stderr is empty.
fn stderr_suffix(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let start = text.char_indices().rev().nth(STDERR_TAIL).map_or(0, |(i, _)| i);
    format!(": {}{}", if start > 0 { "..." } else { "" }, &text[start..])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn module_dirs_reads_go_json_stream_and_reports_each_module_error() {
        let specs = vec!["m/a@v1".to_string(), "m/b@v2".to_string()];
        let ok = "{\n\t\"Path\": \"m/a\",\n\t\"Version\": \"v1\",\n\t\"Dir\": \"/c/a\"\n}\n\
                  {\"Path\": \"m/b\", \"Version\": \"v2\", \"Dir\": \"/c/b\"}\n";
        assert_eq!(module_dirs(ok, &specs).unwrap(), vec![PathBuf::from("/c/a"), PathBuf::from("/c/b")]);
        let bad = "{\"Path\": \"m/a\", \"Version\": \"v1\", \"Dir\": \"/c/a\"}\n\
                   {\"Path\": \"m/b\", \"Version\": \"v2\", \"Error\": \"403 Forbidden\"}\n";
        let err = format!("{:#}", module_dirs(bad, &specs).unwrap_err());
        assert_eq!(err, "m/b@v2: 403 Forbidden");
        let err = format!("{:#}", module_dirs("", &specs).unwrap_err());
        assert!(err.contains("m/a@v1: not in go's output") && err.contains("m/b@v2"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_program_is_named() {
        let err = run("shardwatch-no-such-program", &[], None).await.unwrap_err();
        assert!(is_not_found(&err));
        assert_eq!(err.to_string(), "`shardwatch-no-such-program` is not on PATH");
    }

    #[test]
    fn failed_commands_show_status_and_the_end_of_stderr() {
        use std::os::unix::process::ExitStatusExt;
        let long = format!("{}END", "x".repeat(5000));
        let output =
            Output { status: ExitStatusExt::from_raw(1 << 8), stdout: vec![], stderr: long.into_bytes() };
        let err = success_stdout("tool", output).unwrap_err().to_string();
        assert!(err.starts_with("`tool` failed (exit status: 1): ..."), "{err}");
        assert!(err.ends_with("END") && err.len() < STDERR_TAIL + 100, "{}", err.len());
    }

    #[test]
    fn check_rejects_what_is_not_a_flux_install() {
        let err = check_flux_install(&[]).unwrap_err().to_string();
        assert!(err.contains("no Kubernetes object"), "{err}");
        let objects = vec![json!({"kind": "Deployment", "metadata": {"name": "source-controller"}})];
        let err = check_flux_install(&objects).unwrap_err().to_string();
        assert_eq!(err, "no Deployment named kustomize-controller, helm-controller among its 1 objects");
    }

    #[test]
    fn default_order_starts_local_clusters_at_the_go_modules() {
        assert_eq!(default_order(true)[0], FluxSource::GoModules);
        assert_eq!(default_order(false), vec![FluxSource::FluxCli, FluxSource::Release]);
        assert_eq!(
            release_url("v2.7.3"),
            "https://github.com/fluxcd/flux2/releases/download/v2.7.3/install.yaml"
        );
    }

    #[test]
    fn the_release_fallback_keeps_exactly_the_components_that_are_installed() {
        let object = |kind: &str, name: &str, component: Option<&str>| {
            let mut o = serde_json::json!({ "kind": kind, "metadata": { "name": name, "labels": { "app.kubernetes.io/part-of": "flux" } } });
            if let Some(c) = component {
                o["metadata"]["labels"]["app.kubernetes.io/component"] = c.into();
            }
            o
        };
        let install = vec![
            object("Namespace", "flux-system", None),
            object(
                "CustomResourceDefinition",
                "imagepolicies.image.toolkit.fluxcd.io",
                Some("image-reflector-controller"),
            ),
            object("Deployment", "image-automation-controller", Some("image-automation-controller")),
            object("Deployment", "source-watcher", Some("source-watcher")),
            object("Deployment", "kustomize-controller", Some("kustomize-controller")),
            object(
                "CustomResourceDefinition",
                "helmreleases.helm.toolkit.fluxcd.io",
                Some("helm-controller"),
            ),
            object("Deployment", "notification-controller", Some("notification-controller")),
            object("ClusterRole", "crd-controller-flux-system", None),
        ];
        let kept: Vec<String> = sharded_components_only(install)
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            kept,
            [
                "flux-system",
                "kustomize-controller",
                "helmreleases.helm.toolkit.fluxcd.io",
                "notification-controller",
                "crd-controller-flux-system"
            ]
        );
    }

    #[test]
    fn the_flux_cli_must_be_new_enough_to_shard() {
        assert_eq!(cli_version(r#"{"flux": "v2.7.3"}"#).as_deref(), Some("v2.7.3"));
        assert_eq!(cli_version("flux: v2.7.3"), None);
        assert!(supports_sharding("v2.7.3").is_ok());
        assert!(supports_sharding("v2.2.0").is_ok());
        assert!(supports_sharding("v3.0.0-rc.1").is_ok());
        let old = supports_sharding("v2.1.2").unwrap_err();
        assert!(old.contains("Flux 2.2 or newer") && old.contains("v2.1.2"), "{old}");
        assert!(supports_sharding("0.0.0-dev.0").is_err());
        assert!(supports_sharding("garbage").unwrap_err().contains("cannot be read"));
    }
}
