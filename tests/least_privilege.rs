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
#[path = "support/viewer.rs"]
mod viewer;

use std::time::Duration;

use serde_json::{Value, json};
use viewer::{Viewer, flux_namespace, shipped, without};

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

/// Waits until some line of the screen holds every one of `parts`; returns that line.
fn wait_for_line(term: &pty::Terminal, parts: &[&str]) -> String {
    support::wait_until(Duration::from_secs(30), &format!("a line with {parts:?}"), || {
        let screen = term.contents();
        screen.lines().find(|l| parts.iter().all(|p| l.contains(p))).map(str::to_string).ok_or(screen)
    })
}

#[test]
fn the_dashboards_action_keys_are_refused_with_the_apis_reason() {
    let Some(admin) = support::cluster() else { return };
    let ns = flux_namespace(&admin);
    // The Kustomization's source, so that reconcile gets as far as its first write.
    admin.apply(&format!(
        r#"{{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"GitRepository",
  "metadata":{{"name":"infra","namespace":"{}"}},
  "spec":{{"url":"https://example.invalid/infra.git","interval":"5m","ref":{{"branch":"main"}}}}}}"#,
        ns.name
    ));
    let viewer = Viewer::bound_to(&admin, &ns.name, shipped("clusterrole.yaml"));
    let node = "shardwatch-worker3";
    // Wide enough for the API's whole reason in the footer.
    let mut term = viewer.dashboard_at(&ns.name, &["-n", &ns.name], 300);
    term.wait_for("shard3", Duration::from_secs(30));
    let confirm_and_read = |term: &mut pty::Terminal, what: &str, forbidden: &str| {
        // The question replaces the footer's last message, so the next "failed:" is new.
        term.wait_for("y/N", Duration::from_secs(10));
        term.send("y");
        let line = wait_for_line(term, &["failed:", forbidden]);
        assert!(line.contains("forbidden"), "{what}: the API's reason: {line}");
    };

    // s on the Shards panel: scale the selected shard.
    term.send("1");
    term.wait_for("Shards [", Duration::from_secs(10));
    term.send("s");
    confirm_and_read(&mut term, "scale", "cannot patch resource \"deployments/scale\"");

    // d on a node in Placement: drain (its cordon is refused first).
    term.send("2");
    term.wait_for("Placement [", Duration::from_secs(10));
    term.send("/worker3\r");
    term.wait_for("(Esc clears)", Duration::from_secs(10));
    term.send("d");
    confirm_and_read(&mut term, "drain", "cannot patch resource \"nodes\"");

    // r and s on the Kustomization in Dependencies: reconcile and suspend.
    term.send("3"); // a key clears the footer's message, so Esc then clears the filter
    term.wait_for("Dependencies [", Duration::from_secs(10));
    term.send("\x1b");
    term.wait_for("ks/app", Duration::from_secs(10));
    // Reconcile annotates the source first (then the Kustomization): the first refusal ends it.
    term.send("r");
    confirm_and_read(&mut term, "reconcile", "cannot patch resource \"");
    term.send("s");
    confirm_and_read(&mut term, "suspend", "cannot patch resource \"kustomizations\"");
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "the dashboard did not exit on q");
    viewer.dashboard_log_clean();

    // Nothing changed.
    let unschedulable =
        admin.kubectl(&["get", "node", node, "-o", "jsonpath={.spec.unschedulable}"]).expect("node");
    assert_ne!(unschedulable.trim(), "true", "the node was cordoned anyway");
    let replicas = admin
        .kubectl(&["-n", &ns.name, "get", "deploy", "-o", "jsonpath={.items[*].spec.replicas}"])
        .expect("deployments");
    assert!(replicas.split_whitespace().all(|r| r == "1"), "a Deployment was scaled anyway: {replicas}");
    let ks = admin.get_json(&["-n", &ns.name, "get", "kustomization", "app"]).expect("the Kustomization");
    assert_ne!(ks["spec"]["suspend"], Value::Bool(true), "the Kustomization was suspended anyway");
    assert!(
        ks["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].is_null(),
        "a reconcile was requested anyway: {}",
        ks["metadata"]["annotations"]
    );
    let source =
        admin.get_json(&["-n", &ns.name, "get", "gitrepository", "infra"]).expect("the GitRepository");
    assert!(
        source["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].is_null(),
        "the source's reconcile was requested anyway: {}",
        source["metadata"]["annotations"]
    );
}
