//! shardwatch run as a ServiceAccount bound to the least-privilege roles it ships
//! (`manifests/rbac/`), against the local apiserver, which enforces RBAC: with the
//! ClusterRole every panel works; with the namespaced Role, or with Nodes, Leases or
//! Events taken out, each panel that needs them says what it cannot see and what grant
//! it needs; a grant given while it runs is picked up; actions are refused with the
//! API's reason. The token is written to a 0600 file that the kubeconfig names
//! (`tokenFile`), never passed as an argument, and never appears in output or logs.
//!
//! Each test plays the Flux namespace with a throwaway namespace of its own (the seed's
//! 13 controller Deployments and a Kustomization in it), and binds the shipped roles
//! there, renamed so tests do not share ClusterRoles.

#[path = "support/flux_stack.rs"]
mod flux_stack;
#[path = "support/follow.rs"]
mod follow;
#[path = "support/pty.rs"]
mod pty;
mod support;

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use support::{Cluster, Namespace};

/// The shipped RBAC manifests, as JSON documents.
fn shipped(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/rbac").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{file} is not valid YAML: {e}")))
        .collect()
}

/// `role` without any grant on `resource` (rules left empty are dropped).
fn without(mut role: Value, resource: &str) -> Value {
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
struct Viewer {
    admin: Cluster,
    /// The cluster as the ServiceAccount reaches it (its kubeconfig, the same kubectl).
    me: Cluster,
    account: String,
    user: String,
    dir: PathBuf,
    token: String,
    cluster_scoped: Vec<(String, String)>,
}

impl Viewer {
    /// ServiceAccount `viewer` in `ns`, bound to `roles` (shipped documents, already
    /// edited): each ClusterRole renamed after `ns` and bound cluster-wide, each Role put
    /// in `ns` and bound there.
    fn bound_to(admin: &Cluster, ns: &str, roles: Vec<Value>) -> Viewer {
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
    fn grant(&mut self, ns: &str, mut role: Value) {
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
    fn shardwatch(&self, args: &[&str]) -> (i32, String, String) {
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
    fn snapshot(&self, ns: &str, extra: &[&str]) -> Value {
        let mut args = vec!["--flux-namespace", ns];
        args.extend(extra);
        args.extend(["snapshot", "-o", "json"]);
        let (code, stdout, stderr) = self.shardwatch(&args);
        assert!(code == 0 || code == 1, "snapshot as the viewer exited {code}: {stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("snapshot is not JSON ({e}): {stdout}"))
    }

    /// The dashboard as the ServiceAccount in a 160×48 pseudo-terminal.
    fn dashboard(&self, ns: &str, extra: &[&str]) -> pty::Terminal {
        let kubeconfig = self.me.kubeconfig.to_string_lossy().into_owned();
        let log = self.dir.join("dashboard.log").to_string_lossy().into_owned();
        let mut args = vec!["--kubeconfig", &kubeconfig, "--log-file", &log, "--flux-namespace", ns];
        args.extend(extra);
        pty::Terminal::spawn(env!("CARGO_BIN_EXE_shardwatch"), &args, &[("NO_COLOR", "1")], 160, 48)
    }

    /// After the dashboard ran: its log does not hold the token.
    fn dashboard_log_clean(&self) {
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
fn private_file(path: &Path, text: &str) {
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
fn flux_namespace(admin: &Cluster) -> Namespace {
    flux_stack::install_flux_crds(admin);
    let ns = admin.namespace("rbac");
    admin.apply(&flux_stack::controller_deployments(&ns.name, &["shard1", "shard2", "shard3"]));
    admin.apply(&flux_stack::kustomization(&ns.name, "app", Some("shard1"), &[]));
    ns
}

fn watch_state(snap: &Value, kind: &str) -> String {
    match &snap["watches"][kind] {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.keys().next().cloned().unwrap_or_default(),
        other => other.to_string(),
    }
}

fn forbidden_message(snap: &Value, kind: &str) -> String {
    snap["watches"][kind]["Forbidden"].as_str().unwrap_or_default().to_string()
}

fn shard_names(snap: &Value) -> Vec<String> {
    snap["shards"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str().map(String::from))
        .collect()
}

fn has_kustomization(snap: &Value, ns: &str, name: &str) -> bool {
    snap["dependencies"]["nodes"].as_array().into_iter().flatten().any(|n| {
        n["key"]["kind"] == "Kustomization" && n["key"]["namespace"] == ns && n["key"]["name"] == name
    })
}

/// Presses each panel's number (after `first` is on screen) and returns each screen once
/// that panel's title is drawn.
fn every_panel(term: &mut pty::Terminal, first: &str) -> Vec<String> {
    term.wait_for(first, Duration::from_secs(30));
    [("1", "Shards"), ("2", "Placement"), ("3", "Dependencies"), ("4", "Assignment"), ("5", "Events")]
        .iter()
        .map(|(key, title)| {
            term.send(key);
            term.wait_for(&format!("{title} ["), Duration::from_secs(10))
        })
        .collect()
}

#[test]
fn the_cluster_role_sees_every_panel() {
    let Some(admin) = support::cluster() else { return };
    let _healthy = support::healthy_nodes();
    let ns = flux_namespace(&admin);
    let viewer = Viewer::bound_to(&admin, &ns.name, shipped("clusterrole.yaml"));
    let snap = viewer.snapshot(&ns.name, &[]);
    for kind in ["nodes", "pods", "deployments", "leases", "events", "pending pods", "kustomizations"] {
        assert_eq!(watch_state(&snap, kind), "Live", "{kind} as {}: {}", viewer.user, snap["watches"]);
    }
    for (kind, state) in snap["watches"].as_object().expect("watches") {
        assert!(!state.to_string().contains("Forbidden"), "{kind} is refused under the ClusterRole: {state}");
    }
    for shard in ["main", "shard1", "shard2", "shard3"] {
        assert!(
            shard_names(&snap).contains(&shard.to_string()),
            "shard {shard} missing: {:?}",
            shard_names(&snap)
        );
    }
    assert!(!snap["placement"]["nodes"].as_array().expect("nodes").is_empty(), "no node in the placement");
    assert!(has_kustomization(&snap, &ns.name, "app"), "the Kustomization is not in the dependencies");

    let mut term = viewer.dashboard(&ns.name, &[]);
    for (i, screen) in every_panel(&mut term, "shard3").iter().enumerate() {
        assert!(
            !screen.contains("forbidden") && !screen.contains("no permission"),
            "panel {} says something is refused under the ClusterRole:\n{screen}",
            i + 1
        );
    }
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "the dashboard did not exit on q");
    viewer.dashboard_log_clean();
}

#[test]
fn the_namespaced_role_says_what_it_cannot_see_and_why() {
    let Some(admin) = support::cluster() else { return };
    let ns = flux_namespace(&admin);
    let viewer = Viewer::bound_to(&admin, &ns.name, shipped("role.yaml"));
    let snap = viewer.snapshot(&ns.name, &["-n", &ns.name]);
    for kind in ["pods", "deployments", "leases", "kustomizations"] {
        assert_eq!(watch_state(&snap, kind), "Live", "{kind} under the Role: {}", snap["watches"]);
    }
    // What a Role cannot grant: cluster-scoped Nodes, Events and Pending pods everywhere.
    for kind in ["nodes", "events", "pending pods"] {
        assert_eq!(watch_state(&snap, kind), "Forbidden", "{kind} under the Role: {}", snap["watches"]);
        let why = forbidden_message(&snap, kind);
        assert!(
            why.contains(&viewer.user) && why.contains("cannot list"),
            "{kind}: the API's reason is kept: {why}"
        );
    }
    assert!(shard_names(&snap).contains(&"shard2".to_string()), "shards: {:?}", shard_names(&snap));
    assert!(has_kustomization(&snap, &ns.name, "app"), "the Kustomization is not in the dependencies");
    let reasons = snap["overall"]["reasons"].as_array().expect("reasons");
    assert!(
        reasons.iter().any(|r| r.as_str().is_some_and(|r| r.starts_with("nodes: forbidden"))),
        "the verdict's reasons name what it cannot see: {reasons:?}"
    );

    let mut term = viewer.dashboard(&ns.name, &["-n", &ns.name]);
    let screens = every_panel(&mut term, "shard3");
    assert!(screens[0].contains("nodes: forbidden"), "the header names the refused kind:\n{}", screens[0]);
    assert!(
        screens[1].contains("no permission to list nodes — needs list, watch on nodes (cluster-wide)"),
        "the Placement panel says what it cannot see and why:\n{}",
        screens[1]
    );
    assert!(screens[2].contains("ks/app"), "Dependencies shows the Kustomization:\n{}", screens[2]);
    assert!(
        screens[4].contains("no permission to list events — needs list, watch on events.events.k8s.io"),
        "the Events panel says what it cannot see and why:\n{}",
        screens[4]
    );
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "the dashboard did not exit on q");
    viewer.dashboard_log_clean();
}

#[test]
fn without_nodes_leases_or_events_each_is_named_and_the_rest_works() {
    let Some(admin) = support::cluster() else { return };
    let ns = flux_namespace(&admin);
    for (resource, kind) in [("nodes", "nodes"), ("leases", "leases"), ("events", "events")] {
        let roles = shipped("clusterrole.yaml").into_iter().map(|r| without(r, resource)).collect();
        let viewer = Viewer::bound_to(&admin, &ns.name, roles);
        let snap = viewer.snapshot(&ns.name, &[]);
        for other in snap["watches"].as_object().expect("watches").keys() {
            let state = watch_state(&snap, other);
            if other == kind {
                assert_eq!(state, "Forbidden", "{kind} without its grant: {}", snap["watches"]);
                let why = forbidden_message(&snap, kind);
                assert!(why.contains(&viewer.user), "{kind}: the API's reason names the user: {why}");
            } else {
                assert!(state == "Live" || state == "NotInstalled", "{other} without {resource}: {state}");
            }
        }
        assert!(has_kustomization(&snap, &ns.name, "app"), "without {resource}: no Kustomization");
        assert!(shard_names(&snap).contains(&"shard1".to_string()), "without {resource}: no shard1");
    }
}

#[test]
fn a_grant_given_while_running_is_picked_up() {
    let Some(admin) = support::cluster() else { return };
    let ns = flux_namespace(&admin);
    let roles: Vec<Value> = shipped("clusterrole.yaml").into_iter().map(|r| without(r, "nodes")).collect();
    let mut viewer = Viewer::bound_to(&admin, &ns.name, roles);
    let mut follow = follow::Follow::start(&viewer.me, &["--flux-namespace", &ns.name]);
    follow.wait_for(Duration::from_secs(30), "nodes Forbidden", |s| match watch_state(s, "nodes").as_str() {
        "Forbidden" => Ok(()),
        other => Err(other.to_string()),
    });
    let nodes_only = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "shardwatch-nodes"},
        "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]}]});
    viewer.grant(&ns.name, nodes_only);
    follow.wait_for(Duration::from_secs(30), "nodes Live with the nodes listed", |s| {
        let state = watch_state(s, "nodes");
        let nodes = s["placement"]["nodes"].as_array().map_or(0, Vec::len);
        if state == "Live" && nodes > 0 { Ok(()) } else { Err(format!("nodes: {state}, {nodes} listed")) }
    });
}

#[test]
fn actions_are_refused_with_the_apis_reason() {
    let Some(admin) = support::cluster() else { return };
    let ns = flux_namespace(&admin);
    let viewer = Viewer::bound_to(&admin, &ns.name, shipped("clusterrole.yaml"));
    let node = "shardwatch-worker3";
    let (code, stdout, stderr) = viewer.shardwatch(&["chaos", "cordon", node, "--yes"]);
    assert_eq!(code, 1, "cordon as a reader: stdout {stdout}, stderr {stderr}");
    assert!(
        stderr.contains("forbidden") && stderr.contains("cannot patch resource \"nodes\""),
        "the API's reason is given: {stderr}"
    );
    let unschedulable =
        admin.kubectl(&["get", "node", node, "-o", "jsonpath={.spec.unschedulable}"]).expect("node");
    assert_ne!(unschedulable.trim(), "true", "the node was cordoned anyway");

    let (code, _, stderr) = viewer.shardwatch(&[
        "--flux-namespace",
        &ns.name,
        "chaos",
        "scale",
        "kustomize-controller-shard1",
        "--replicas",
        "0",
        "--yes",
    ]);
    assert_eq!(code, 1, "scale as a reader: {stderr}");
    assert!(
        stderr.contains("forbidden") && stderr.contains("deployments"),
        "the API's reason is given: {stderr}"
    );
    let replicas = admin
        .kubectl(&[
            "-n",
            &ns.name,
            "get",
            "deploy",
            "kustomize-controller-shard1",
            "-o",
            "jsonpath={.spec.replicas}",
        ])
        .expect("deployment");
    assert_eq!(replicas.trim(), "1", "the Deployment was scaled anyway");
}

/// The shipped roles do not grant pods/log: `logs` and the `l` view say that this grant
/// is what is missing (the apiserver refuses before any kubelet is asked, so kwok's pods do).
#[test]
fn without_pods_log_the_log_is_refused_naming_the_grant() {
    let Some(admin) = support::cluster() else { return };
    let ns = flux_namespace(&admin);
    // The shard's controller must have a pod, or there is nothing to be refused.
    support::wait_until(Duration::from_secs(60), "a kustomize-controller-shard1 pod", || {
        let pods = admin.kubectl(&["-n", &ns.name, "get", "pods", "-o", "name"])?;
        if pods.contains("kustomize-controller-shard1") { Ok(()) } else { Err(pods) }
    });
    let viewer = Viewer::bound_to(&admin, &ns.name, shipped("clusterrole.yaml"));
    let (code, stdout, stderr) = viewer.shardwatch(&["--flux-namespace", &ns.name, "logs", "ks/app"]);
    assert_eq!(code, 2, "logs without pods/log: stdout {stdout}, stderr {stderr}");
    assert!(
        stderr.contains("forbidden: this user may not read pods/log")
            && stderr.contains("ask for get on pods/log"),
        "the missing grant is named: {stderr}"
    );
    assert!(stderr.contains("kustomize-controller-shard1"), "the controller read is named: {stderr}");

    let mut term = viewer.dashboard(&ns.name, &["-n", &ns.name]);
    term.wait_for("shard3", Duration::from_secs(30));
    term.send("3");
    term.wait_for("Dependencies [", Duration::from_secs(10));
    term.send("/ks/app\r");
    term.wait_for("Dependencies [1/1]", Duration::from_secs(10));
    term.send("l");
    let screen = term.wait_for("may not read pods/log", Duration::from_secs(30));
    assert!(screen.contains("forbidden"), "the log view says why in its body:\n{screen}");
    // Esc closes the view; q only once it is closed (Esc then q at once reads as Alt-q).
    term.send("\x1b");
    support::wait_until(Duration::from_secs(10), "the log view closed", || {
        let screen = term.contents();
        if screen.contains("may not read pods/log") { Err(screen) } else { Ok(()) }
    });
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "the dashboard did not exit on q");
    viewer.dashboard_log_clean();
}

#[test]
fn the_shipped_roles_only_read_and_never_secrets() {
    for file in ["clusterrole.yaml", "role.yaml"] {
        for role in shipped(file) {
            for rule in role["rules"].as_array().expect("rules") {
                let verbs: Vec<&str> =
                    rule["verbs"].as_array().expect("verbs").iter().filter_map(Value::as_str).collect();
                assert_eq!(verbs, ["get", "list", "watch"], "{file}: {rule}");
                let resources = rule["resources"].as_array().expect("resources");
                assert!(!resources.iter().any(|r| r == "secrets" || r == "*"), "{file}: {rule}");
                assert!(
                    !rule["apiGroups"].as_array().expect("groups").iter().any(|g| g == "*"),
                    "{file}: {rule}"
                );
            }
        }
    }
}
