//! The pure assembly of Flux's install from the files of the controllers' Go modules: what
//! Flux's kustomize overlays do (namespace, labels, images, service accounts, RBAC), with no
//! I/O, so tests feed it YAML written by hand.

use std::collections::{BTreeMap, BTreeSet};

use color_eyre::eyre::{Result, WrapErr, bail, eyre};
use serde_json::{Map, Value, json};

use super::flux_labels::{insert_labels, service_account};
use super::stand_in::notification_stand_in;
use super::{
    CRD_DIR, DEPLOYMENT_FILE, FLUX_NAMESPACE, LEADER_ROLE_FILE, NOTIFICATION_CONTROLLER,
    RECONCILER_BINDING_FILE, ROLE_FILE, SERVICE_FILE,
};
use crate::bootstrap::manifests::parse_documents;

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
        let [account, role, binding, service, deployment] = notification_stand_in();
        out.service_accounts.push(account);
        out.roles.push(role);
        out.role_bindings.push(binding);
        out.services.push(service);
        out.deployments.push(deployment);
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

/// The object's `kind`, or a placeholder for messages when it has none.
pub(super) fn kind_of(object: &Value) -> &str {
    object.get("kind").and_then(Value::as_str).unwrap_or("object without kind")
}

/// The object's `metadata.name`, empty when it has none.
pub(super) fn name_of(object: &Value) -> &str {
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
}
