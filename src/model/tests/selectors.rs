//! Watch label selectors in every form Flux accepts, and objects assigned by evaluating them.

use std::collections::BTreeMap;

use super::{now, put};
use crate::model::assignment::{AssignedObject, Orphan, assignment};
use crate::model::fixture::*;
use crate::model::objects::{Deployment, FluxKind, FluxObject};
use crate::model::selector::{Operator, Requirement, parse};
use crate::model::shards::shards;
use crate::model::store::Model;

fn matches(selector: &str, labels: &[(&str, &str)]) -> bool {
    let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
    parse(selector).expect(selector).matches(|k| labels.get(k).copied())
}

fn req(key: &str, op: Operator) -> Requirement {
    Requirement { key: key.into(), op }
}

#[test]
fn every_form_parses_into_its_requirements() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        ("a=b", vec![req("a", Operator::In(s(&["b"])))]),
        ("a==b", vec![req("a", Operator::In(s(&["b"])))]),
        ("a!=b", vec![req("a", Operator::NotIn(s(&["b"])))]),
        ("a in (c, b)", vec![req("a", Operator::In(s(&["b", "c"])))]),
        ("a notin (b,c)", vec![req("a", Operator::NotIn(s(&["b", "c"])))]),
        ("example.com/a", vec![req("example.com/a", Operator::Exists)]),
        ("!sharding.fluxcd.io/key", vec![req("sharding.fluxcd.io/key", Operator::DoesNotExist)]),
        ("a>3", vec![req("a", Operator::Gt(3))]),
        ("a<3", vec![req("a", Operator::Lt(3))]),
        ("a=", vec![req("a", Operator::In(s(&[""])))]),
        (
            " team in (x,y) , !legacy,tier!=db ",
            vec![
                req("team", Operator::In(s(&["x", "y"]))),
                req("legacy", Operator::DoesNotExist),
                req("tier", Operator::NotIn(s(&["db"]))),
            ],
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse(text).map(|s| s.requirements), Ok(want), "{text}");
    }
    assert_eq!(parse("  ").map(|s| s.requirements.len()), Ok(0));
}

#[test]
fn what_the_apiserver_refuses_does_not_parse() {
    for bad in [
        "a in ()",
        "a in (b",
        "a in b",
        "!a=b",
        "a b",
        "=b",
        "a=b,",
        ",",
        "a>x",
        "a=b c",
        "-a=b",
        "a=b!",
        "a=bad value",
        "a=-b",
        "Example.com/a=b",
        "((,=!",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} parsed as {:?}", parse(bad));
    }
}

#[test]
fn each_form_matches_as_apimachinery_does() {
    // Equality, set and exists forms need the label; `!=` and `notin` hold when it is absent.
    assert!(matches("a=b", &[("a", "b")]) && !matches("a=b", &[("a", "c")]) && !matches("a=b", &[]));
    assert!(matches("a==b", &[("a", "b")]));
    assert!(matches("a!=b", &[("a", "c")]) && matches("a!=b", &[]) && !matches("a!=b", &[("a", "b")]));
    assert!(matches("a in (b,c)", &[("a", "c")]) && !matches("a in (b,c)", &[("a", "d")]));
    assert!(!matches("a in (b,c)", &[]));
    assert!(matches("a notin (b,c)", &[("a", "d")]) && matches("a notin (b,c)", &[]));
    assert!(!matches("a notin (b,c)", &[("a", "b")]));
    assert!(matches("a", &[("a", "")]) && !matches("a", &[("x", "a")]));
    assert!(matches("!a", &[("x", "a")]) && !matches("!a", &[("a", "")]));
    assert!(
        matches("a>3", &[("a", "4")]) && !matches("a>3", &[("a", "3")]) && !matches("a>3", &[("a", "x")])
    );
    assert!(matches("a<3", &[("a", "-1")]) && !matches("a<3", &[]));
    // Several requirements: all must hold.
    assert!(matches("a=b,!c", &[("a", "b")]) && !matches("a=b,!c", &[("a", "b"), ("c", "d")]));
    assert!(matches("", &[("anything", "at-all")]));
}

fn with_selector(mut dep: Deployment, selector: Option<&str>) -> Deployment {
    dep.watch_label_selector = selector.map(str::to_string);
    dep
}

fn labelled(mut obj: FluxObject, labels: &[(&str, &str)]) -> FluxObject {
    obj.labels = labels.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    obj.labels.sort();
    obj
}

fn row<'a>(view: &'a crate::model::assignment::AssignmentView, name: &str) -> &'a AssignedObject {
    view.shards.iter().flat_map(|s| s.objects.iter()).find(|o| &*o.key.name == name).expect(name)
}

/// The seed, with kustomize-controller's shards watching by team instead of the shard key.
fn team_model() -> Model {
    let mut model = seed_stack(now());
    let ks = "kustomize-controller";
    put(&mut model, with_selector(controller(ks, Some("shard1")), Some("team in (payments, search)")));
    put(&mut model, with_selector(controller(ks, Some("shard2")), Some("team notin (payments,search),team")));
    put(&mut model, with_selector(controller(ks, Some("shard3")), Some("example.com/legacy")));
    put(&mut model, with_selector(controller(ks, None), Some("!team,!example.com/legacy")));
    model
}

#[test]
fn objects_are_assigned_by_evaluating_each_controllers_selector() {
    let mut model = team_model();
    put(&mut model, labelled(kustomization(NS, "pay", None, &[]), &[("team", "payments")]));
    put(&mut model, labelled(kustomization(NS, "ads", None, &[]), &[("team", "ads")]));
    put(&mut model, labelled(kustomization(NS, "old", None, &[]), &[("example.com/legacy", "")]));
    put(&mut model, kustomization(NS, "plain", None, &[]));
    let view = assignment(&model, now());
    let got = |n: &str| (row(&view, n).shard.clone(), row(&view, n).orphan, row(&view, n).conflict.clone());
    assert_eq!(got("pay"), ("shard1".into(), None, vec![]));
    assert_eq!(got("ads"), ("shard2".into(), None, vec![]));
    assert_eq!(got("old"), ("shard3".into(), None, vec![]));
    // `!team,!example.com/legacy` is how the main controller leaves sharded objects alone.
    assert_eq!(got("plain"), ("main".into(), None, vec![]));
}

#[test]
fn an_object_no_selector_matches_is_an_orphan_and_two_matches_are_a_conflict() {
    let mut model = team_model();
    // The shard label says shard1, but shard1 watches by team: nothing selects a team-less,
    // legacy-less object with the shard label... except main, which does not look at it.
    put(
        &mut model,
        labelled(kustomization(NS, "both", None, &[]), &[("team", "search"), ("example.com/legacy", "1")]),
    );
    let view = assignment(&model, now());
    let both = row(&view, "both");
    assert_eq!((both.shard.as_str(), both.conflict.clone()), ("shard1", vec!["shard3".to_string()]));
    assert_eq!(both.orphan, None);

    // A HelmRelease whose helm-controllers select nothing it carries: an orphan.
    let hc = "helm-controller";
    put(&mut model, with_selector(controller(hc, None), Some("tier=web")));
    put(&mut model, with_selector(controller(hc, Some("shard1")), Some("tier=db")));
    put(&mut model, with_selector(controller(hc, Some("shard2")), Some("tier=db")));
    put(&mut model, with_selector(controller(hc, Some("shard3")), Some("tier=db")));
    put(&mut model, labelled(helm_release(NS, "cache", None, &[]), &[("tier", "cache")]));
    let view = assignment(&model, now());
    let cache = row(&view, "cache");
    assert_eq!((cache.shard.as_str(), cache.orphan), ("main", Some(Orphan::NoController)));
    assert!(view.orphans.iter().any(|o| &*o.key.name == "cache"));
}

#[test]
fn the_shard_label_is_matched_like_any_other_label() {
    // The seed's shard1 copy watches `key=shard1`; a copy watching `key in (shard1, shard4)`
    // also takes shard4's objects, named after its Deployment.
    let mut model = seed_stack(now());
    let sel = format!("{SHARD_LABEL} in (shard1, shard4)");
    put(&mut model, with_selector(controller("kustomize-controller", Some("shard1")), Some(&sel)));
    put(&mut model, kustomization(NS, "t4", Some("shard4"), &[]));
    let view = assignment(&model, now());
    assert_eq!((row(&view, "t4").shard.as_str(), row(&view, "t4").orphan), ("shard1", None));
    // With `notin`, the main controller would watch everything not excluded.
    put(
        &mut model,
        with_selector(
            controller("kustomize-controller", None),
            Some(&format!("{SHARD_LABEL} notin (shard1,shard2,shard3,shard4)")),
        ),
    );
    put(&mut model, kustomization(NS, "t9", Some("shard9"), &[]));
    let view = assignment(&model, now());
    assert_eq!((row(&view, "t9").shard.as_str(), row(&view, "t9").orphan), ("main", None));
}

#[test]
fn an_unparsable_selector_is_shown_and_selects_nothing() {
    let mut model = seed_stack(now());
    put(&mut model, with_selector(controller("kustomize-controller", Some("shard2")), Some("team in (a")));
    let shard2 = shards(&model, now()).into_iter().find(|s| s.name == "shard2").expect("shard2");
    let kc = shard2.controllers.iter().find(|c| c.controller == "kustomize-controller").expect("kc");
    assert!(
        kc.selector_error.as_deref().is_some_and(|e| e.contains("team in (a")),
        "{:?}",
        kc.selector_error
    );
    assert_eq!(kc.reason.as_deref().map(|r| r.starts_with("watch label selector refused")), Some(true));
    let view = assignment(&model, now());
    let sharded: Vec<String> = model
        .flux
        .values()
        .filter(|o| o.key.kind == FluxKind::Kustomization && o.shard.as_deref() == Some("shard2"))
        .map(|o| o.key.name.to_string())
        .collect();
    let orphans: Vec<String> = view.orphans.iter().map(|o| o.key.name.to_string()).collect();
    assert!(!sharded.is_empty());
    assert_eq!(orphans, sharded);
    assert!(view.orphans.iter().all(|o| o.orphan == Some(Orphan::NoController)));
}
