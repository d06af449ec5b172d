//! Where Flux's install comes from: the pure assembly from module files (small YAML written
//! here, shaped like the controllers' `config/` folders), the real Go modules from the
//! module proxy, a file, and clear errors when the `flux` CLI and downloaders are absent.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use shardwatch::bootstrap::flux_source::{
    FLUX_NAMESPACE, FLUX_VERSION, FluxSource, GO_MODULES, ModuleFiles, assemble, obtain, obtain_first,
};
use shardwatch::bootstrap::{ShardOptions, shard_install};

const CONTROLLERS: [&str; 4] =
    ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"];

fn crd(plural: &str, group: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.{group}\n\
         spec:\n  group: {group}\n  names: {{kind: Thing, plural: {plural}}}\n  scope: Namespaced\n  versions: []\n"
    )
}

fn deployment(controller: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {controller}\n  labels:\n    control-plane: controller\n\
         spec:\n  selector:\n    matchLabels:\n      app: {controller}\n  template:\n    metadata:\n      labels:\n\
         \x20       app: {controller}\n    spec:\n      containers:\n      - name: manager\n\
         \x20       image: fluxcd/{controller}\n        args: [--enable-leader-election]\n"
    )
}

const ROLE: &str = "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: manager-role\n\
                    rules:\n- apiGroups: ['']\n  resources: [events]\n  verbs: [create]\n";
const LEADER_ROLE: &str = "# leader election\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n\
                           \x20 name: leader-election-role\nrules:\n- apiGroups: [coordination.k8s.io]\n\
                           \x20 resources: [leases]\n  verbs: [get, create, update]\n";
const RECONCILER_BINDING: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n\
                                  \x20 name: cluster-reconciler\nroleRef: {apiGroup: rbac.authorization.k8s.io, \
                                  kind: ClusterRole, name: cluster-admin}\nsubjects: []\n";
const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: source-controller\nspec:\n  selector:\n\
                       \x20   app: source-controller\n  ports:\n  - {name: http, port: 80, targetPort: http}\n";

fn module(controller: &str, version: &str, extra: &[(&str, String)]) -> ModuleFiles {
    let mut files = vec![
        ("config/manager/deployment.yaml".to_string(), deployment(controller)),
        ("config/rbac/role.yaml".to_string(), ROLE.to_string()),
        ("config/rbac/leader_election_role.yaml".to_string(), LEADER_ROLE.to_string()),
    ];
    files.extend(extra.iter().map(|(p, t)| (p.to_string(), t.clone())));
    ModuleFiles { controller: controller.to_string(), version: version.to_string(), files }
}

/// Three modules shaped like Flux's: only source-controller has a Service, only kustomize-
/// and helm-controller bind a reconciler role.
fn modules() -> Vec<ModuleFiles> {
    vec![
        module(
            "source-controller",
            "v1.7.3",
            &[
                ("config/crd/bases/source_b.yaml", crd("buckets", "source.toolkit.fluxcd.io")),
                ("config/crd/bases/source_a.yaml", crd("gitrepositories", "source.toolkit.fluxcd.io")),
                ("config/manager/service.yaml", SERVICE.to_string()),
            ],
        ),
        module(
            "kustomize-controller",
            "v1.7.3",
            &[
                ("config/crd/bases/k.yaml", crd("kustomizations", "kustomize.toolkit.fluxcd.io")),
                ("config/rbac/cluster_role_binding.yaml", RECONCILER_BINDING.to_string()),
            ],
        ),
        module(
            "helm-controller",
            "v1.4.3",
            &[
                ("config/crd/bases/h.yaml", crd("helmreleases", "helm.toolkit.fluxcd.io")),
                ("config/rbac/cluster_role_binding.yaml", RECONCILER_BINDING.to_string()),
            ],
        ),
    ]
}

fn str_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn kind_name(object: &Value) -> String {
    format!("{}/{}", str_at(object, "/kind"), str_at(object, "/metadata/name"))
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects.iter().find(|o| str_at(o, "/kind") == kind && str_at(o, "/metadata/name") == name).unwrap_or_else(
        || panic!("{kind}/{name} missing from {:?}", objects.iter().map(kind_name).collect::<Vec<_>>()),
    )
}

/// What Flux's overlays guarantee on a controller's Deployment, for any install we assemble.
fn assert_flux_deployment(objects: &[Value], controller: &str, version: &str) {
    let d = find(objects, "Deployment", controller);
    assert_eq!(str_at(d, "/metadata/namespace"), FLUX_NAMESPACE);
    for labels in ["/metadata/labels", "/spec/template/metadata/labels"] {
        assert_eq!(
            str_at(d, &format!("{labels}/app.kubernetes.io~1part-of")),
            "flux",
            "{controller} {labels}"
        );
        assert_eq!(str_at(d, &format!("{labels}/app.kubernetes.io~1instance")), "flux-system");
        assert_eq!(str_at(d, &format!("{labels}/app.kubernetes.io~1version")), FLUX_VERSION);
        assert_eq!(str_at(d, &format!("{labels}/app.kubernetes.io~1component")), controller);
    }
    assert_eq!(str_at(d, "/spec/template/metadata/labels/app"), controller, "selector label kept");
    assert_eq!(str_at(d, "/spec/template/spec/serviceAccountName"), controller);
    assert_eq!(
        str_at(d, "/spec/template/spec/containers/0/image"),
        format!("ghcr.io/fluxcd/{controller}:{version}")
    );
}

#[test]
fn assembles_a_flux_shaped_install_from_module_files() {
    let objects = assemble(&modules()).unwrap();
    let names: Vec<String> = objects.iter().map(kind_name).collect();
    assert_eq!(
        names,
        [
            "Namespace/flux-system",
            // CRDs in path order within each module.
            "CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io",
            "CustomResourceDefinition/buckets.source.toolkit.fluxcd.io",
            "CustomResourceDefinition/kustomizations.kustomize.toolkit.fluxcd.io",
            "CustomResourceDefinition/helmreleases.helm.toolkit.fluxcd.io",
            "ServiceAccount/source-controller",
            "ServiceAccount/kustomize-controller",
            "ServiceAccount/helm-controller",
            "ServiceAccount/notification-controller",
            "ClusterRole/source-controller-flux-system",
            "ClusterRole/kustomize-controller-flux-system",
            "ClusterRole/helm-controller-flux-system",
            "ClusterRoleBinding/source-controller-flux-system",
            "ClusterRoleBinding/kustomize-controller-flux-system",
            "ClusterRoleBinding/helm-controller-flux-system",
            "ClusterRoleBinding/cluster-reconciler-flux-system",
            "Role/source-controller-leader-election",
            "Role/kustomize-controller-leader-election",
            "Role/helm-controller-leader-election",
            // The stand-in's own, so its process (the local kubelet runs one) can elect a leader.
            "Role/notification-controller-leader-election",
            "RoleBinding/source-controller-leader-election",
            "RoleBinding/kustomize-controller-leader-election",
            "RoleBinding/helm-controller-leader-election",
            "RoleBinding/notification-controller-leader-election",
            "Service/source-controller",
            "Service/notification-controller",
            "Deployment/source-controller",
            "Deployment/kustomize-controller",
            "Deployment/helm-controller",
            "Deployment/notification-controller",
        ]
    );

    for (controller, version) in [
        ("source-controller", "v1.7.3"),
        ("kustomize-controller", "v1.7.3"),
        ("helm-controller", "v1.4.3"),
        ("notification-controller", "v1.7.4"),
    ] {
        assert_flux_deployment(&objects, controller, version);
    }
    // Every object carries part-of/instance/version; namespaced ones live in flux-system;
    // a controller's own objects also carry its component.
    for o in &objects {
        assert_eq!(str_at(o, "/metadata/labels/app.kubernetes.io~1part-of"), "flux", "{}", kind_name(o));
        assert_eq!(str_at(o, "/metadata/labels/app.kubernetes.io~1version"), FLUX_VERSION);
        let kind = str_at(o, "/kind");
        let cluster_scoped = ["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"];
        let expected_ns = if cluster_scoped.contains(&kind) { "" } else { FLUX_NAMESPACE };
        assert_eq!(str_at(o, "/metadata/namespace"), expected_ns, "{}", kind_name(o));
    }
    let crd = find(&objects, "CustomResourceDefinition", "helmreleases.helm.toolkit.fluxcd.io");
    assert_eq!(str_at(crd, "/metadata/labels/app.kubernetes.io~1component"), "helm-controller");
    let service = find(&objects, "Service", "source-controller");
    assert_eq!(str_at(service, "/metadata/labels/app.kubernetes.io~1component"), "source-controller");

    // RBAC: per-controller roles bound to the controller's account, reconcilers get cluster-admin.
    let binding = find(&objects, "ClusterRoleBinding", "helm-controller-flux-system");
    assert_eq!(str_at(binding, "/roleRef/name"), "helm-controller-flux-system");
    assert_eq!(str_at(binding, "/subjects/0/name"), "helm-controller");
    assert_eq!(str_at(binding, "/subjects/0/namespace"), FLUX_NAMESPACE);
    let reconciler = find(&objects, "ClusterRoleBinding", "cluster-reconciler-flux-system");
    assert_eq!(str_at(reconciler, "/roleRef/name"), "cluster-admin");
    let subjects: Vec<&str> =
        reconciler["subjects"].as_array().unwrap().iter().map(|s| str_at(s, "/name")).collect();
    assert_eq!(subjects, ["kustomize-controller", "helm-controller"]);
    let leader = find(&objects, "RoleBinding", "source-controller-leader-election");
    assert_eq!(str_at(leader, "/roleRef/kind"), "Role");
    assert_eq!(str_at(leader, "/roleRef/name"), "source-controller-leader-election");
    let role = find(&objects, "Role", "source-controller-leader-election");
    assert_eq!(str_at(role, "/rules/0/resources/0"), "leases", "rules come from the module");
    let stand_in = find(&objects, "RoleBinding", "notification-controller-leader-election");
    assert_eq!(str_at(stand_in, "/subjects/0/name"), "notification-controller");
    let stand_in = find(&objects, "Role", "notification-controller-leader-election");
    assert_eq!(str_at(stand_in, "/rules/0/resources/0"), "leases");

    // Controllers send events to notification-controller, as in Flux's install; it does not.
    let args = |c: &str| {
        find(&objects, "Deployment", c)["spec"]["template"]["spec"]["containers"][0]["args"].clone()
    };
    let events = "--events-addr=http://notification-controller.flux-system.svc.cluster.local./";
    assert!(args("kustomize-controller").as_array().unwrap().iter().any(|a| a == events));
    assert!(!args("notification-controller").as_array().unwrap().iter().any(|a| a == events));

    let sharded = shard_install(&objects, &ShardOptions::default()).unwrap();
    assert_eq!(sharded.iter().filter(|o| str_at(o, "/kind") == "Deployment").count(), 13);
}

#[test]
fn a_notification_controller_module_replaces_the_stand_in() {
    let mut mods = modules();
    mods.push(module(
        "notification-controller",
        "v9.9.9",
        &[("config/crd/bases/n.yaml", crd("alerts", "n.io"))],
    ));
    let objects = assemble(&mods).unwrap();
    assert_flux_deployment(&objects, "notification-controller", "v9.9.9");
    let count = objects.iter().filter(|o| kind_name(o) == "Deployment/notification-controller").count();
    assert_eq!(count, 1);
}

#[test]
fn assembly_errors_name_the_module_and_file() {
    let err = |mods: Vec<ModuleFiles>| format!("{:#}", assemble(&mods).unwrap_err());

    let mut mods = modules();
    mods[1].files.retain(|(p, _)| p != "config/manager/deployment.yaml");
    let e = err(mods);
    assert!(e.contains("github.com/fluxcd/kustomize-controller@v1.7.3"), "{e}");
    assert!(e.contains("config/manager/deployment.yaml is missing"), "{e}");

    let mut mods = modules();
    mods[2].files.retain(|(p, _)| !p.starts_with("config/crd/"));
    assert!(err(mods).contains("no CRD in config/crd/bases/"));

    let mut mods = modules();
    mods[0].files[0].1 = deployment("source-controller").replace("image: fluxcd/", "image: example.com/");
    let e = err(mods);
    assert!(e.contains("no container uses the image fluxcd/source-controller"), "{e}");

    let mut mods = modules();
    mods[0].files.push(("config/crd/bases/z.yaml".into(), "a: [broken\n".into()));
    let e = err(mods);
    assert!(e.contains("config/crd/bases/z.yaml: YAML document 1 is invalid"), "{e}");

    let mut mods = modules();
    mods[2].files[2].1 = ROLE.to_string();
    let e = err(mods);
    assert!(e.contains("config/rbac/leader_election_role.yaml holds no Role"), "{e}");

    let mut mods = modules();
    mods.push(modules().remove(0));
    assert_eq!(err(mods), "controller source-controller is given twice");
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn temp_path(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("shardwatch-flux-source-{}-{n}-{name}", std::process::id()))
}

/// The real thing: Flux's controllers from the Go module proxy, assembled and sharded.
#[tokio::test]
async fn go_modules_give_an_install_the_shard_transform_accepts() {
    if Command::new("go").arg("version").output().is_err() {
        assert!(!is_ci(), "the `go` command is required under CI=true");
        eprintln!("skipped: the `go` command is not on PATH");
        return;
    }
    let mut log = Vec::new();
    let objects = obtain(&FluxSource::GoModules, &mut |line: &str| log.push(line.to_string())).await.unwrap();
    assert!(log.iter().any(|l| l.starts_with("go mod download")), "{log:?}");

    for (controller, version) in GO_MODULES.iter().copied().chain([("notification-controller", "v1.7.4")]) {
        assert_flux_deployment(&objects, controller, version);
    }
    let deployments: Vec<&str> = objects
        .iter()
        .filter(|o| str_at(o, "/kind") == "Deployment")
        .map(|o| str_at(o, "/metadata/name"))
        .collect();
    assert_eq!(deployments, CONTROLLERS);
    for crd in [
        "kustomizations.kustomize.toolkit.fluxcd.io",
        "helmreleases.helm.toolkit.fluxcd.io",
        "gitrepositories.source.toolkit.fluxcd.io",
        "ocirepositories.source.toolkit.fluxcd.io",
        "helmrepositories.source.toolkit.fluxcd.io",
        "helmcharts.source.toolkit.fluxcd.io",
        "buckets.source.toolkit.fluxcd.io",
    ] {
        let crd = find(&objects, "CustomResourceDefinition", crd);
        assert_eq!(str_at(crd, "/metadata/labels/app.kubernetes.io~1part-of"), "flux");
    }
    // Only source-controller ships a Service in its module; helm and kustomize have none.
    let services: Vec<String> =
        objects.iter().filter(|o| str_at(o, "/kind") == "Service").map(kind_name).collect();
    assert_eq!(services, ["Service/source-controller", "Service/notification-controller"]);

    let sharded = shard_install(&objects, &ShardOptions::default()).unwrap();
    assert_eq!(sharded.iter().filter(|o| str_at(o, "/kind") == "Deployment").count(), 13);
}

#[tokio::test]
async fn a_file_source_is_parsed_and_checked() {
    let path = temp_path("install.yaml");
    let text = shardwatch::bootstrap::to_documents(&assemble(&modules()).unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    let objects = obtain(&FluxSource::File(path.clone()), &mut |_: &str| {}).await.unwrap();
    assert_eq!(objects, assemble(&modules()).unwrap());

    // A YAML file that is not a Flux install is refused before the shard transform.
    std::fs::write(&path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n").unwrap();
    let err = format!("{:#}", obtain(&FluxSource::File(path.clone()), &mut |_: &str| {}).await.unwrap_err());
    assert!(err.contains("did not give a usable Flux install"), "{err}");
    assert!(
        err.contains("no Deployment named source-controller, kustomize-controller, helm-controller"),
        "{err}"
    );
    std::fs::remove_file(&path).unwrap();

    let err = format!("{:#}", obtain(&FluxSource::File(path.clone()), &mut |_: &str| {}).await.unwrap_err());
    assert!(err.contains(&format!("cannot read {}", path.display())), "{err}");
}

const CHILD_ENV: &str = "SHARDWATCH_FLUX_SOURCE_CHILD";

/// Runs [`without_tools_child`] in a copy of this test binary whose PATH is an empty folder,
/// so neither `flux` nor curl/wget can be found (changing PATH in-process would race other tests).
#[test]
fn without_flux_or_downloaders_the_errors_say_why() {
    let empty = temp_path("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "without_tools_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env("PATH", &empty)
        .output()
        .unwrap();
    std::fs::remove_dir(&empty).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("1 passed"), "the child test did not run: {stdout}");
}

#[tokio::test]
async fn without_tools_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return; // Only meaningful inside `without_flux_or_downloaders_the_errors_say_why`.
    }
    let err = format!("{:#}", obtain(&FluxSource::FluxCli, &mut |_: &str| {}).await.unwrap_err());
    assert_eq!(err, "cannot get Flux's install from `flux install --export`: `flux` is not on PATH");

    let err = format!("{:#}", obtain(&FluxSource::Release, &mut |_: &str| {}).await.unwrap_err());
    assert!(err.contains("neither curl nor wget is on PATH"), "{err}");
    assert!(err.contains(&format!("releases/download/{FLUX_VERSION}/install.yaml")), "{err}");

    let mut log = Vec::new();
    let order = [FluxSource::FluxCli, FluxSource::Release];
    let err = obtain_first(&order, &mut |l: &str| log.push(l.to_string())).await.unwrap_err().to_string();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "no source gave Flux's install manifests:");
    assert_eq!(lines[1], "- cannot get Flux's install from `flux install --export`: `flux` is not on PATH");
    assert!(
        lines[2]
            .starts_with("- cannot get Flux's install from Flux v2.7.3 release install.yaml: neither curl")
    );
    let last = log.last().unwrap();
    assert!(
        last.starts_with("cannot get Flux's install from Flux v2.7.3") && last.ends_with("; no source left")
    );
}

#[tokio::test]
async fn obtain_first_returns_the_first_source_that_works() {
    let path = temp_path("first.yaml");
    std::fs::write(&path, shardwatch::bootstrap::to_documents(&assemble(&modules()).unwrap()).unwrap())
        .unwrap();
    let missing = FluxSource::File(temp_path("missing.yaml"));
    let good = FluxSource::File(path.clone());
    let mut log = Vec::new();
    let (source, objects) =
        obtain_first(&[missing.clone(), good.clone()], &mut |l: &str| log.push(l.to_string())).await.unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(source, good);
    assert_eq!(objects.len(), assemble(&modules()).unwrap().len());
    let expected = format!("cannot get Flux's install from {missing}: cannot read ");
    assert!(
        log.iter().any(|l| l.starts_with(&expected) && l.ends_with("; trying the next source")),
        "{log:?}"
    );
    assert!(obtain_first(&[], &mut |_: &str| {}).await.is_err());
}
