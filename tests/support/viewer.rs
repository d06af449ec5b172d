//! A ServiceAccount bound to the shipped least-privilege roles (`manifests/rbac/`), with a
//! kubeconfig that authenticates it through a 0600 token file, and shardwatch run as it.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::flux_stack;
use crate::pty;
use crate::support::{self, Cluster, Namespace};

/// The shipped RBAC manifests, as JSON documents.
pub fn shipped(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/rbac").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{file} is not valid YAML: {e}")))
        .collect()
}

/// `role` without any grant on `resource` (rules left empty are dropped).
pub fn without(mut role: Value, resource: &str) -> Value {
    let rules = role["rules"].as_array_mut().expect("rules");
    for rule in rules.iter_mut() {
        rule["resources"].as_array_mut().expect("resources").retain(|r| r != resource);
    }
    rules.retain(|r| !r["resources"].as_array().is_some_and(|a| a.is_empty()));
    role
}

/// A ServiceAccount bound to roles, with a kubeconfig that authenticates as it through
/// a token file. Its ClusterRoles, ClusterRoleBindings and files are removed on drop (the
/// namespace takes the rest).
pub struct Viewer {
    pub admin: Cluster,
    /// The cluster as the ServiceAccount reaches it (its kubeconfig, the same kubectl).
    pub me: Cluster,
    pub account: String,
    pub user: String,
    pub dir: PathBuf,
    pub token: String,
    cluster_scoped: Vec<(String, String)>,
}

impl Viewer {
    /// ServiceAccount `viewer` in `ns`, bound to `roles` (shipped documents, already
    /// edited): each ClusterRole renamed after `ns` and bound cluster-wide, each Role put
    /// in `ns` and bound there.
    pub fn bound_to(admin: &Cluster, ns: &str, roles: Vec<Value>) -> Viewer {
        // A name of its own, so bindings left by an earlier viewer in `ns` do not apply.
        let account = support::unique_name("viewer");
        admin.kubectl(&["-n", ns, "create", "serviceaccount", &account]).expect("create the ServiceAccount");
        let user = format!("system:serviceaccount:{ns}:{account}");
        let mut viewer = Viewer {
            admin: admin.clone(),
            me: admin.clone(),
            account,
            user,
            dir: std::env::temp_dir().join(support::unique_name("sw-viewer")),
            token: String::new(),
            cluster_scoped: Vec::new(),
        };
        for role in roles {
            viewer.grant(ns, role);
        }
        viewer.login(ns);
        viewer
    }

    /// Binds one more role (a shipped document) to the ServiceAccount.
    pub fn grant(&mut self, ns: &str, mut role: Value) {
        let subject = json!([{ "kind": "ServiceAccount", "name": self.account, "namespace": ns }]);
        let kind = role["kind"].as_str().expect("kind").to_string();
        let name = support::unique_name(role["metadata"]["name"].as_str().expect("name"));
        role["metadata"]["name"] = name.clone().into();
        let binding = if kind == "ClusterRole" {
            self.cluster_scoped.push(("clusterrole".into(), name.clone()));
            self.cluster_scoped.push(("clusterrolebinding".into(), name.clone()));
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": name},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                   "subjects": subject})
        } else {
            role["metadata"]["namespace"] = ns.into();
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": name, "namespace": ns},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                   "subjects": subject})
        };
        self.admin.apply(&role.to_string());
        self.admin.apply(&binding.to_string());
    }

    /// A TokenRequest token in a 0600 file, and a kubeconfig naming that file.
    fn login(&mut self, ns: &str) {
        std::fs::create_dir_all(&self.dir).expect("create the viewer's folder");
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
        let token = self
            .admin
            .kubectl(&["-n", ns, "create", "token", &self.account, "--duration=1h"])
            .expect("request a token")
            .trim()
            .to_string();
        let token_file = self.dir.join("token");
        private_file(&token_file, &token);
        self.token = token;
        let admin = self
            .admin
            .get_json(&["config", "view", "--raw", "--minify", "--flatten"])
            .expect("the admin kubeconfig");
        let cluster = admin["clusters"][0]["cluster"].clone();
        let kubeconfig = json!({
            "apiVersion": "v1", "kind": "Config", "current-context": "viewer",
            "clusters": [{"name": "local", "cluster": cluster}],
            "users": [{"name": "viewer", "user": {"tokenFile": token_file}}],
            "contexts": [{"name": "viewer", "context": {"cluster": "local", "user": "viewer"}}],
        });
        let path = self.dir.join("kubeconfig");
        private_file(&path, &kubeconfig.to_string());
        self.me = Cluster { kubeconfig: path, kubectl: self.admin.kubectl.clone() };
        // The authorizer learns of new bindings through its informers: wait until it has.
        support::wait_until(Duration::from_secs(30), "the viewer's bindings in force", || {
            for resource in ["pods", "deployments.apps"] {
                match self.me.kubectl(&["auth", "can-i", "list", resource, "-n", ns]) {
                    Ok(yes) if yes.trim() == "yes" => {}
                    other => return Err(format!("list {resource}: {other:?}")),
                }
            }
            Ok(())
        });
    }

    /// Runs shardwatch as the ServiceAccount with a log file of its own; (exit code,
    /// stdout, stderr, log). Asserts the token appears in none of them.
    pub fn shardwatch(&self, args: &[&str]) -> (i32, String, String) {
        let log = self.dir.join(support::unique_name("log"));
        let out = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
            .arg("--kubeconfig")
            .arg(&self.me.kubeconfig)
            .arg("--log-file")
            .arg(&log)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run shardwatch");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        for (what, s) in [("stdout", &stdout), ("stderr", &stderr), ("the log", &logged)] {
            assert!(!s.contains(&self.token), "the token appears in {what} of shardwatch {args:?}");
        }
        (out.status.code().unwrap_or(-1), stdout, stderr)
    }

    /// `snapshot -o json` as the ServiceAccount, with `ns` as the Flux namespace.
    pub fn snapshot(&self, ns: &str, extra: &[&str]) -> Value {
        let mut args = vec!["--flux-namespace", ns];
        args.extend(extra);
        args.extend(["snapshot", "-o", "json"]);
        let (code, stdout, stderr) = self.shardwatch(&args);
        assert!(code == 0 || code == 1, "snapshot as the viewer exited {code}: {stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("snapshot is not JSON ({e}): {stdout}"))
    }

    /// The dashboard as the ServiceAccount in a 160×48 pseudo-terminal.
    pub fn dashboard(&self, ns: &str, extra: &[&str]) -> pty::Terminal {
        self.dashboard_at(ns, extra, 160)
    }

    /// The dashboard as the ServiceAccount in a `cols`×48 pseudo-terminal.
    pub fn dashboard_at(&self, ns: &str, extra: &[&str], cols: u16) -> pty::Terminal {
        let kubeconfig = self.me.kubeconfig.to_string_lossy().into_owned();
        let log = self.dir.join("dashboard.log").to_string_lossy().into_owned();
        let mut args = vec!["--kubeconfig", &kubeconfig, "--log-file", &log, "--flux-namespace", ns];
        args.extend(extra);
        pty::Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], cols, 48)
    }

    /// After the dashboard ran: its log does not hold the token.
    pub fn dashboard_log_clean(&self) {
        let logged = std::fs::read_to_string(self.dir.join("dashboard.log")).unwrap_or_default();
        assert!(!logged.contains(&self.token), "the token appears in the dashboard's log");
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        for (kind, name) in self.cluster_scoped.iter().rev() {
            let _ = self.admin.kubectl(&["delete", kind, name, "--ignore-not-found", "--wait=false"]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes `text` to a new file only its owner may read.
pub fn private_file(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    f.write_all(text.as_bytes()).expect("write");
}

/// A namespace playing the Flux namespace: the seed's 13 controller Deployments and a
/// Kustomization for shard1 (Flux's CRDs installed first).
pub fn flux_namespace(admin: &Cluster) -> Namespace {
    flux_stack::install_flux_crds(admin);
    let ns = admin.namespace("rbac");
    admin.apply(&flux_stack::controller_deployments(&ns.name, &["shard1", "shard2", "shard3"]));
    admin.apply(&flux_stack::kustomization(&ns.name, "app", Some("shard1"), &[]));
    ns
}
