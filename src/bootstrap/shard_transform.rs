//! The pure shard transform: Flux's install objects in, the sharded set out.
//!
//! It follows Flux's sharding recipe: source-, kustomize- and helm-controller get one
//! Deployment copy per shard, each watching only objects labelled for its shard, while the
//! main controllers keep the unlabelled objects. Every other object passes through as is.
//!
//! Output order is deterministic: the input order, with each main controller Deployment
//! followed by its shard copies and the main source-controller Service followed by the shard
//! Services, both in the order of [`ShardOptions::shards`]. Copies already in the input (from
//! an earlier run, recognised by name or by the shard role annotation) are dropped and made
//! again, so sharding a sharded install gives the same set, and re-sharding with fewer shards
//! removes the extra ones.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value, json};

/// Label key that assigns Flux objects and nodes to a shard unless told otherwise.
pub const DEFAULT_LABEL_KEY: &str = "sharding.fluxcd.io/key";
/// Namespace Flux is installed in unless told otherwise.
pub const DEFAULT_NAMESPACE: &str = "flux-system";
/// Annotation the recipe puts on every shard copy.
pub const SHARD_ROLE_ANNOTATION: &str = "sharding.fluxcd.io/role";
/// The controllers Flux's recipe shards; everything else (notification-controller) stays single.
pub const SHARDED_CONTROLLERS: [&str; 3] = ["source-controller", "kustomize-controller", "helm-controller"];

const SOURCE_CONTROLLER: &str = "source-controller";
const WATCH_SELECTOR_FLAG: &str = "--watch-label-selector";
const STORAGE_ADV_ADDR_FLAG: &str = "--storage-adv-addr";
/// Object names and `app` label values are limited to 63 characters (DNS label, label value).
const MAX_NAME_LEN: usize = 63;

/// How a shard's Deployment is tied to the nodes labelled for that shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Placement {
    /// Only on the shard's nodes, as the seed does: with one node per shard, a dead node
    /// leaves its shard Pending.
    #[default]
    Required,
    /// On the shard's nodes when possible (weight 100), elsewhere otherwise: a shard can fail
    /// over to another node.
    Preferred,
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Required => "required",
            Self::Preferred => "preferred",
        })
    }
}

impl FromStr for Placement {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "required" => Ok(Self::Required),
            "preferred" => Ok(Self::Preferred),
            other => Err(format!("unknown placement {other:?}: expected \"required\" or \"preferred\"")),
        }
    }
}

/// What to shard and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardOptions {
    /// Shard names, in the order their copies are emitted (`shard1`, `shard2`, ...).
    pub shards: Vec<String>,
    /// Label key assigning objects and nodes to a shard.
    pub label_key: String,
    /// How shard Deployments are pinned to their nodes.
    pub placement: Placement,
    /// Namespace of Flux's controllers.
    pub namespace: String,
}

impl ShardOptions {
    /// Options for `count` shards named `shard1..shard<count>`, other fields at their defaults.
    pub fn numbered(count: usize) -> Self {
        Self {
            shards: (1..=count).map(|i| format!("shard{i}")).collect(),
            label_key: DEFAULT_LABEL_KEY.to_string(),
            placement: Placement::default(),
            namespace: DEFAULT_NAMESPACE.to_string(),
        }
    }
}

impl Default for ShardOptions {
    /// The seed's setup: three shards, required placement.
    fn default() -> Self {
        Self::numbered(3)
    }
}

/// Why an install could not be sharded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardError {
    /// The options name no shard.
    NoShards,
    /// A shard name is given twice.
    DuplicateShard(String),
    /// A shard name cannot be used in object names and label values.
    InvalidShardName {
        /// The shard name as given.
        shard: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The label key is not a valid Kubernetes label key.
    InvalidLabelKey(String),
    /// A controller Deployment the recipe copies is not in the install.
    MissingDeployment {
        /// Namespace searched (the options' namespace).
        namespace: String,
        /// Controller name.
        name: String,
    },
    /// The source-controller Service the shard Services are copied from is not in the install.
    MissingService {
        /// Namespace searched (the options' namespace).
        namespace: String,
        /// Service name.
        name: String,
    },
    /// The same controller object appears twice, so which one to copy is unclear.
    DuplicateObject {
        /// Object kind.
        kind: String,
        /// Object namespace.
        namespace: String,
        /// Object name.
        name: String,
    },
    /// A controller Deployment has no container to give the shard arguments to.
    NoContainer {
        /// Controller name.
        name: String,
    },
    /// A field the transform edits has an unexpected type.
    Malformed {
        /// Kind of the object copied from.
        kind: String,
        /// Name of the object copied from.
        name: String,
        /// Dotted path of the field.
        field: String,
    },
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoShards => write!(f, "no shard given: at least one shard is needed"),
            Self::DuplicateShard(s) => write!(f, "shard {s:?} is given twice"),
            Self::InvalidShardName { shard, reason } => write!(f, "invalid shard name {shard:?}: {reason}"),
            Self::InvalidLabelKey(k) => write!(f, "invalid label key {k:?}"),
            Self::MissingDeployment { namespace, name } => {
                write!(f, "Deployment {namespace}/{name} not found in the Flux install")
            }
            Self::MissingService { namespace, name } => {
                write!(f, "Service {namespace}/{name} not found in the Flux install")
            }
            Self::DuplicateObject { kind, namespace, name } => {
                write!(f, "{kind} {namespace}/{name} appears more than once in the Flux install")
            }
            Self::NoContainer { name } => write!(f, "Deployment {name} has no container"),
            Self::Malformed { kind, name, field } => {
                write!(f, "{kind} {name}: field {field} has an unexpected type")
            }
        }
    }
}

impl std::error::Error for ShardError {}

/// Shards Flux's install objects as the options say; see the module docs for the output order.
pub fn shard_install(objects: &[Value], opts: &ShardOptions) -> Result<Vec<Value>, ShardError> {
    validate(opts)?;
    let kept: Vec<&Value> = objects.iter().filter(|o| !is_regenerated(o, opts)).collect();
    // Look for every original first, so a broken install fails before any copying.
    for controller in SHARDED_CONTROLLERS {
        expect_one(&kept, "Deployment", controller, opts)?;
    }
    expect_one(&kept, "Service", SOURCE_CONTROLLER, opts)?;

    let mut out = Vec::with_capacity(kept.len() + opts.shards.len() * (SHARDED_CONTROLLERS.len() + 1));
    for object in kept {
        if let Some(controller) = main_controller(object, opts) {
            out.push(main_deployment(object, controller, opts)?);
            for shard in &opts.shards {
                out.push(shard_deployment(object, controller, shard, opts)?);
            }
        } else if is_object(object, "Service", SOURCE_CONTROLLER, &opts.namespace) {
            out.push(object.clone());
            for shard in &opts.shards {
                out.push(shard_service(object, shard)?);
            }
        } else {
            out.push(object.clone());
        }
    }
    Ok(out)
}

/// The shard a copy made by [`shard_install`] belongs to; `None` for every other object.
pub fn copy_shard<'a>(object: &Value, opts: &'a ShardOptions) -> Option<&'a str> {
    let (kind, namespace, name) = identity(object)?;
    if namespace != opts.namespace || !matches!(kind, "Deployment" | "Service") {
        return None;
    }
    opts.shards.iter().map(String::as_str).find(|shard| {
        SHARDED_CONTROLLERS
            .iter()
            .filter(|c| kind == "Deployment" || **c == SOURCE_CONTROLLER)
            .any(|c| name == copy_name(c, shard))
    })
}

/// The name of a controller's copy for a shard (`kustomize-controller-shard1`).
pub fn copy_name(controller: &str, shard: &str) -> String {
    format!("{controller}-{shard}")
}

fn validate(opts: &ShardOptions) -> Result<(), ShardError> {
    if opts.shards.is_empty() {
        return Err(ShardError::NoShards);
    }
    if !is_label_key(&opts.label_key) {
        return Err(ShardError::InvalidLabelKey(opts.label_key.clone()));
    }
    // The longest controller name bounds the shard name: `<controller>-<shard>` must fit.
    let max_len = MAX_NAME_LEN - 1 - SHARDED_CONTROLLERS.iter().map(|c| c.len()).max().unwrap_or(0);
    for (i, shard) in opts.shards.iter().enumerate() {
        let invalid = |reason: String| ShardError::InvalidShardName { shard: shard.clone(), reason };
        if shard.is_empty() || shard.len() > max_len {
            return Err(invalid(format!("must be 1 to {max_len} characters long")));
        }
        // The shard name ends up in Service names (DNS labels) and label values.
        let chars_ok = shard.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !chars_ok || shard.starts_with('-') || shard.ends_with('-') {
            return Err(invalid("must be lowercase letters, digits and inner '-'".to_string()));
        }
        if opts.shards[..i].contains(shard) {
            return Err(ShardError::DuplicateShard(shard.clone()));
        }
    }
    Ok(())
}

/// Whether a label key is `[prefix/]name` as Kubernetes accepts it.
fn is_label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
        && name.as_bytes().last().is_some_and(u8::is_ascii_alphanumeric);
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            })
    });
    name_ok && prefix_ok
}

/// `(kind, namespace, name)` of an object; the namespace is empty when absent.
fn identity(object: &Value) -> Option<(&str, &str, &str)> {
    let kind = object.get("kind")?.as_str()?;
    let meta = object.get("metadata")?;
    let name = meta.get("name")?.as_str()?;
    let namespace = meta.get("namespace").and_then(Value::as_str).unwrap_or("");
    Some((kind, namespace, name))
}

fn is_object(object: &Value, kind: &str, name: &str, namespace: &str) -> bool {
    identity(object) == Some((kind, namespace, name))
}

/// Whether an input object is a shard copy this run makes anew: one of the names it will
/// produce, or a copy an earlier run made for a shard no longer wanted.
fn is_regenerated(object: &Value, opts: &ShardOptions) -> bool {
    if copy_shard(object, opts).is_some() {
        return true;
    }
    let Some((kind, namespace, name)) = identity(object) else { return false };
    let is_shard_role = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SHARD_ROLE_ANNOTATION))
        .and_then(Value::as_str)
        == Some("shard");
    namespace == opts.namespace
        && is_shard_role
        && SHARDED_CONTROLLERS
            .iter()
            .filter(|c| kind == "Deployment" || (kind == "Service" && **c == SOURCE_CONTROLLER))
            .any(|c| name.strip_prefix(c).is_some_and(|rest| rest.starts_with('-')))
}

fn expect_one(objects: &[&Value], kind: &str, name: &str, opts: &ShardOptions) -> Result<(), ShardError> {
    let count = objects.iter().filter(|o| is_object(o, kind, name, &opts.namespace)).count();
    let (namespace, name) = (opts.namespace.clone(), name.to_string());
    match (count, kind) {
        (1, _) => Ok(()),
        (0, "Deployment") => Err(ShardError::MissingDeployment { namespace, name }),
        (0, _) => Err(ShardError::MissingService { namespace, name }),
        _ => Err(ShardError::DuplicateObject { kind: kind.to_string(), namespace, name }),
    }
}

/// The sharded controller a main Deployment runs, if the object is one.
fn main_controller(object: &Value, opts: &ShardOptions) -> Option<&'static str> {
    SHARDED_CONTROLLERS.into_iter().find(|c| is_object(object, "Deployment", c, &opts.namespace))
}

/// The main controller, limited to objects without the shard key so no two controllers
/// reconcile the same object.
fn main_deployment(original: &Value, controller: &str, opts: &ShardOptions) -> Result<Value, ShardError> {
    let mut deployment = original.clone();
    let args = manager_args(&mut deployment, controller)?;
    set_flag(args, WATCH_SELECTOR_FLAG, &format!("!{}", opts.label_key));
    Ok(deployment)
}

fn shard_deployment(
    original: &Value,
    controller: &str,
    shard: &str,
    opts: &ShardOptions,
) -> Result<Value, ShardError> {
    let name = copy_name(controller, shard);
    let malformed = |field: &str| ShardError::Malformed {
        kind: "Deployment".to_string(),
        name: controller.to_string(),
        field: field.to_string(),
    };
    let mut deployment = original.clone();
    strip_server_fields(&mut deployment);
    let meta = object_at(&mut deployment, &["metadata"]).ok_or_else(|| malformed("metadata"))?;
    meta.insert("name".into(), json!(name));
    object_at(&mut deployment, &["metadata", "annotations"])
        .ok_or_else(|| malformed("metadata.annotations"))?
        .insert(SHARD_ROLE_ANNOTATION.into(), json!("shard"));
    // A distinct `app` keeps the copy's pods out of the main Deployment's selector and Service.
    object_at(&mut deployment, &["spec", "selector", "matchLabels"])
        .ok_or_else(|| malformed("spec.selector.matchLabels"))?
        .insert("app".into(), json!(name));
    object_at(&mut deployment, &["spec", "template", "metadata", "labels"])
        .ok_or_else(|| malformed("spec.template.metadata.labels"))?
        .insert("app".into(), json!(name));
    object_at(&mut deployment, &["spec", "template", "spec", "affinity"])
        .ok_or_else(|| malformed("spec.template.spec.affinity"))?
        // Replaced, not merged: required node terms are ORed, so an old term would unpin the shard.
        .insert("nodeAffinity".into(), node_affinity(&opts.label_key, shard, opts.placement));

    let args = manager_args(&mut deployment, controller)?;
    set_flag(args, WATCH_SELECTOR_FLAG, &format!("{}={shard}", opts.label_key));
    if controller == SOURCE_CONTROLLER {
        // Consumers download artifacts from the address in the source's status; without its
        // own address a shard would send them to the main source-controller, which lacks them.
        let address =
            format!("{}.$(RUNTIME_NAMESPACE).svc.cluster.local.", copy_name(SOURCE_CONTROLLER, shard));
        set_flag(args, STORAGE_ADV_ADDR_FLAG, &address);
    }
    Ok(deployment)
}

/// A shard's own source-controller Service, copied from the main one so ports stay the same.
fn shard_service(original: &Value, shard: &str) -> Result<Value, ShardError> {
    let name = copy_name(SOURCE_CONTROLLER, shard);
    let malformed = |field: &str| ShardError::Malformed {
        kind: "Service".to_string(),
        name: SOURCE_CONTROLLER.to_string(),
        field: field.to_string(),
    };
    let mut service = original.clone();
    strip_server_fields(&mut service);
    object_at(&mut service, &["metadata"])
        .ok_or_else(|| malformed("metadata"))?
        .insert("name".into(), json!(name));
    object_at(&mut service, &["metadata", "annotations"])
        .ok_or_else(|| malformed("metadata.annotations"))?
        .insert(SHARD_ROLE_ANNOTATION.into(), json!("shard"));
    let spec = object_at(&mut service, &["spec"]).ok_or_else(|| malformed("spec"))?;
    // The cluster IP is allocated per Service; a copied one would collide with the main's.
    spec.remove("clusterIP");
    spec.remove("clusterIPs");
    object_at(&mut service, &["spec", "selector"])
        .ok_or_else(|| malformed("spec.selector"))?
        .insert("app".into(), json!(name));
    Ok(service)
}

fn node_affinity(label_key: &str, shard: &str, placement: Placement) -> Value {
    let term = json!({"matchExpressions": [{"key": label_key, "operator": "In", "values": [shard]}]});
    match placement {
        Placement::Required => {
            json!({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}})
        }
        Placement::Preferred => {
            json!({"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "preference": term}]})
        }
    }
}

/// Removes what the API server fills in, so a copy taken from a live object is a new object.
fn strip_server_fields(object: &mut Value) {
    if let Some(root) = object.as_object_mut() {
        root.remove("status");
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in
            ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink"]
        {
            meta.remove(field);
        }
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            annotations.remove("deployment.kubernetes.io/revision");
        }
    }
}

/// The map at `path`, creating missing (or null) maps on the way; `None` if something in the
/// way is not a map.
fn object_at<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Map<String, Value>> {
    let mut current = value;
    for key in path {
        let map = current.as_object_mut()?;
        let next = map.entry(key.to_string()).or_insert_with(|| json!({}));
        if next.is_null() {
            *next = json!({});
        }
        current = next;
    }
    current.as_object_mut()
}

/// The args of the controller's container: the one named `manager` as in Flux's install, or
/// the first. Created empty when absent.
fn manager_args<'a>(deployment: &'a mut Value, controller: &str) -> Result<&'a mut Vec<Value>, ShardError> {
    let malformed = |field: &str| ShardError::Malformed {
        kind: "Deployment".to_string(),
        name: controller.to_string(),
        field: field.to_string(),
    };
    let containers = deployment
        .pointer_mut("/spec/template/spec/containers")
        .ok_or_else(|| ShardError::NoContainer { name: controller.to_string() })?
        .as_array_mut()
        .ok_or_else(|| malformed("spec.template.spec.containers"))?;
    let index =
        containers.iter().position(|c| c.get("name").and_then(Value::as_str) == Some("manager")).unwrap_or(0);
    let container = containers
        .get_mut(index)
        .ok_or_else(|| ShardError::NoContainer { name: controller.to_string() })?
        .as_object_mut()
        .ok_or_else(|| malformed("spec.template.spec.containers[]"))?;
    let args = container.entry("args").or_insert_with(|| json!([]));
    if args.is_null() {
        *args = json!([]);
    }
    args.as_array_mut().ok_or_else(|| malformed("spec.template.spec.containers[].args"))
}

/// Sets `--flag=value` in place of the first occurrence of the flag (either `--flag=x` or
/// `--flag x`), removing any others, so re-running never stacks duplicate flags.
fn set_flag(args: &mut Vec<Value>, flag: &str, value: &str) {
    let mut position = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str().unwrap_or("");
        if arg == flag {
            position.get_or_insert(i);
            args.remove(i);
            // The separate value, unless the flag was last or followed by another flag.
            if args.get(i).and_then(Value::as_str).is_some_and(|next| !next.starts_with("--")) {
                args.remove(i);
            }
        } else if arg.strip_prefix(flag).is_some_and(|rest| rest.starts_with('=')) {
            position.get_or_insert(i);
            args.remove(i);
        } else {
            i += 1;
        }
    }
    args.insert(position.unwrap_or(args.len()), json!(format!("{flag}={value}")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_flag_replaces_both_forms_in_place() {
        let mut args = vec![json!("--a=1"), json!("--f"), json!("x"), json!("--b"), json!("--f=y")];
        set_flag(&mut args, "--f", "z");
        assert_eq!(args, vec![json!("--a=1"), json!("--f=z"), json!("--b")]);
        let mut args = vec![json!("--fx=1")];
        set_flag(&mut args, "--f", "z");
        assert_eq!(args, vec![json!("--fx=1"), json!("--f=z")]);
    }

    #[test]
    fn label_keys() {
        for ok in ["sharding.fluxcd.io/key", "shard", "a.b/c_d-e.f"] {
            assert!(is_label_key(ok), "{ok}");
        }
        for bad in ["", "/x", "a/", "Bad.Prefix/x", "x=y", "-x", "a/b/c", "has space"] {
            assert!(!is_label_key(bad), "{bad}");
        }
    }

    #[test]
    fn shard_names_are_validated() {
        let with = |shards: &[&str]| ShardOptions {
            shards: shards.iter().map(|s| s.to_string()).collect(),
            ..ShardOptions::default()
        };
        assert_eq!(validate(&with(&[])), Err(ShardError::NoShards));
        assert_eq!(validate(&with(&["a", "a"])), Err(ShardError::DuplicateShard("a".into())));
        for bad in ["", "Shard1", "-a", "a-", "a_b", &"x".repeat(43)] {
            assert!(matches!(validate(&with(&[bad])), Err(ShardError::InvalidShardName { .. })), "{bad}");
        }
        assert_eq!(validate(&with(&["eu-west-1", &"x".repeat(42)])), Ok(()));
    }

    #[test]
    fn placement_parses_and_prints() {
        for p in [Placement::Required, Placement::Preferred] {
            assert_eq!(p.to_string().parse::<Placement>(), Ok(p));
        }
        assert!("sometimes".parse::<Placement>().is_err());
    }
}
