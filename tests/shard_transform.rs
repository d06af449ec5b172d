//! The shard transform against a Flux-shaped install: golden renders for 1, 3 and 5 shards in
//! both placements, focused checks of the recipe, and a parse of the `manifests/` layer.
//!
//! `UPDATE_GOLDEN=1 cargo test --test shard_transform` rewrites `tests/golden/`; review the
//! diff before committing it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use shardwatch::bootstrap::render::{COMPONENTS_FILE, GENERATED_MARK, KUSTOMIZATION_FILE};
use shardwatch::bootstrap::{
    Placement, ShardError, ShardOptions, parse_documents, render, shard_install, to_documents, write_dir,
};

const KEY: &str = "sharding.fluxcd.io/key";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> Vec<Value> {
    let text = fs::read_to_string(root().join("tests/fixtures/flux-install/install.yaml")).unwrap();
    parse_documents(&text).unwrap()
}

fn options(shards: usize, placement: Placement) -> ShardOptions {
    ShardOptions { placement, ..ShardOptions::numbered(shards) }
}

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or("")
}

fn kind(o: &Value) -> &str {
    o["kind"].as_str().unwrap_or("")
}

fn of_kind<'a>(objects: &'a [Value], k: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| kind(o) == k).collect()
}

fn find<'a>(objects: &'a [Value], k: &str, n: &str) -> &'a Value {
    objects.iter().find(|o| kind(o) == k && name(o) == n).unwrap_or_else(|| panic!("no {k} {n}"))
}

fn args(deployment: &Value) -> Vec<&str> {
    deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn flag<'a>(deployment: &'a Value, flag: &str) -> Vec<&'a str> {
    let prefix = format!("{flag}=");
    args(deployment).into_iter().filter_map(|a| a.strip_prefix(prefix.as_str())).collect()
}

// ---------------------------------------------------------------- golden files

fn check_golden(shards: usize, placement: Placement) {
    let opts = options(shards, placement);
    let files = render(&shard_install(&fixture(), &opts).unwrap(), &opts).unwrap();
    let dir = root().join(format!("tests/golden/shards-{shards}-{placement}"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = fs::remove_dir_all(&dir);
        write_dir(&dir, &files, false).unwrap();
        return;
    }
    let hint = "run `UPDATE_GOLDEN=1 cargo test --test shard_transform` to rewrite, then review the git diff";
    let mut on_disk: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}; {hint}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut rendered: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    rendered.sort();
    assert_eq!(on_disk, rendered, "file set differs in {}; {hint}", dir.display());
    for (file, text) in &files {
        let expected = fs::read_to_string(dir.join(file)).unwrap();
        if &expected != text {
            let line = expected.lines().zip(text.lines()).position(|(a, b)| a != b);
            let line = line.unwrap_or_else(|| expected.lines().count().min(text.lines().count()));
            panic!(
                "{}/{file} differs from the render at line {}:\n  golden: {:?}\n  render: {:?}\n{hint}",
                dir.display(),
                line + 1,
                expected.lines().nth(line).unwrap_or("<end of file>"),
                text.lines().nth(line).unwrap_or("<end of file>"),
            );
        }
    }
}

#[test]
fn golden_1_shard_required() {
    check_golden(1, Placement::Required);
}

#[test]
fn golden_1_shard_preferred() {
    check_golden(1, Placement::Preferred);
}

#[test]
fn golden_3_shards_required() {
    check_golden(3, Placement::Required);
}

#[test]
fn golden_3_shards_preferred() {
    check_golden(3, Placement::Preferred);
}

#[test]
fn golden_5_shards_required() {
    check_golden(5, Placement::Required);
}

#[test]
fn golden_5_shards_preferred() {
    check_golden(5, Placement::Preferred);
}

// ---------------------------------------------------------------- the recipe

#[test]
fn three_shards_give_the_seeds_thirteen_deployments() {
    let out = shard_install(&fixture(), &ShardOptions::default()).unwrap();
    let mut names: Vec<&str> = of_kind(&out, "Deployment").into_iter().map(name).collect();
    names.sort();
    let mut expected = vec!["notification-controller"];
    let copies: Vec<String> = ["helm-controller", "kustomize-controller", "source-controller"]
        .iter()
        .flat_map(|c| ["", "-shard1", "-shard2", "-shard3"].map(|s| format!("{c}{s}")))
        .collect();
    expected.extend(copies.iter().map(String::as_str));
    expected.sort();
    assert_eq!(names, expected);

    for controller in ["source-controller", "kustomize-controller", "helm-controller"] {
        let main = find(&out, "Deployment", controller);
        assert_eq!(flag(main, "--watch-label-selector"), vec![format!("!{KEY}")]);
        assert_eq!(main["spec"]["selector"]["matchLabels"]["app"], controller);
        assert!(main["spec"]["template"]["spec"].get("affinity").is_none(), "main stays unpinned");
        for shard in ["shard1", "shard2", "shard3"] {
            let copy_name = format!("{controller}-{shard}");
            let copy = find(&out, "Deployment", &copy_name);
            assert_eq!(flag(copy, "--watch-label-selector"), vec![format!("{KEY}={shard}")]);
            assert_eq!(copy["spec"]["selector"]["matchLabels"]["app"], copy_name.as_str());
            assert_eq!(copy["spec"]["template"]["metadata"]["labels"]["app"], copy_name.as_str());
            assert_eq!(copy["metadata"]["annotations"]["sharding.fluxcd.io/role"], "shard");
            // `flux check` and `flux logs` find controllers by these, so copies keep them.
            assert_eq!(copy["metadata"]["labels"]["app.kubernetes.io/component"], controller);
            assert_eq!(copy["metadata"]["labels"]["app.kubernetes.io/part-of"], "flux");
            let required = &copy["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
            assert_eq!(
                required["nodeSelectorTerms"],
                json!([{"matchExpressions": [{"key": KEY, "operator": "In", "values": [shard]}]}])
            );
            // Everything else is the main controller's: same args apart from the two flags.
            assert_eq!(args(copy).len(), args(main).len());
        }
    }
    let notification = find(&out, "Deployment", "notification-controller");
    assert_eq!(notification, find(&fixture(), "Deployment", "notification-controller"));
}

#[test]
fn source_shards_get_their_own_service_and_address() {
    let out = shard_install(&fixture(), &ShardOptions::default()).unwrap();
    let services: Vec<&str> = of_kind(&out, "Service").into_iter().map(name).collect();
    assert_eq!(
        services,
        [
            "notification-controller",
            "source-controller",
            "source-controller-shard1",
            "source-controller-shard2",
            "source-controller-shard3",
            "webhook-receiver"
        ]
    );
    for shard in ["shard1", "shard2", "shard3"] {
        let svc = find(&out, "Service", &format!("source-controller-{shard}"));
        assert_eq!(svc["spec"]["selector"], json!({"app": format!("source-controller-{shard}")}));
        assert_eq!(
            svc["spec"]["ports"],
            json!([{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}])
        );
        assert_eq!(svc["metadata"]["annotations"]["sharding.fluxcd.io/role"], "shard");
        let deployment = find(&out, "Deployment", &format!("source-controller-{shard}"));
        assert_eq!(
            flag(deployment, "--storage-adv-addr"),
            vec![format!("source-controller-{shard}.$(RUNTIME_NAMESPACE).svc.cluster.local.")]
        );
    }
    let main = find(&out, "Deployment", "source-controller");
    assert_eq!(
        flag(main, "--storage-adv-addr"),
        vec!["source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local."]
    );
    for helm in ["helm-controller-shard1", "kustomize-controller-shard2"] {
        assert!(flag(find(&out, "Deployment", helm), "--storage-adv-addr").is_empty());
    }
}

#[test]
fn preferred_placement_allows_failover() {
    let out = shard_install(&fixture(), &options(3, Placement::Preferred)).unwrap();
    let affinity =
        &find(&out, "Deployment", "helm-controller-shard2")["spec"]["template"]["spec"]["affinity"];
    assert_eq!(
        affinity["nodeAffinity"],
        json!({"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100,
            "preference": {"matchExpressions": [{"key": KEY, "operator": "In", "values": ["shard2"]}]}
        }]})
    );
}

#[test]
fn cluster_and_shared_objects_are_not_copied_or_changed() {
    let input = fixture();
    let out = shard_install(&input, &options(5, Placement::Required)).unwrap();
    for object in &input {
        if matches!(kind(object), "Deployment" | "Service") {
            continue;
        }
        let copies =
            out.iter().filter(|o| kind(o) == kind(object) && name(o).starts_with(name(object))).count();
        assert_eq!(copies, 1, "{} {} copied", kind(object), name(object));
        assert!(out.contains(object), "{} {} changed", kind(object), name(object));
    }
    assert_eq!(of_kind(&out, "CustomResourceDefinition").len(), 1);
    assert_eq!(of_kind(&out, "ServiceAccount").len(), 4);
    assert_eq!(out.len(), input.len() + 5 * 4);
}

#[test]
fn output_order_follows_the_input_with_copies_after_their_original() {
    let out = shard_install(&fixture(), &options(2, Placement::Required)).unwrap();
    let names: Vec<String> = out.iter().map(|o| format!("{}/{}", kind(o), name(o))).collect();
    let position = |n: &str| names.iter().position(|x| x == n).unwrap();
    for controller in ["source-controller", "kustomize-controller", "helm-controller"] {
        let main = position(&format!("Deployment/{controller}"));
        assert_eq!(names[main + 1], format!("Deployment/{controller}-shard1"));
        assert_eq!(names[main + 2], format!("Deployment/{controller}-shard2"));
    }
    let svc = position("Service/source-controller");
    assert_eq!(
        names[svc + 1..svc + 3],
        ["Service/source-controller-shard1", "Service/source-controller-shard2"]
    );
    assert_eq!(names[0], "Namespace/flux-system");
}

#[test]
fn existing_flags_are_replaced_not_duplicated() {
    let mut input = fixture();
    for object in input.iter_mut().filter(|o| kind(o) == "Deployment" && name(o) == "source-controller") {
        let args = object["spec"]["template"]["spec"]["containers"][0]["args"].as_array_mut().unwrap();
        args.push(json!("--watch-label-selector=team=a"));
        args.push(json!("--watch-label-selector"));
        args.push(json!("team=b"));
    }
    let out = shard_install(&input, &ShardOptions::default()).unwrap();
    for n in ["source-controller", "source-controller-shard1", "source-controller-shard3"] {
        let deployment = find(&out, "Deployment", n);
        assert_eq!(flag(deployment, "--watch-label-selector").len(), 1, "{n}: {:?}", args(deployment));
        assert_eq!(flag(deployment, "--storage-adv-addr").len(), 1, "{n}");
        assert!(!args(deployment).contains(&"team=b"), "{n}");
    }
}

#[test]
fn sharding_a_sharded_install_changes_nothing() {
    for placement in [Placement::Required, Placement::Preferred] {
        let opts = options(3, placement);
        let once = shard_install(&fixture(), &opts).unwrap();
        assert_eq!(shard_install(&once, &opts).unwrap(), once);
    }
    // Fewer shards than last time: the extra copies go.
    let five = shard_install(&fixture(), &options(5, Placement::Preferred)).unwrap();
    let three = options(3, Placement::Required);
    assert_eq!(shard_install(&five, &three).unwrap(), shard_install(&fixture(), &three).unwrap());
}

#[test]
fn a_custom_label_key_and_namespace_are_used_throughout() {
    let text = fs::read_to_string(root().join("tests/fixtures/flux-install/install.yaml"))
        .unwrap()
        .replace("flux-system", "gitops");
    let opts = ShardOptions {
        shards: vec!["eu".into(), "us".into()],
        label_key: "example.com/shard".into(),
        namespace: "gitops".into(),
        ..ShardOptions::default()
    };
    let out = shard_install(&parse_documents(&text).unwrap(), &opts).unwrap();
    let us = find(&out, "Deployment", "kustomize-controller-us");
    assert_eq!(flag(us, "--watch-label-selector"), vec!["example.com/shard=us"]);
    assert_eq!(us["metadata"]["namespace"], "gitops");
    let expr = &us["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"][0]["matchExpressions"][0];
    assert_eq!(expr["key"], "example.com/shard");
    assert_eq!(
        flag(find(&out, "Deployment", "helm-controller"), "--watch-label-selector"),
        vec!["!example.com/shard"]
    );
    // The install in flux-system is not what these options look for.
    assert!(matches!(
        shard_install(&fixture(), &opts),
        Err(ShardError::MissingDeployment { namespace, .. }) if namespace == "gitops"
    ));
}

#[test]
fn a_missing_controller_or_service_is_an_error() {
    let without = |k: &str, n: &str| -> Vec<Value> {
        fixture().into_iter().filter(|o| !(kind(o) == k && name(o) == n)).collect()
    };
    let opts = ShardOptions::default();
    assert_eq!(
        shard_install(&without("Deployment", "helm-controller"), &opts),
        Err(ShardError::MissingDeployment {
            namespace: "flux-system".into(),
            name: "helm-controller".into()
        })
    );
    assert_eq!(
        shard_install(&without("Service", "source-controller"), &opts),
        Err(ShardError::MissingService { namespace: "flux-system".into(), name: "source-controller".into() })
    );
    // notification-controller is not sharded, so the transform does not need it.
    assert!(shard_install(&without("Deployment", "notification-controller"), &opts).is_ok());
    let err = shard_install(&without("Deployment", "source-controller"), &opts).unwrap_err();
    assert_eq!(err.to_string(), "Deployment flux-system/source-controller not found in the Flux install");
}

#[test]
fn odd_input_gives_errors_not_panics() {
    let opts = ShardOptions::default();
    let edit = |f: &dyn Fn(&mut Value)| -> Result<Vec<Value>, ShardError> {
        let mut input = fixture();
        for o in input.iter_mut().filter(|o| kind(o) == "Deployment" && name(o) == "kustomize-controller") {
            f(o);
        }
        shard_install(&input, &opts)
    };
    assert_eq!(
        edit(&|o| o["spec"]["template"]["spec"]["containers"] = json!([])),
        Err(ShardError::NoContainer { name: "kustomize-controller".into() })
    );
    assert!(matches!(
        edit(&|o| o["spec"]["template"]["spec"]["containers"] = json!("manager")),
        Err(ShardError::Malformed { .. })
    ));
    assert!(matches!(edit(&|o| o["spec"]["selector"] = json!(3)), Err(ShardError::Malformed { .. })));
    assert!(matches!(
        edit(&|o| o["spec"]["template"]["spec"]["containers"][0]["args"] = json!({"a": 1})),
        Err(ShardError::Malformed { .. })
    ));
    // Missing args and non-string args are tolerated.
    assert!(edit(&|o| o["spec"]["template"]["spec"]["containers"][0]["args"] = Value::Null).is_ok());
    let mut duplicated = fixture();
    duplicated.push(find(&fixture(), "Deployment", "helm-controller").clone());
    assert!(matches!(shard_install(&duplicated, &opts), Err(ShardError::DuplicateObject { .. })));
    // Objects that are not Kubernetes-shaped pass through untouched.
    let mut strange = fixture();
    strange.extend([json!(42), json!({"kind": 7}), json!({"metadata": "x"}), json!(null)]);
    let out = shard_install(&strange, &opts).unwrap();
    assert_eq!(out[out.len() - 4..], strange[strange.len() - 4..]);
    assert!(matches!(shard_install(&fixture(), &options(0, Placement::Required)), Err(ShardError::NoShards)));
}

#[test]
fn the_dashboard_reads_the_copies_as_their_shards() {
    use k8s_openapi::api::apps::v1::Deployment as KDeployment;
    use k8s_openapi::api::core::v1::Service as KService;
    for placement in [Placement::Required, Placement::Preferred] {
        let out = shard_install(&fixture(), &options(3, placement)).unwrap();
        // Typed parsing catches a misshapen field (say an affinity term) that YAML would accept.
        for service in of_kind(&out, "Service") {
            serde_json::from_value::<KService>(service.clone()).unwrap();
        }
        for object in of_kind(&out, "Deployment") {
            let typed: KDeployment = serde_json::from_value(object.clone()).unwrap();
            let trimmed = shardwatch::cluster::trim::deployment(&typed, KEY);
            let shard = name(object).rsplit_once("-shard").map(|(_, n)| format!("shard{n}"));
            let Some(shard) = shard else {
                let expected = (name(object) != "notification-controller").then(|| format!("!{KEY}"));
                assert_eq!(trimmed.watch_label_selector, expected, "{}", name(object));
                continue;
            };
            assert_eq!(trimmed.watch_label_selector, Some(format!("{KEY}={shard}")));
            assert_eq!(trimmed.shard_role.as_deref(), Some("shard"));
            let (required, preferred) = match placement {
                Placement::Required => (vec![shard], vec![]),
                Placement::Preferred => (vec![], vec![shard]),
            };
            assert_eq!((trimmed.required_node_shards, trimmed.preferred_node_shards), (required, preferred));
        }
    }
}

// ---------------------------------------------------------------- render and write_dir

#[test]
fn rendered_files_parse_back_to_the_sharded_set() {
    let opts = ShardOptions::default();
    let sharded = shard_install(&fixture(), &opts).unwrap();
    let files = render(&sharded, &opts).unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [COMPONENTS_FILE, "shard-shard1.yaml", "shard-shard2.yaml", "shard-shard3.yaml", KUSTOMIZATION_FILE]
    );
    let mut objects = Vec::new();
    for (_, text) in &files[..files.len() - 1] {
        assert!(text.starts_with(GENERATED_MARK));
        objects.extend(parse_documents(text).unwrap());
    }
    // Same objects, grouped by file rather than in transform order.
    let key = |o: &Value| format!("{}/{}", kind(o), name(o));
    let sorted = |v: &[Value]| v.iter().map(|o| (key(o), o.clone())).collect::<BTreeMap<_, _>>();
    assert_eq!(objects.len(), sharded.len());
    assert_eq!(sorted(&objects), sorted(&sharded));
    let kustomization = &parse_documents(&files[files.len() - 1].1).unwrap()[0];
    assert_eq!(kustomization["resources"], json!(names[..names.len() - 1]));
    let shard2 = parse_documents(&files[2].1).unwrap();
    let shard2_names: Vec<&str> = shard2.iter().map(name).collect();
    assert_eq!(
        shard2_names,
        [
            "source-controller-shard2",
            "helm-controller-shard2",
            "kustomize-controller-shard2",
            "source-controller-shard2"
        ]
    );
    assert_eq!(parse_documents(&to_documents(&sharded).unwrap()).unwrap(), sharded);
}

#[test]
fn write_dir_refuses_non_empty_dirs_and_forced_writes_drop_only_stale_generated_files() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("shard-render-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let render_n = |n: usize| {
        let opts = options(n, Placement::Required);
        render(&shard_install(&fixture(), &opts).unwrap(), &opts).unwrap()
    };
    write_dir(&dir, &render_n(3), false).unwrap();
    assert!(dir.join("shard-shard3.yaml").is_file());
    fs::write(dir.join("notes.yaml"), "mine: true\n").unwrap();
    let err = write_dir(&dir, &render_n(2), false).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    write_dir(&dir, &render_n(2), true).unwrap();
    assert!(!dir.join("shard-shard3.yaml").exists(), "a dropped shard's file is removed");
    assert!(dir.join("shard-shard2.yaml").is_file());
    assert_eq!(fs::read_to_string(dir.join("notes.yaml")).unwrap(), "mine: true\n");
    let unsafe_name = vec![("../x.yaml".to_string(), String::new())];
    assert!(write_dir(&dir, &unsafe_name, true).is_err());
    fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------- manifests/

/// Every YAML document under `manifests/`, by path relative to it.
fn infra_documents() -> BTreeMap<String, Vec<Value>> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, Vec<Value>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // A chart's files are Helm templates and values, not objects, until rendered.
                if path.file_name().is_some_and(|n| n == "charts") {
                    continue;
                }
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let text = with_shard_defaults(&fs::read_to_string(&path).unwrap());
                let rel = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                let docs = parse_documents(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
                out.insert(rel, docs);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&root().join("manifests"), &root().join("manifests"), &mut out);
    out
}

/// The text as Flux applies it when no shard variable is given: `${SHARDWATCH_SHARD…:=default}`
/// becomes its default (`up` gives them values; see infra_layer.rs).
fn with_shard_defaults(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${SHARDWATCH_SHARD") {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("a closing brace");
        let default = rest[start..end].split_once(":=").map_or("", |(_, d)| d);
        out.push_str(default);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn shard_label(o: &Value) -> Option<&str> {
    o["metadata"]["labels"][KEY].as_str()
}

#[test]
fn infra_layers_are_chained_and_spread_over_the_shards() {
    let docs = infra_documents();
    let layers = &docs["clusters/local/infrastructure.yaml"];
    let summary: Vec<(&str, Option<&str>, Value)> =
        layers.iter().map(|k| (name(k), shard_label(k), k["spec"]["dependsOn"].clone())).collect();
    assert_eq!(
        summary,
        [
            ("infra-sources", Some("shard1"), Value::Null),
            ("infra-controllers", Some("shard2"), json!([{"name": "infra-sources"}])),
            ("infra-configs", Some("shard3"), json!([{"name": "infra-controllers"}])),
        ]
    );
    for layer in layers {
        assert_eq!(layer["apiVersion"], "kustomize.toolkit.fluxcd.io/v1");
        assert_eq!(layer["metadata"]["namespace"], "flux-system");
        assert_eq!(layer["spec"]["sourceRef"], json!({"kind": "GitRepository", "name": "shardwatch-infra"}));
        assert_eq!(layer["spec"]["wait"], true, "{}", name(layer));
        // The path exists and its kustomization.yaml lists files that exist.
        let path = layer["spec"]["path"].as_str().unwrap().trim_start_matches("./");
        let rel = path.strip_prefix("manifests/").unwrap();
        let kustomization = &docs[&format!("{rel}/kustomization.yaml")][0];
        for resource in kustomization["resources"].as_array().unwrap() {
            let file = format!("{rel}/{}", resource.as_str().unwrap());
            assert!(docs.contains_key(&file), "{file} listed but missing");
        }
    }
}

#[test]
fn helm_releases_share_their_shard_with_repository_and_chart() {
    let docs = infra_documents();
    let all: Vec<&Value> =
        docs.iter().filter(|(path, _)| path.starts_with("infrastructure/")).flat_map(|(_, d)| d).collect();
    let repositories: BTreeMap<&str, &Value> =
        all.iter().filter(|o| kind(o) == "HelmRepository").map(|o| (name(o), *o)).collect();
    assert_eq!(repositories["jetstack"]["spec"]["url"], "https://charts.jetstack.io");
    assert_eq!(
        repositories["zalando"]["spec"]["url"],
        "https://opensource.zalando.com/postgres-operator/charts/postgres-operator"
    );
    let releases: BTreeMap<&str, &Value> =
        all.iter().filter(|o| kind(o) == "HelmRelease").map(|o| (name(o), *o)).collect();
    assert_eq!(releases.keys().copied().collect::<Vec<_>>(), ["cert-manager", "postgres-operator"]);
    let mut shards = Vec::new();
    for (n, release) in &releases {
        assert_eq!(release["metadata"]["namespace"], *n);
        let source = &release["spec"]["chart"]["spec"]["sourceRef"];
        let repository = repositories[source["name"].as_str().unwrap()];
        assert_eq!(source["namespace"], repository["metadata"]["namespace"]);
        let shard = shard_label(release).unwrap_or_else(|| panic!("{n} has no shard label"));
        assert_eq!(shard_label(repository), Some(shard), "{n}: repository on another shard");
        assert_eq!(release["spec"]["chart"]["metadata"]["labels"][KEY], shard, "{n}: HelmChart shard");
        shards.push(shard);
        // The release's namespace is created in the same layer.
        assert!(all.iter().any(|o| kind(o) == "Namespace" && name(o) == *n), "{n}: namespace");
    }
    assert_eq!(shards, ["shard2", "shard3"]);
    assert_eq!(releases["cert-manager"]["spec"]["values"], json!({"crds": {"enabled": true}}));
    let postgres = &releases["postgres-operator"]["spec"];
    assert_eq!(postgres["install"]["crds"], "CreateReplace");
    assert_eq!(postgres["upgrade"]["crds"], "CreateReplace");
    assert!(all.iter().any(|o| kind(o) == "ClusterIssuer"));
}

#[test]
fn offline_releases_take_the_stand_in_chart_from_a_git_source_on_their_own_shard() {
    let docs = infra_documents();
    let all: Vec<&Value> =
        docs.iter().filter(|(path, _)| path.starts_with("offline/")).flat_map(|(_, d)| d).collect();
    let sources: BTreeMap<&str, &Value> =
        all.iter().filter(|o| kind(o) == "GitRepository").map(|o| (name(o), *o)).collect();
    let releases: Vec<&Value> = all.iter().copied().filter(|o| kind(o) == "HelmRelease").collect();
    let names: Vec<&str> = releases.iter().map(|r| name(r)).collect();
    assert_eq!(names, ["cert-manager", "postgres-operator"]);
    for release in releases {
        let n = name(release);
        let shard = shard_label(release).unwrap_or_else(|| panic!("{n} has no shard label"));
        let chart = &release["spec"]["chart"];
        assert_eq!(chart["spec"]["chart"], "./manifests/charts/standin-operator", "{n}");
        assert_eq!(chart["metadata"]["labels"][KEY], shard, "{n}: HelmChart shard");
        // A HelmChart is built from its source's artifact in its own controller's storage.
        let source = sources[chart["spec"]["sourceRef"]["name"].as_str().unwrap()];
        assert_eq!(shard_label(source), Some(shard), "{n}: source on another shard");
        assert_eq!(source["spec"]["url"], "${SHARDWATCH_GIT_URL}", "{n}: substituted by Flux");
    }
    let chart = root().join("manifests/charts/standin-operator/Chart.yaml");
    assert!(chart.is_file(), "the stand-in chart is the project's own");
}
