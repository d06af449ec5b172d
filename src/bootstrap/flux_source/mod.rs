//! Where Flux's install manifests come from: the objects [`shard_install`] shards.
//!
//! Four sources, tried in an order the target picks ([`default_order`]): a file the user
//! gives, `flux install --export` from the `flux` CLI, the pinned release's `install.yaml`
//! from GitHub, and the controllers' Go modules. The last one exists because the local test
//! world reaches the Go module proxy and nothing else: Flux's CRDs and kustomize bases ship
//! inside the controllers' module zips, so [`assemble`] rebuilds the equivalent of Flux's
//! install from them at run time. No Flux YAML is kept in this repository.
//!
//! [`shard_install`]: super::shard_transform::shard_install

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use color_eyre::eyre::{Report, Result, WrapErr, bail, eyre};
use serde_json::{Map, Value, json};
use tokio::process::Command;

use super::manifests::parse_documents;
use super::shard_transform::SHARDED_CONTROLLERS;

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
    /// Assembled from the controllers' Go modules at [`GO_MODULES`] (see [`assemble`]).
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

/// The files read from one controller's Go module, the input of [`assemble`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleFiles {
    /// Controller name, also the module's last path element (`source-controller`).
    pub controller: String,
    /// Module version, also the image tag (`v1.7.3`).
    pub version: String,
    /// `(path relative to the module root, text)` of each file read, e.g. `config/rbac/role.yaml`.
    pub files: Vec<(String, String)>,
}

/// Builds the equivalent of Flux's install from the controllers' `config/` folders, applying
/// what Flux's own kustomize overlays apply (namespace, labels, images, service accounts),
/// plus a notification-controller stand-in when no module provides that controller.
///
/// Output order suits applying: Namespace, CRDs, ServiceAccounts, ClusterRoles,
/// ClusterRoleBindings, Roles, RoleBindings, Services, Deployments; modules in input order.
pub fn assemble(modules: &[ModuleFiles]) -> Result<Vec<Value>> {
    let mut seen = BTreeSet::new();
    for m in modules {
        if m.controller.is_empty() || m.version.is_empty() {
            bail!(
                "a module needs a controller name and a version (got {:?} at {:?})",
                m.controller,
                m.version
            );
        }
        if !seen.insert(m.controller.as_str()) {
            bail!("controller {} is given twice", m.controller);
        }
    }
    let mut out = Install::default();
    out.namespace.push(namespace_object());
    let mut reconcilers = Vec::new();
    for module in modules {
        let reconciler = add_module(&mut out, module)
            .wrap_err_with(|| format!("github.com/fluxcd/{}@{}", module.controller, module.version))?;
        if reconciler {
            reconcilers.push(module.controller.as_str());
        }
    }
    if !reconcilers.is_empty() {
        out.cluster_role_bindings.push(reconciler_binding(&reconcilers));
    }
    if !seen.contains(NOTIFICATION_CONTROLLER) {
        add_notification_stand_in(&mut out);
    }
    Ok(out.into_objects())
}

/// Objects of the install grouped by kind, so the output is in apply order.
#[derive(Default)]
struct Install {
    namespace: Vec<Value>,
    crds: Vec<Value>,
    service_accounts: Vec<Value>,
    cluster_roles: Vec<Value>,
    cluster_role_bindings: Vec<Value>,
    roles: Vec<Value>,
    role_bindings: Vec<Value>,
    services: Vec<Value>,
    deployments: Vec<Value>,
}

impl Install {
    fn into_objects(self) -> Vec<Value> {
        [
            self.namespace,
            self.crds,
            self.service_accounts,
            self.cluster_roles,
            self.cluster_role_bindings,
            self.roles,
            self.role_bindings,
            self.services,
            self.deployments,
        ]
        .concat()
    }
}

/// Adds one module's objects; returns whether its kustomize base binds the controller to a
/// reconcile-anything role, which Flux's install turns into `cluster-admin`.
fn add_module(out: &mut Install, module: &ModuleFiles) -> Result<bool> {
    let c = module.controller.as_str();
    let files: BTreeMap<&str, &str> = module.files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let parse = |path: &str| -> Result<Option<Vec<Value>>> {
        files.get(path).map(|text| parse_documents(text).wrap_err_with(|| path.to_string())).transpose()
    };
    let required = |path: &str| -> Result<Vec<Value>> {
        parse(path)?.ok_or_else(|| eyre!("{path} is missing from the module"))
    };

    // CRDs: every file of config/crd/bases, in path order (the BTreeMap sorts them).
    let mut crd_count = 0;
    for path in files.keys().filter(|p| p.starts_with(CRD_DIR) && p.ends_with(".yaml")) {
        for mut crd in required(path)? {
            if kind_of(&crd) != "CustomResourceDefinition" {
                bail!("{path} holds a {}, not a CustomResourceDefinition", kind_of(&crd));
            }
            add_labels(&mut crd, Some(c))?;
            out.crds.push(crd);
            crd_count += 1;
        }
    }
    if crd_count == 0 {
        bail!("no CRD in {CRD_DIR}");
    }

    let mut deployment = single(required(DEPLOYMENT_FILE)?, "Deployment", DEPLOYMENT_FILE)?;
    if name_of(&deployment) != c {
        bail!("{DEPLOYMENT_FILE}: the Deployment is named {:?}, expected {c:?}", name_of(&deployment));
    }
    make_flux_deployment(&mut deployment, c, &module.version).wrap_err(DEPLOYMENT_FILE)?;
    out.deployments.push(deployment);

    // Only source-controller serves HTTP (artifacts) and has a Service; the others have none.
    for mut service in parse(SERVICE_FILE)?.unwrap_or_default() {
        if kind_of(&service) != "Service" {
            bail!("{SERVICE_FILE} holds a {}, not a Service", kind_of(&service));
        }
        set_namespace(&mut service)?;
        add_labels(&mut service, Some(c))?;
        out.services.push(service);
    }

    out.service_accounts.push(service_account(c));

    // The module's manager-role, renamed per controller: Flux installs one shared role,
    // but per-controller roles keep each controller's permissions its own.
    let mut role = single(required(ROLE_FILE)?, "ClusterRole", ROLE_FILE)?;
    let role_name = format!("{c}-{FLUX_NAMESPACE}");
    meta_mut(&mut role)?.insert("name".into(), json!(role_name));
    add_labels(&mut role, Some(c))?;
    out.cluster_roles.push(role);
    out.cluster_role_bindings.push(binding("ClusterRoleBinding", "ClusterRole", &role_name, &[c], Some(c)));

    let mut leader = single(required(LEADER_ROLE_FILE)?, "Role", LEADER_ROLE_FILE)?;
    let leader_name = format!("{c}-leader-election");
    meta_mut(&mut leader)?.insert("name".into(), json!(leader_name));
    set_namespace(&mut leader)?;
    add_labels(&mut leader, Some(c))?;
    out.roles.push(leader);
    out.role_bindings.push(binding("RoleBinding", "Role", &leader_name, &[c], Some(c)));

    match parse(RECONCILER_BINDING_FILE)? {
        Some(docs) if docs.iter().any(|d| kind_of(d) == "ClusterRoleBinding") => Ok(true),
        Some(_) => bail!("{RECONCILER_BINDING_FILE} holds no ClusterRoleBinding"),
        None => Ok(false),
    }
}

/// The one object of a kind in a file; Flux's bases keep one per file, so more is a surprise.
fn single(docs: Vec<Value>, kind: &str, path: &str) -> Result<Value> {
    let mut found: Vec<Value> = docs.into_iter().filter(|d| kind_of(d) == kind).collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!("{path} holds no {kind}"),
        n => bail!("{path} holds {n} objects of kind {kind}, expected one"),
    }
}

/// What Flux's overlays do to a controller Deployment: namespace, labels (pods too, for
/// `flux logs`), the service account, the published image, and the events address.
fn make_flux_deployment(deployment: &mut Value, controller: &str, version: &str) -> Result<()> {
    set_namespace(deployment)?;
    add_labels(deployment, Some(controller))?;
    let template = deployment
        .pointer_mut("/spec/template")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| eyre!("spec.template is missing"))?;
    let template_meta = object_entry(template, "metadata")?;
    insert_labels(object_entry(template_meta, "labels")?, Some(controller));
    let pod = object_entry(template, "spec")?;
    pod.insert("serviceAccountName".into(), json!(controller));
    let containers = pod
        .get_mut("containers")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| eyre!("spec.template.spec.containers is missing"))?;
    // Like the kustomize `images` transformer of the module's config/manager: the
    // placeholder image `fluxcd/<controller>` gets Flux's published image.
    let placeholder = format!("fluxcd/{controller}");
    let mut replaced = 0;
    for container in containers.iter_mut() {
        let image = container.get("image").and_then(Value::as_str).unwrap_or("");
        if image_repository(image) != placeholder {
            continue;
        }
        container["image"] = json!(format!("ghcr.io/fluxcd/{controller}:{version}"));
        replaced += 1;
        if controller != NOTIFICATION_CONTROLLER {
            // Flux's install points every controller at notification-controller for events.
            let args = container
                .as_object_mut()
                .map(|c| c.entry("args").or_insert_with(|| json!([])))
                .and_then(Value::as_array_mut)
                .ok_or_else(|| eyre!("container args are not a list"))?;
            let events = events_addr();
            if !args.iter().any(|a| a.as_str().is_some_and(|a| a.starts_with("--events-addr"))) {
                args.push(json!(events));
            }
        }
    }
    if replaced == 0 {
        bail!(
            "no container uses the image {placeholder} to replace with ghcr.io/fluxcd/{controller}:{version}"
        );
    }
    Ok(())
}

/// The image name without tag or digest (`fluxcd/x:v1` → `fluxcd/x`); a `:` before the last
/// `/` belongs to a registry port, not a tag.
fn image_repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(i) if !image[i..].contains('/') => &image[..i],
        _ => image,
    }
}

fn events_addr() -> String {
    format!("--events-addr=http://{NOTIFICATION_CONTROLLER}.{FLUX_NAMESPACE}.svc.cluster.local./")
}

/// Labels Flux's overlays put on everything; `component` only on a controller's own objects.
fn flux_labels(component: Option<&str>) -> Vec<(&'static str, String)> {
    let mut labels = vec![
        ("app.kubernetes.io/part-of", "flux".to_string()),
        ("app.kubernetes.io/instance", FLUX_NAMESPACE.to_string()),
        ("app.kubernetes.io/version", FLUX_VERSION.to_string()),
    ];
    if let Some(c) = component {
        labels.push(("app.kubernetes.io/component", c.to_string()));
    }
    labels
}

fn insert_labels(labels: &mut Map<String, Value>, component: Option<&str>) {
    for (k, v) in flux_labels(component) {
        labels.insert(k.to_string(), json!(v));
    }
}

fn add_labels(object: &mut Value, component: Option<&str>) -> Result<()> {
    insert_labels(object_entry(meta_mut(object)?, "labels")?, component);
    Ok(())
}

fn set_namespace(object: &mut Value) -> Result<()> {
    meta_mut(object)?.insert("namespace".into(), json!(FLUX_NAMESPACE));
    Ok(())
}

fn meta_mut(object: &mut Value) -> Result<&mut Map<String, Value>> {
    let kind = kind_of(object).to_string();
    object
        .as_object_mut()
        .ok_or_else(|| eyre!("{kind} is not an object"))
        .and_then(|o| object_entry(o, "metadata"))
}

/// The map under `key`, created when absent; an error when it holds something else.
fn object_entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> Result<&'a mut Map<String, Value>> {
    map.entry(key).or_insert_with(|| json!({})).as_object_mut().ok_or_else(|| eyre!("{key} is not a mapping"))
}

fn kind_of(object: &Value) -> &str {
    object.get("kind").and_then(Value::as_str).unwrap_or("object without kind")
}

fn name_of(object: &Value) -> &str {
    object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
}

fn namespace_object() -> Value {
    let mut labels = Map::new();
    insert_labels(&mut labels, None);
    // Flux's install asks for warnings on pods that break the restricted security profile.
    labels.insert("pod-security.kubernetes.io/warn".into(), json!("restricted"));
    labels.insert("pod-security.kubernetes.io/warn-version".into(), json!("latest"));
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FLUX_NAMESPACE, "labels": labels}})
}

fn service_account(controller: &str) -> Value {
    let mut labels = Map::new();
    insert_labels(&mut labels, Some(controller));
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": controller, "namespace": FLUX_NAMESPACE, "labels": labels},
    })
}

/// A (Cluster)RoleBinding of the controllers' service accounts to a (Cluster)Role of the same name.
fn binding(kind: &str, role_kind: &str, name: &str, controllers: &[&str], component: Option<&str>) -> Value {
    let mut labels = Map::new();
    insert_labels(&mut labels, component);
    let mut metadata = json!({"name": name, "labels": labels});
    if kind == "RoleBinding" {
        metadata["namespace"] = json!(FLUX_NAMESPACE);
    }
    let subjects: Vec<Value> = controllers
        .iter()
        .map(|c| json!({"kind": "ServiceAccount", "name": c, "namespace": FLUX_NAMESPACE}))
        .collect();
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
        "subjects": subjects,
    })
}

/// kustomize- and helm-controller apply arbitrary objects, so Flux's install binds them to
/// `cluster-admin` (`cluster-reconciler-flux-system`); the modules bind a role of the same reach.
fn reconciler_binding(controllers: &[&str]) -> Value {
    let mut b =
        binding("ClusterRoleBinding", "ClusterRole", "cluster-reconciler-flux-system", controllers, None);
    b["roleRef"]["name"] = json!("cluster-admin");
    b
}

/// shardwatch's local stand-in for notification-controller, written by us, not Flux's YAML:
/// the Go module proxy does not serve notification-controller, yet the sharded stack has one
/// (the 13th Deployment, and the target of the other controllers' `--events-addr`).
/// It has no CRDs (Alert, Provider, Receiver) and no RBAC, so a real pod of it would not
/// become Ready: it is meant for the local cluster, whose kwok pods run nothing.
fn add_notification_stand_in(out: &mut Install) {
    let c = NOTIFICATION_CONTROLLER;
    let mut labels = Map::new();
    insert_labels(&mut labels, Some(c));
    labels.insert("control-plane".into(), json!("controller"));
    let mut pod_labels = labels.clone();
    pod_labels.remove("control-plane");
    pod_labels.insert("app".into(), json!(c));
    out.service_accounts.push(service_account(c));
    out.services.push(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": c, "namespace": FLUX_NAMESPACE, "labels": labels},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": c},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
        },
    }));
    out.deployments.push(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": c, "namespace": FLUX_NAMESPACE, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": c}},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "serviceAccountName": c,
                    "terminationGracePeriodSeconds": 10,
                    "containers": [{
                        "name": "manager",
                        "image": format!("ghcr.io/fluxcd/{c}:{NOTIFICATION_CONTROLLER_VERSION}"),
                        "imagePullPolicy": "IfNotPresent",
                        "args": [
                            "--watch-all-namespaces",
                            "--log-level=info",
                            "--log-encoding=json",
                            "--enable-leader-election",
                        ],
                        "env": [{
                            "name": "RUNTIME_NAMESPACE",
                            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                        }],
                        "ports": [
                            {"containerPort": 9090, "name": "http", "protocol": "TCP"},
                            {"containerPort": 9292, "name": "http-webhook", "protocol": "TCP"},
                            {"containerPort": 8080, "name": "http-prom", "protocol": "TCP"},
                            {"containerPort": 9440, "name": "healthz", "protocol": "TCP"},
                        ],
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "healthz"}},
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "healthz"}},
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "runAsNonRoot": true,
                            "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "volumeMounts": [{"name": "temp", "mountPath": "/tmp"}],
                    }],
                    "volumes": [{"name": "temp", "emptyDir": {}}],
                },
            },
        },
    }));
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
    parse_documents(&stdout).wrap_err_with(|| format!("{url} is not valid YAML"))
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
    use super::*;

    #[test]
    fn image_repository_strips_tag_and_digest_but_not_a_registry_port() {
        assert_eq!(image_repository("fluxcd/source-controller"), "fluxcd/source-controller");
        assert_eq!(image_repository("fluxcd/source-controller:v1"), "fluxcd/source-controller");
        assert_eq!(image_repository("fluxcd/x@sha256:abc"), "fluxcd/x");
        assert_eq!(image_repository("localhost:5000/fluxcd/x"), "localhost:5000/fluxcd/x");
        assert_eq!(image_repository("localhost:5000/fluxcd/x:v2"), "localhost:5000/fluxcd/x");
    }

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
}
