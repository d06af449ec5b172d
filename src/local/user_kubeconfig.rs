//! The local cluster's context in the user's kubeconfig, where kubectl, k9s and shardwatch
//! look by default, as kind and kwokctl add theirs: `up` adds (or replaces) a cluster, a
//! user and a context named [`CONTEXT`] and makes the context current; `down` removes them.
//! Every other entry is kept. The merge and the removal are pure functions on the files'
//! text; only [`add`] and [`remove`] touch the disk.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// The name of the cluster, user and context entries shardwatch owns.
pub const CONTEXT: &str = "kwok-shardwatch";

/// Why a kubeconfig could not be merged or cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigError(pub String);

impl fmt::Display for KubeconfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KubeconfigError {}

/// The file `kubectl config` writes to: `--kubeconfig` (`flag`), else the first path of
/// `KUBECONFIG` (`kubeconfig_env`), else `~/.kube/config` under `home`.
pub fn user_kubeconfig_path(
    flag: Option<&Path>,
    kubeconfig_env: Option<&OsStr>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    if let Some(flag) = flag {
        return Some(flag.to_path_buf());
    }
    if let Some(first) =
        kubeconfig_env.and_then(|paths| std::env::split_paths(paths).find(|p| !p.as_os_str().is_empty()))
    {
        return Some(first);
    }
    home.map(|h| h.join(".kube").join("config"))
}

/// `user` (the user's kubeconfig text; empty when the file does not exist) with the
/// cluster and user of `ours` (the local cluster's kubeconfig, whose relative file paths
/// are relative to `ours_dir`) added as [`CONTEXT`], replacing older entries of that
/// name, and [`CONTEXT`] made current.
pub fn merge(user: &str, ours: &str, ours_dir: &Path) -> Result<String, KubeconfigError> {
    merge_as(CONTEXT, user, ours, ours_dir)
}

/// [`merge`] under the entry name `context` (kind's `kind-<cluster>`, or [`CONTEXT`]).
pub fn merge_as(context: &str, user: &str, ours: &str, ours_dir: &Path) -> Result<String, KubeconfigError> {
    let mut config = parse(user, "your kubeconfig")?;
    let ours = parse(ours, "the local cluster's kubeconfig")?;
    let (cluster, user_entry) = current_entries(&ours)?;
    let cluster = absolute_paths(cluster, ours_dir);
    let user_entry = absolute_paths(user_entry, ours_dir);
    let map = config.as_object_mut().expect("parse returns a mapping");
    for (list, body) in [
        ("clusters", json!({ "name": context, "cluster": cluster })),
        ("users", json!({ "name": context, "user": user_entry })),
        ("contexts", json!({ "name": context, "context": { "cluster": context, "user": context } })),
    ] {
        let entries = list_mut(map, list)?;
        entries.retain(|e| e.get("name").and_then(Value::as_str) != Some(context));
        entries.push(body);
    }
    map.insert("current-context".into(), context.into());
    write(&config)
}

/// `user` without the entries named [`CONTEXT`]; the current context is cleared when it
/// was [`CONTEXT`]. `None` when there was nothing to remove.
pub fn remove_entries(user: &str) -> Result<Option<String>, KubeconfigError> {
    remove_entries_of(CONTEXT, user)
}

/// [`remove_entries`] of the entries named `context`.
pub fn remove_entries_of(context: &str, user: &str) -> Result<Option<String>, KubeconfigError> {
    let mut config = parse(user, "your kubeconfig")?;
    let map = config.as_object_mut().expect("parse returns a mapping");
    let mut changed = false;
    for list in ["clusters", "users", "contexts"] {
        let entries = list_mut(map, list)?;
        let before = entries.len();
        entries.retain(|e| e.get("name").and_then(Value::as_str) != Some(context));
        changed |= entries.len() != before;
    }
    if map.get("current-context").and_then(Value::as_str) == Some(context) {
        // As `kind delete cluster` leaves it: no current context rather than a dangling one.
        map.insert("current-context".into(), "".into());
        changed = true;
    }
    if changed { write(&config).map(Some) } else { Ok(None) }
}

/// [`user_kubeconfig_path`] from this process's environment.
pub fn user_kubeconfig(flag: Option<&Path>) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    user_kubeconfig_path(flag, std::env::var_os("KUBECONFIG").as_deref(), home.as_deref())
}

/// Adds the local cluster's context to the kubeconfig at `user_file` (created if missing),
/// written with mode 0600.
pub fn add(user_file: &Path, ours_file: &Path) -> color_eyre::Result<()> {
    add_as(CONTEXT, user_file, ours_file)
}

/// [`add`] under the entry name `context`.
pub fn add_as(context: &str, user_file: &Path, ours_file: &Path) -> color_eyre::Result<()> {
    use color_eyre::eyre::WrapErr;
    let ours = std::fs::read_to_string(ours_file)
        .wrap_err_with(|| format!("reading the local cluster's kubeconfig {}", ours_file.display()))?;
    let user = read_if_present(user_file)?;
    let dir = ours_file.parent().unwrap_or(Path::new("."));
    let merged =
        merge_as(context, &user, &ours, dir).wrap_err_with(|| format!("updating {}", user_file.display()))?;
    write_private(user_file, &merged)
}

/// Removes the local cluster's context from the kubeconfig at `user_file`; true when it was there.
pub fn remove(user_file: &Path) -> color_eyre::Result<bool> {
    remove_of(CONTEXT, user_file)
}

/// [`remove`] of the entries named `context`.
pub fn remove_of(context: &str, user_file: &Path) -> color_eyre::Result<bool> {
    use color_eyre::eyre::WrapErr;
    let user = read_if_present(user_file)?;
    match remove_entries_of(context, &user).wrap_err_with(|| format!("updating {}", user_file.display()))? {
        Some(text) => write_private(user_file, &text).map(|()| true),
        None => Ok(false),
    }
}

fn read_if_present(path: &Path) -> color_eyre::Result<String> {
    use color_eyre::eyre::WrapErr;
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e).wrap_err_with(|| format!("reading {}", path.display())),
    }
}

/// Writes `text` to `path` through a sibling file created 0600 and renamed over it, so
/// credentials are never readable by others and a reader never sees half a file.
pub fn write_private(path: &Path, text: &str) -> color_eyre::Result<()> {
    use color_eyre::eyre::WrapErr;
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.shardwatch-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = options.open(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    result.wrap_err_with(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).wrap_err_with(|| format!("replacing {}", path.display()))
}

/// A kubeconfig as a mapping; empty text is an empty config.
fn parse(text: &str, what: &str) -> Result<Value, KubeconfigError> {
    let value: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_norway::from_str(text).map_err(|e| KubeconfigError(format!("{what} is not valid YAML: {e}")))?
    };
    match value {
        Value::Null => Ok(json!({ "apiVersion": "v1", "kind": "Config", "preferences": {} })),
        Value::Object(_) => Ok(value),
        _ => Err(KubeconfigError(format!("{what} is not a kubeconfig (not a mapping)"))),
    }
}

/// The list `key` of a kubeconfig, created empty when absent or null.
fn list_mut<'a>(map: &'a mut Map<String, Value>, key: &str) -> Result<&'a mut Vec<Value>, KubeconfigError> {
    let slot = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut().ok_or_else(|| KubeconfigError(format!("`{key}` in your kubeconfig is not a list")))
}

/// The cluster and user bodies the current (else the only) context of `config` names.
fn current_entries(config: &Value) -> Result<(Value, Value), KubeconfigError> {
    let missing = |what: String| KubeconfigError(format!("the local cluster's kubeconfig has no {what}"));
    let named = |list: &str, name: &str, body: &str| {
        config
            .get(list)
            .and_then(Value::as_array)
            .and_then(|l| l.iter().find(|e| e.get("name").and_then(Value::as_str) == Some(name)))
            .and_then(|e| e.get(body))
            .cloned()
            .ok_or_else(|| missing(format!("{body} named {name:?}")))
    };
    let contexts = config.get("contexts").and_then(Value::as_array).cloned().unwrap_or_default();
    let current = config.get("current-context").and_then(Value::as_str).filter(|c| !c.is_empty());
    let context = match current {
        Some(name) => named("contexts", name, "context")?,
        None if contexts.len() == 1 => contexts[0].get("context").cloned().unwrap_or(Value::Null),
        None => return Err(missing("current context".into())),
    };
    let field = |k: &str| context.get(k).and_then(Value::as_str).map(str::to_string);
    let cluster = field("cluster").ok_or_else(|| missing("cluster in its context".into()))?;
    let user = field("user").ok_or_else(|| missing("user in its context".into()))?;
    Ok((named("clusters", &cluster, "cluster")?, named("users", &user, "user")?))
}

/// A cluster or user body with its relative file references made absolute against `dir`:
/// kubectl reads them relative to the kubeconfig that holds them, which is no longer ours.
fn absolute_paths(mut body: Value, dir: &Path) -> Value {
    const FILE_FIELDS: [&str; 4] = ["certificate-authority", "client-certificate", "client-key", "tokenFile"];
    if let Some(map) = body.as_object_mut() {
        for field in FILE_FIELDS {
            if let Some(Value::String(path)) = map.get_mut(field) {
                if Path::new(path.as_str()).is_relative() && !path.is_empty() {
                    *path = dir.join(path.as_str()).to_string_lossy().into_owned();
                }
            }
        }
    }
    body
}

fn write(config: &Value) -> Result<String, KubeconfigError> {
    serde_norway::to_string(config).map_err(|e| KubeconfigError(format!("cannot write the kubeconfig: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The local cluster's kubeconfig as kwokctl writes it (file references relative here,
    /// to check they are made absolute).
    const OURS: &str = "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: pki/ca.crt\n    server: https://127.0.0.1:32766\n  name: kwok-shardwatch-local\ncontexts:\n- context:\n    cluster: kwok-shardwatch-local\n    user: kwok-shardwatch-local\n  name: kwok-shardwatch-local\ncurrent-context: kwok-shardwatch-local\nusers:\n- name: kwok-shardwatch-local\n  user:\n    client-certificate: /cache/kwok/pki/admin.crt\n    client-key: pki/admin.key\n";

    const USERS: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://prod.example:6443\n    certificate-authority-data: QUJD\ncontexts:\n- name: prod\n  context:\n    cluster: prod\n    user: admin\n    namespace: web\ncurrent-context: prod\nusers:\n- name: admin\n  user:\n    token: sekrit\npreferences: {}\n";

    fn value(text: &str) -> Value {
        serde_norway::from_str(text).unwrap()
    }

    fn names(config: &Value, list: &str) -> Vec<String> {
        config[list].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_string()).collect()
    }

    #[test]
    fn the_first_kubeconfig_path_else_the_home_one() {
        let home = Some(Path::new("/h"));
        let env = std::env::join_paths(["/a/one", "/b/two"]).unwrap();
        assert_eq!(user_kubeconfig_path(None, Some(&env), home), Some(PathBuf::from("/a/one")));
        let flag = Some(Path::new("/f/kc"));
        assert_eq!(user_kubeconfig_path(flag, Some(&env), home), Some(PathBuf::from("/f/kc")));
        let leading_empty = std::env::join_paths(["", "/b/two"]).unwrap();
        assert_eq!(user_kubeconfig_path(None, Some(&leading_empty), None), Some(PathBuf::from("/b/two")));
        assert_eq!(user_kubeconfig_path(None, None, home), Some(PathBuf::from("/h/.kube/config")));
        let empty = Some(OsStr::new(""));
        assert_eq!(user_kubeconfig_path(None, empty, home), Some(PathBuf::from("/h/.kube/config")));
        assert_eq!(user_kubeconfig_path(None, None, None), None);
    }

    #[test]
    fn merging_adds_our_entries_makes_them_current_and_keeps_the_rest() {
        let merged = value(&merge(USERS, OURS, Path::new("/cache/kwok")).unwrap());
        let before = value(USERS);
        assert_eq!(names(&merged, "clusters"), ["prod", CONTEXT]);
        assert_eq!(names(&merged, "users"), ["admin", CONTEXT]);
        assert_eq!(names(&merged, "contexts"), ["prod", CONTEXT]);
        assert_eq!(merged["current-context"], CONTEXT);
        // The user's own entries, byte for byte in value.
        assert_eq!(merged["clusters"][0], before["clusters"][0]);
        assert_eq!(merged["users"][0], before["users"][0]);
        assert_eq!(merged["contexts"][0], before["contexts"][0]);
        assert_eq!(merged["preferences"], before["preferences"]);
        // Ours, with file references made absolute.
        assert_eq!(
            merged["clusters"][1]["cluster"],
            json!({ "certificate-authority": "/cache/kwok/pki/ca.crt", "server": "https://127.0.0.1:32766" })
        );
        assert_eq!(
            merged["users"][1]["user"],
            json!({ "client-certificate": "/cache/kwok/pki/admin.crt", "client-key": "/cache/kwok/pki/admin.key" })
        );
        assert_eq!(merged["contexts"][1]["context"], json!({ "cluster": CONTEXT, "user": CONTEXT }));
    }

    #[test]
    fn merging_twice_replaces_rather_than_duplicates() {
        let once = merge(USERS, OURS, Path::new("/c")).unwrap();
        let moved = OURS.replace("32766", "40000");
        let twice = value(&merge(&once, &moved, Path::new("/c")).unwrap());
        assert_eq!(names(&twice, "clusters"), ["prod", CONTEXT]);
        assert_eq!(twice["clusters"][1]["cluster"]["server"], "https://127.0.0.1:40000");
    }

    #[test]
    fn merging_into_no_file_makes_a_whole_kubeconfig() {
        let fresh = value(&merge("", OURS, Path::new("/c")).unwrap());
        assert_eq!(fresh["apiVersion"], "v1");
        assert_eq!(fresh["kind"], "Config");
        assert_eq!(names(&fresh, "contexts"), [CONTEXT]);
        assert_eq!(fresh["current-context"], CONTEXT);
        // Lists written as null by some tools count as empty.
        let nulls = "apiVersion: v1\nkind: Config\nclusters: null\nusers:\ncontexts: []\n";
        assert_eq!(names(&value(&merge(nulls, OURS, Path::new("/c")).unwrap()), "users"), [CONTEXT]);
    }

    #[test]
    fn removing_takes_out_only_ours_and_clears_current() {
        let merged = merge(USERS, OURS, Path::new("/c")).unwrap();
        let removed = value(&remove_entries(&merged).unwrap().expect("something removed"));
        let before = value(USERS);
        for list in ["clusters", "users", "contexts"] {
            assert_eq!(removed[list], before[list], "{list}");
        }
        assert_eq!(removed["current-context"], "");
        assert_eq!(remove_entries(USERS).unwrap(), None, "nothing of ours: nothing written");
        assert_eq!(remove_entries("").unwrap(), None);
    }

    #[test]
    fn removing_keeps_another_current_context() {
        let merged = merge(USERS, OURS, Path::new("/c")).unwrap();
        let switched = merged.replace(&format!("current-context: {CONTEXT}"), "current-context: prod");
        let removed = value(&remove_entries(&switched).unwrap().unwrap());
        assert_eq!(removed["current-context"], "prod");
    }

    #[test]
    fn broken_input_is_refused_with_the_reason() {
        let err = merge("clusters: [\n", OURS, Path::new("/c")).unwrap_err();
        assert!(err.0.starts_with("your kubeconfig is not valid YAML"), "{err}");
        let err = merge("clusters: 5\n", OURS, Path::new("/c")).unwrap_err();
        assert!(err.0.contains("`clusters`"), "{err}");
        let err = merge(USERS, "apiVersion: v1\nkind: Config\n", Path::new("/c")).unwrap_err();
        assert!(err.0.starts_with("the local cluster's kubeconfig has no"), "{err}");
        assert!(merge("- a\n", OURS, Path::new("/c")).is_err());
    }

    #[test]
    fn files_are_written_private_and_removed_cleanly() {
        let dir = std::env::temp_dir().join(format!("sw-user-kubeconfig-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("kwok")).unwrap();
        let ours = dir.join("kwok/kubeconfig.yaml");
        std::fs::write(&ours, OURS).unwrap();
        let user = dir.join("home/.kube/config");
        add(&user, &ours).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&user).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "credentials are for the user only");
        }
        let written = value(&std::fs::read_to_string(&user).unwrap());
        assert_eq!(written["current-context"], CONTEXT);
        assert_eq!(
            written["clusters"][0]["cluster"]["certificate-authority"],
            dir.join("kwok/pki/ca.crt").to_str().unwrap()
        );
        assert!(remove(&user).unwrap());
        assert!(!remove(&user).unwrap(), "a second removal finds nothing");
        assert_eq!(names(&value(&std::fs::read_to_string(&user).unwrap()), "contexts"), Vec::<String>::new());
        let leftovers: Vec<_> = std::fs::read_dir(dir.join("home/.kube")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
