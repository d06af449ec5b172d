//! The local world's binaries, built from the Go module proxy into the cache (outside the
//! repository), in folders keyed by version, so only the first use pays the build:
//! etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok and
//! kwokctl (with the kwok stages they ship), and Flux's source-, kustomize- and
//! helm-controller.
//!
//! Kubernetes, etcd and the Flux controllers each replace some of their own modules with
//! local folders in their `go.mod`, which `go install` refuses; a small module of ours
//! requires the released module and maps those to their published versions instead (the
//! "wrapper module"), which builds the commands as released.

use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr, bail};

use super::go_tool::{self, go};
use crate::cache::cache_dir;

/// The binaries of the control plane, all in one folder.
pub const CONTROL_PLANE_BINARIES: [&str; 7] =
    ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok", "kwokctl"];
/// kwok's stages (from its module) that make nodes Ready and pods Running; kwok v0.8 has no
/// built-in ones.
pub const KWOK_STAGES: [&str; 5] =
    ["node-initialize", "node-heartbeat-with-lease", "pod-ready", "pod-complete", "pod-delete"];
/// The Kubernetes commands built from `k8s.io/kubernetes`.
const KUBERNETES_COMMANDS: [&str; 4] =
    ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"];

/// The versions of the control plane (`SHARDWATCH_K8S_VERSION`, `SHARDWATCH_KWOK_VERSION`,
/// `SHARDWATCH_ETCD_VERSION`), which name its cache folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPlaneVersions {
    /// Kubernetes, e.g. v1.34.4.
    pub kubernetes: String,
    /// kwok and kwokctl.
    pub kwok: String,
    /// etcd.
    pub etcd: String,
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string())
}

impl ControlPlaneVersions {
    /// The pinned versions, unless the environment names others.
    pub fn from_env() -> Self {
        Self {
            kubernetes: env_or("SHARDWATCH_K8S_VERSION", "v1.34.4"),
            kwok: env_or("SHARDWATCH_KWOK_VERSION", "v0.8.0"),
            etcd: env_or("SHARDWATCH_ETCD_VERSION", "v3.6.5"),
        }
    }

    /// The cache folder of these versions.
    pub fn root(&self) -> PathBuf {
        cache_dir().join(format!("k8s-{}-kwok-{}-etcd-{}", self.kubernetes, self.kwok, self.etcd))
    }

    /// Where the binaries are.
    pub fn bin_dir(&self) -> PathBuf {
        self.root().join("bin")
    }

    /// Where kwok's stages are.
    pub fn stages_dir(&self) -> PathBuf {
        self.root().join("stages")
    }

    /// What is not built yet (binaries and stage files).
    pub fn missing(&self) -> Vec<String> {
        let bins = CONTROL_PLANE_BINARIES
            .iter()
            .filter(|b| !is_file(&self.bin_dir().join(b)))
            .map(|b| b.to_string());
        let stages = KWOK_STAGES
            .iter()
            .filter(|s| !is_file(&self.stages_dir().join(format!("{s}.yaml"))))
            .map(|s| format!("stage {s}"));
        bins.chain(stages).collect()
    }
}

fn is_file(path: &Path) -> bool {
    path.is_file()
}

/// The Flux version and its controllers' versions (`SHARDWATCH_FLUX_VERSION`,
/// `SHARDWATCH_SOURCE_CONTROLLER_VERSION`, `..._KUSTOMIZE_...`, `..._HELM_...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxVersions {
    /// The Flux release, which names the cache folder.
    pub flux: String,
    /// `(controller, version)`, the versions that release ships.
    pub controllers: [(&'static str, String); 3],
}

impl FluxVersions {
    /// Flux v2.7.3's controllers, unless the environment names others.
    pub fn from_env() -> Self {
        Self {
            flux: env_or("SHARDWATCH_FLUX_VERSION", "v2.7.3"),
            controllers: [
                ("source-controller", env_or("SHARDWATCH_SOURCE_CONTROLLER_VERSION", "v1.7.3")),
                ("kustomize-controller", env_or("SHARDWATCH_KUSTOMIZE_CONTROLLER_VERSION", "v1.7.3")),
                ("helm-controller", env_or("SHARDWATCH_HELM_CONTROLLER_VERSION", "v1.4.3")),
            ],
        }
    }

    /// Where the built controllers are.
    pub fn bin_dir(&self) -> PathBuf {
        cache_dir().join(format!("flux-{}", self.flux)).join("bin")
    }

    /// The controllers' modules, `github.com/fluxcd/<name>@<version>`.
    pub fn module_specs(&self) -> Vec<String> {
        self.controllers.iter().map(|(c, v)| format!("github.com/fluxcd/{c}@{v}")).collect()
    }
}

/// Builds what is missing of the control plane; returns the bin folder.
pub async fn build_control_plane(
    v: &ControlPlaneVersions,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf> {
    let bin = v.bin_dir();
    std::fs::create_dir_all(&bin).wrap_err_with(|| format!("creating {}", bin.display()))?;
    build_kwok(v, progress).await?;
    build_etcd(v, progress).await?;
    build_kubernetes(v, progress).await?;
    let missing = v.missing();
    if !missing.is_empty() {
        bail!("the build left out {} in {}", missing.join(", "), v.root().display());
    }
    progress(&format!("binaries ready in {}", bin.display()));
    Ok(bin)
}

const BUILD_ENV: [(&str, &str); 2] = [("GOFLAGS", "-mod=mod"), ("CGO_ENABLED", "0")];

async fn build_kwok(v: &ControlPlaneVersions, progress: &mut dyn FnMut(&str)) -> Result<()> {
    let bin = v.bin_dir();
    if !(is_file(&bin.join("kwok")) && is_file(&bin.join("kwokctl"))) {
        progress(&format!("building kwok and kwokctl {}", v.kwok));
        let gobin = bin.display().to_string();
        let kwok = format!("sigs.k8s.io/kwok/cmd/kwok@{}", v.kwok);
        let kwokctl = format!("sigs.k8s.io/kwok/cmd/kwokctl@{}", v.kwok);
        let args = ["install", "-trimpath", "-ldflags", "-s -w", &kwok, &kwokctl];
        go(&args, &std::env::temp_dir(), &[("GOBIN", &gobin), ("CGO_ENABLED", "0")], progress).await?;
    }
    // The stage definitions kwok needs to make nodes and pods Ready ship in its module.
    let stages = v.stages_dir();
    if KWOK_STAGES.iter().all(|s| is_file(&stages.join(format!("{s}.yaml")))) {
        return Ok(());
    }
    let spec = format!("sigs.k8s.io/kwok@{}", v.kwok);
    let module = go_tool::download(std::slice::from_ref(&spec), &std::env::temp_dir(), progress).await?;
    std::fs::create_dir_all(&stages)?;
    for sub in ["node/fast", "node/heartbeat-with-lease", "pod/fast"] {
        let from = module[0].dir.join("kustomize/stage").join(sub);
        for entry in std::fs::read_dir(&from).wrap_err_with(|| format!("reading {}", from.display()))? {
            let path = entry?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.ends_with(".yaml") && name != "kustomization.yaml" {
                std::fs::copy(&path, stages.join(&name))?;
            }
        }
    }
    Ok(())
}

async fn build_etcd(v: &ControlPlaneVersions, progress: &mut dyn FnMut(&str)) -> Result<()> {
    let out = v.bin_dir().join("etcd");
    if is_file(&out) {
        return Ok(());
    }
    let dir = cache_dir().join("src").join(format!("etcd-{}", v.etcd));
    std::fs::create_dir_all(&dir)?;
    let spec = format!("go.etcd.io/etcd/server/v3@{}", v.etcd);
    let module = go_tool::download(std::slice::from_ref(&spec), &dir, progress).await?;
    let go_mod = std::fs::read_to_string(&module[0].go_mod)?;
    std::fs::write(dir.join("go.mod"), etcd_wrapper(&go_mod, &v.etcd))?;
    progress(&format!("building etcd {}", v.etcd));
    go_build(&dir, "-s -w", &out, "go.etcd.io/etcd/server/v3", progress).await
}

async fn build_kubernetes(v: &ControlPlaneVersions, progress: &mut dyn FnMut(&str)) -> Result<()> {
    let bin = v.bin_dir();
    let missing: Vec<&str> = KUBERNETES_COMMANDS.iter().copied().filter(|c| !is_file(&bin.join(c))).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let dir = cache_dir().join("src").join(format!("kubernetes-{}", v.kubernetes));
    std::fs::create_dir_all(&dir)?;
    let spec = format!("k8s.io/kubernetes@{}", v.kubernetes);
    let module = go_tool::download(std::slice::from_ref(&spec), &dir, progress).await?;
    let go_mod = std::fs::read_to_string(&module[0].go_mod)?;
    std::fs::write(dir.join("go.mod"), kubernetes_wrapper(&go_mod, &v.kubernetes))?;
    let ldflags = kubernetes_ldflags(&v.kubernetes);
    for command in missing {
        progress(&format!("building {command} {} (slow on a cold cache)", v.kubernetes));
        let package = format!("k8s.io/kubernetes/cmd/{command}");
        go_build(&dir, &ldflags, &bin.join(command), &package, progress).await?;
    }
    Ok(())
}

/// `go build` of `package` in `dir` into `out` (through a temporary file, so a build cut
/// short never leaves a binary that looks finished).
async fn go_build(
    dir: &Path,
    ldflags: &str,
    out: &Path,
    package: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let tmp = out.with_extension("tmp");
    let tmp_text = tmp.display().to_string();
    let args = ["build", "-trimpath", "-ldflags", ldflags, "-o", &tmp_text, package];
    go(&args, dir, &BUILD_ENV, progress).await?;
    std::fs::rename(&tmp, out).wrap_err_with(|| format!("moving {} into place", tmp.display()))
}

/// The wrapper module for Kubernetes `version`: each staging module its `go.mod` maps to
/// `./staging/...` is taken at its published v0.X.Y instead.
pub fn kubernetes_wrapper(go_mod: &str, version: &str) -> String {
    let staging = format!("v0.{}", version.trim_start_matches("v1."));
    let mut out = format!(
        "module shardwatch.local/kubernetes-build\ngo 1.24.0\nrequire k8s.io/kubernetes {version}\nreplace (\n"
    );
    for line in go_mod.lines() {
        let Some((left, right)) = line.trim_start().split_once(" => ") else { continue };
        let is_staging_module = left.starts_with("k8s.io/")
            && left["k8s.io/".len()..]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if is_staging_module && right.starts_with("./staging/") {
            out.push_str(&format!("\t{left} => {left} {staging}\n"));
        }
    }
    out.push_str(")\n");
    out
}

/// The wrapper module for etcd `version`: its sibling modules, which its `go.mod` maps to
/// `../...`, are taken at the same published version.
pub fn etcd_wrapper(go_mod: &str, version: &str) -> String {
    let mut out = format!(
        "module shardwatch.local/etcd-build\ngo 1.24.0\nrequire go.etcd.io/etcd/server/v3 {version}\nreplace (\n"
    );
    for line in go_mod.lines() {
        let Some((left, right)) = line.trim_start().split_once(" => ") else { continue };
        if left.starts_with("go.etcd.io/etcd/") && !left.contains(' ') && right.starts_with("../") {
            out.push_str(&format!("\t{left} => {left} {version}\n"));
        }
    }
    out.push_str(")\n");
    out
}

/// What `kubectl version` and the API server report, as a release build sets them.
fn kubernetes_ldflags(version: &str) -> String {
    let minor = version.trim_start_matches("v1.").split('.').next().unwrap_or_default();
    let mut ld = "-s -w".to_string();
    for pkg in ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"] {
        ld.push_str(&format!(" -X {pkg}.gitVersion={version} -X {pkg}.gitMajor=1 -X {pkg}.gitMinor={minor}"));
        ld.push_str(&format!(" -X {pkg}.gitTreeState=clean -X {pkg}.buildDate=1970-01-01T00:00:00Z"));
    }
    ld
}

/// Builds the Flux controllers not built at their version yet; returns the bin folder.
pub async fn build_flux(v: &FluxVersions, progress: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    let bin = v.bin_dir();
    std::fs::create_dir_all(&bin).wrap_err_with(|| format!("creating {}", bin.display()))?;
    for (name, version) in &v.controllers {
        build_controller(&bin, name, version, progress).await?;
    }
    progress(&format!("Flux {} controllers ready in {}", v.flux, bin.display()));
    Ok(bin)
}

async fn build_controller(
    bin: &Path,
    name: &str,
    version: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let out = bin.join(name);
    let version_file = bin.join(format!("{name}.version"));
    if is_file(&out) && std::fs::read_to_string(&version_file).is_ok_and(|v| v.trim() == version) {
        return Ok(());
    }
    let module = format!("github.com/fluxcd/{name}");
    let dir = cache_dir().join("src").join(format!("flux-{name}-{version}"));
    std::fs::create_dir_all(&dir)?;
    let spec = format!("{module}@{version}");
    let downloaded = go_tool::download(std::slice::from_ref(&spec), &dir, progress).await?;
    // The api module must be on the proxy at the controller's version.
    let api = format!("{module}/api@{version}");
    go_tool::download(std::slice::from_ref(&api), &dir, progress)
        .await
        .wrap_err_with(|| format!("{api} is not on the Go module proxy"))?;
    let go_mod = std::fs::read_to_string(&downloaded[0].go_mod)?;
    std::fs::write(dir.join("go.mod"), flux_wrapper(&go_mod, &module, version))?;
    let _ = std::fs::remove_file(dir.join("go.sum"));
    progress(&format!("building {name} {version} (slow on a cold cache)"));
    let started = std::time::Instant::now();
    go_build(&dir, "-s -w", &out, &module, progress).await?;
    std::fs::write(&version_file, format!("{version}\n"))?;
    progress(&format!("built {name} {version} in {}s", started.elapsed().as_secs()));
    Ok(())
}

/// The wrapper module for a Flux controller: its api module (a local folder in its own
/// `go.mod`) at the published version, and its other replace lines copied, since a
/// dependency's replaces do not apply to the main module (they pin go-digest with BLAKE3,
/// kustomize and yaml.v3 exactly as the release builds them).
pub fn flux_wrapper(go_mod: &str, module: &str, version: &str) -> String {
    let go_version = go_mod.lines().find_map(|l| l.strip_prefix("go ")).map(str::trim).unwrap_or("1.25.0");
    let mut out = format!(
        "module shardwatch.local/flux-{}-build\ngo {go_version}\nrequire {module} {version}\nreplace (\n\t{module}/api => {module}/api {version}\n",
        module.rsplit('/').next().unwrap_or(module)
    );
    for line in go_mod.lines().filter(|l| l.contains("=>")) {
        let line = line.split("//").next().unwrap_or_default().trim();
        let line = line.strip_prefix("replace").map(str::trim_start).unwrap_or(line);
        let target = line.split_once("=>").map(|(_, t)| t.trim_start()).unwrap_or_default();
        if target.starts_with("./") || target.starts_with("../") || line.is_empty() {
            continue;
        }
        out.push_str(&format!("\t{line}\n"));
    }
    out.push_str(")\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_staging_modules_are_taken_at_their_published_version() {
        let go_mod = "module k8s.io/kubernetes\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\
                      \tk8s.io/client-go => ./staging/src/k8s.io/client-go\n\tgithub.com/x/y => github.com/x/y v1.0.0\n)\n";
        let out = kubernetes_wrapper(go_mod, "v1.34.4");
        assert!(out.contains("require k8s.io/kubernetes v1.34.4\n"), "{out}");
        assert!(out.contains(
            "\tk8s.io/api => k8s.io/api v0.34.4\n\tk8s.io/client-go => k8s.io/client-go v0.34.4\n)"
        ));
        assert!(!out.contains("github.com/x/y"), "{out}");
    }

    #[test]
    fn etcd_siblings_are_taken_at_the_same_version() {
        let go_mod = "replace (\n\tgo.etcd.io/etcd/api/v3 => ../api\n\tgo.etcd.io/etcd/pkg/v3 => ../pkg\n)\n";
        let out = etcd_wrapper(go_mod, "v3.6.5");
        assert!(out.contains("\tgo.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.6.5\n"), "{out}");
        assert!(out.contains("\tgo.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 v3.6.5\n"), "{out}");
    }

    #[test]
    fn a_flux_controller_keeps_its_remote_replaces_and_gets_its_api_published() {
        let go_mod = "module github.com/fluxcd/source-controller\n\ngo 1.25.0\n\n\
                      replace github.com/fluxcd/source-controller/api => ./api\n\n\
                      // Pin kustomize\nreplace (\n\tsigs.k8s.io/kustomize/api => sigs.k8s.io/kustomize/api v0.20.1 // pinned\n)\n\
                      replace github.com/opencontainers/go-digest => github.com/opencontainers/go-digest v1.0.1-blake3\n";
        let out = flux_wrapper(go_mod, "github.com/fluxcd/source-controller", "v1.7.3");
        let want = "module shardwatch.local/flux-source-controller-build\ngo 1.25.0\n\
                    require github.com/fluxcd/source-controller v1.7.3\nreplace (\n\
                    \tgithub.com/fluxcd/source-controller/api => github.com/fluxcd/source-controller/api v1.7.3\n\
                    \tsigs.k8s.io/kustomize/api => sigs.k8s.io/kustomize/api v0.20.1\n\
                    \tgithub.com/opencontainers/go-digest => github.com/opencontainers/go-digest v1.0.1-blake3\n)\n";
        assert_eq!(out, want);
    }

    #[test]
    fn release_version_flags_name_the_minor() {
        let ld = kubernetes_ldflags("v1.34.4");
        assert!(ld.contains("k8s.io/component-base/version.gitMinor=34 "), "{ld}");
        assert!(ld.contains("k8s.io/client-go/pkg/version.gitVersion=v1.34.4 "), "{ld}");
    }
}
