//! Which controller of which shard a Deployment is, and the order shards are listed in.
//!
//! Shards are discovered, never assumed: every view (shards, placement, assignment) reads a
//! Deployment's shard through `controller_ref`, so they cannot disagree.

use std::cmp::Ordering;

use serde::Serialize;

use super::objects::Deployment;
use super::selector::{Operator, Selector, SelectorError, parse};
use super::shards::{MAIN_SHARD, SHARDABLE};

/// Which controller of which shard a Deployment is, as read from its selector, name and annotation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ControllerRef {
    /// Controller name without the shard suffix (`kustomize-controller`).
    pub controller: String,
    /// Shard name (`shard2`, or `main` for an unsharded controller).
    pub shard: String,
}

/// What a watch label selector says about the shard key.
enum SelectorShard {
    /// `<key>=<shard>` (or `==`, or `in (<shard>, ...)`: a controller is named after the first).
    Shard(String),
    /// `!<key>`: the main controllers.
    Unsharded,
    /// Says nothing about the shard key, or does not parse.
    Silent,
}

fn selector_shard(selector: &str, key: &str) -> SelectorShard {
    let Ok(parsed) = parse(selector) else { return SelectorShard::Silent };
    for req in parsed.on(key) {
        match &req.op {
            Operator::In(values) => {
                if let Some(v) = values.iter().find(|v| !v.is_empty()) {
                    return SelectorShard::Shard(v.clone());
                }
            }
            Operator::DoesNotExist => return SelectorShard::Unsharded,
            _ => {}
        }
    }
    SelectorShard::Silent
}

/// The selector a Deployment's controller watches with: `None` when it has no
/// `--watch-label-selector` (it watches everything), an error when the controller would refuse it.
pub fn watch_selector(dep: &Deployment) -> Result<Option<Selector>, SelectorError> {
    dep.watch_label_selector.as_deref().map(parse).transpose()
}

/// The shard a Deployment's name implies: `<controller>-<shard>` for a shardable controller,
/// or, on an annotated copy of another controller, what follows its component or `-controller-`.
fn name_shard(dep: &Deployment) -> Option<String> {
    let name = dep.name.as_str();
    for c in SHARDABLE {
        if let Some(rest) = name.strip_prefix(c).and_then(|r| r.strip_prefix('-')) {
            if !rest.is_empty() {
                return Some(rest.to_string());
            }
        }
    }
    if dep.shard_role.as_deref() != Some("shard") {
        return None;
    }
    let by_component = dep
        .component
        .as_deref()
        .and_then(|c| name.strip_prefix(c))
        .and_then(|r| r.strip_prefix('-'))
        .filter(|r| !r.is_empty());
    let by_word = name.rsplit_once("-controller-").map(|(_, r)| r).filter(|r| !r.is_empty());
    let by_dash = name.rsplit_once('-').map(|(_, r)| r).filter(|r| !r.is_empty());
    Some(by_component.or(by_word).or(by_dash).unwrap_or(name).to_string())
}

/// Reads which controller and shard a Deployment is: the watch selector is the most
/// authoritative (it is what the controller really filters by), then the name suffix,
/// then the role annotation; anything else is an unsharded controller of `main`.
pub fn controller_ref(dep: &Deployment, shard_label: &str) -> ControllerRef {
    let from_selector = dep.watch_label_selector.as_deref().map(|s| selector_shard(s, shard_label));
    let shard = match from_selector {
        Some(SelectorShard::Shard(s)) => s,
        Some(SelectorShard::Unsharded) => MAIN_SHARD.to_string(),
        Some(SelectorShard::Silent) | None => name_shard(dep).unwrap_or_else(|| MAIN_SHARD.to_string()),
    };
    let stripped = dep
        .name
        .strip_suffix(shard.as_str())
        .and_then(|r| r.strip_suffix('-'))
        .filter(|r| shard != MAIN_SHARD && !r.is_empty());
    let controller = match (stripped, dep.component.as_deref()) {
        (Some(base), _) => base.to_string(),
        (None, Some(c)) if !c.is_empty() => c.to_string(),
        _ => dep.name.clone(),
    };
    ControllerRef { controller, shard }
}

/// Orders strings with digit runs compared as numbers, so `shard2` sorts before `shard10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.chars().next(), y.chars().next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let split = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
                let (dx, rx) = x.split_at(split(x));
                let (dy, ry) = y.split_at(split(y));
                let (nx, ny) = (dx.trim_start_matches('0'), dy.trim_start_matches('0'));
                let ord = nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny));
                if ord != Ordering::Equal {
                    return ord;
                }
                (x, y) = (rx, ry);
            }
            (Some(p), Some(q)) => {
                if p != q {
                    return p.cmp(&q);
                }
                (x, y) = (&x[p.len_utf8()..], &y[q.len_utf8()..]);
            }
        }
    }
}

/// Orders shard names as every view lists them: `main` first, then natural order.
pub fn shard_order(a: &str, b: &str) -> Ordering {
    (b == MAIN_SHARD).cmp(&(a == MAIN_SHARD)).then_with(|| natural_cmp(a, b))
}
