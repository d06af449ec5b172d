//! The overall verdict: healthy, degraded or failing, with the reasons.

use std::collections::HashMap;

use serde::Serialize;

use super::assignment::{AssignedObject, AssignmentView, Orphan};
use super::event::{ResourceKind, WatchState};
use super::flux_state::ObjectState;
use super::graph::{DependencyGraph, GraphNode, RootCause};
use super::objects::{FluxKey, FluxKind, Time};
use super::placement::{PlacementView, Violation};
use super::shards::{Health, SHARDABLE, ShardView};
use super::store::{ListProgress, Model};

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// All shards healthy, no violations, every object Ready or Suspended.
    Healthy,
    /// Something needs attention but reconciliation goes on.
    Degraded,
    /// A shard is down, objects failed or are orphaned.
    Failing,
    /// Not enough is visible to tell (nothing listed yet, forbidden, no Flux).
    Unknown,
}

/// Root-cause reasons that waiting cannot clear.
const STRUCTURAL: [&str; 3] = ["SourceNotFound", "DependencyNotFound", "DependencyCycle"];

/// The verdict with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overall {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, one line each, worst first.
    pub reasons: Vec<String>,
}

/// How long an object may stay Waiting, Progressing, Stale or Unknown before it counts
/// against the verdict: longer than Flux's default timeouts (5m for Helm, interval for
/// Kustomizations), so a normal reconciliation never trips it.
pub const SLOW_AFTER_SECS: i64 = 600;

/// At most this many lines per class of reason, so 20,000 failed objects stay readable.
pub const MAX_LINES_PER_CLASS: usize = 10;

/// `95s` → `1m35s`, for reasons people read.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{}s", secs / 60, secs % 60).replace("m0s", "m"),
        3600..86400 => format!("{}h{}m", secs / 3600, secs % 3600 / 60).replace("h0m", "h"),
        _ => format!("{}d{}h", secs / 86400, secs % 86400 / 3600).replace("d0h", "d"),
    }
}

fn watch_words(state: &WatchState) -> String {
    match state {
        WatchState::Syncing => "not listed yet".to_string(),
        WatchState::Live => "live".to_string(),
        WatchState::Lost { since, error } => {
            format!("connection lost since {}: {error}", since.format("%H:%M:%S"))
        }
        WatchState::Forbidden(msg) => format!("forbidden: {msg}"),
        WatchState::NotInstalled => "CRD not installed".to_string(),
    }
}

/// `syncing: 5 of 13 kinds listed`.
pub fn syncing_words(p: ListProgress) -> String {
    format!("syncing: {} of {} kinds listed", p.listed, p.of)
}

/// Appends `lines`, keeping at most `MAX_LINES_PER_CLASS` and saying how many were left out.
fn capped(out: &mut Vec<String>, lines: Vec<String>, what: &str) {
    capped_by(out, lines.into_iter(), |l| l, what);
}

/// [`capped`], formatting only the lines kept (the rest are only counted).
fn capped_by<T>(
    out: &mut Vec<String>,
    mut items: impl Iterator<Item = T>,
    line: impl Fn(T) -> String,
    what: &str,
) {
    out.extend(items.by_ref().take(MAX_LINES_PER_CLASS).map(line));
    let extra = items.count();
    if extra > 0 {
        out.push(format!("... and {extra} more {what}"));
    }
}

fn named(key: &FluxKey) -> String {
    format!("{} {}/{}", key.kind.as_str(), key.namespace, key.name)
}

fn orphan_lines(shards: &[ShardView], assignment: &AssignmentView) -> Vec<String> {
    // One line per (why, shard, controller), counted, in the order orphans are listed.
    let mut groups: Vec<((Orphan, &str, &str), usize)> = Vec::new();
    for o in assignment.orphans.iter() {
        let Some(why) = o.orphan else { continue };
        let id = (why, o.shard.as_str(), o.key.kind.controller());
        // Orphans come in key order, so runs of one group: try the last one first.
        if let Some((_, n)) = groups.last_mut().filter(|(g, _)| *g == id) {
            *n += 1;
            continue;
        }
        match groups.iter_mut().find(|(g, _)| *g == id) {
            Some((_, n)) => *n += 1,
            None => groups.push((id, 1)),
        }
    }
    groups.sort_by_key(|((why, _, _), _)| *why);
    groups
        .into_iter()
        .map(|((why, shard, controller), n)| {
            let objects = if n == 1 { "object" } else { "objects" };
            let cause = match why {
                Orphan::NoController if !shards.iter().any(|s| s.name == shard) => {
                    format!("{shard} has no controller")
                }
                Orphan::NoController => format!("{shard} has no {controller}"),
                Orphan::ControllerNotReady => format!("{controller} of {shard} has no ready replica"),
            };
            format!("{n} {objects} orphaned ({cause})")
        })
        .collect()
}

/// The verdict's reasons that come from the Flux objects: on a big cluster the costly
/// part, so the views keep it and redo it only when objects change, the clock moves or
/// the set of shards changes (orphan lines name shards with no controller at all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectReasons {
    failed: Vec<String>,
    orphans: Vec<String>,
    slow: Vec<String>,
    stuck: Vec<String>,
}

/// Reads the not-ready rows (the assignment keeps them apart) for failed, orphaned, slow
/// and structurally blocked objects, each class capped.
pub fn object_reasons(
    shards: &[ShardView],
    graph: &DependencyGraph,
    assignment: &AssignmentView,
    now: Time,
) -> ObjectReasons {
    let age = |since: Option<Time>| since.map(|t| (now - t).num_seconds().max(0));
    let objects: Vec<&AssignedObject> = assignment.unready.iter().map(|o| &**o).collect();
    let mut failed = Vec::new();
    capped_by(
        &mut failed,
        objects.iter().filter(|o| o.state.state == ObjectState::Failed),
        |o| format!("{} failed: {}", named(&o.key), o.state.reason),
        "failed objects",
    );
    // The graph's not-ready nodes, in its order (dependencies first).
    let mut blocked: Vec<(usize, &GraphNode)> = objects
        .iter()
        .filter_map(|o| graph.position.get(&o.key).and_then(|&i| Some((i, &**graph.nodes.get(i)?))))
        .collect();
    blocked.sort_by_key(|(i, _)| *i);
    let causes: HashMap<&FluxKey, &RootCause> =
        blocked.iter().filter_map(|(_, n)| n.root_cause.as_ref().map(|c| (&n.key, c))).collect();
    let mut slow = Vec::new();
    capped_by(
        &mut slow,
        objects
            .iter()
            .filter(|o| o.orphan.is_none())
            .filter(|o| {
                use ObjectState::*;
                matches!(o.state.state, Waiting | Progressing | Stale | Unknown)
            })
            .filter_map(|o| age(o.since).filter(|a| *a > SLOW_AFTER_SECS).map(|a| (o, a))),
        |(o, age)| {
            let mut line =
                format!("{} {} for {}", named(&o.key), o.state.state.as_str(), human_duration(age));
            match causes.get(&o.key) {
                Some(c) if c.key.as_ref() != Some(&o.key) => {
                    let at = c.key.as_ref().map(named).or_else(|| {
                        c.missing.as_ref().map(|m| format!("missing {}/{}", m.namespace, m.name))
                    });
                    line.push_str(&format!(" (root cause: {}: {})", at.unwrap_or_default(), c.reason));
                }
                _ if !o.state.reason.is_empty() => line.push_str(&format!(" ({})", o.state.reason)),
                _ => {}
            }
            line
        },
        "slow objects",
    );
    // Some blocks never clear by waiting: a missing source or dependency, a cycle. They
    // count at once, without the grace given to ordinary progress.
    let mut stuck = Vec::new();
    capped_by(
        &mut stuck,
        blocked
            .iter()
            .map(|(_, n)| *n)
            .filter(|n| n.state.state != ObjectState::Ready)
            .filter_map(|n| n.root_cause.as_ref().map(|c| (n, c)))
            .filter(|(_, c)| STRUCTURAL.contains(&c.reason.as_ref()))
            .filter(|(n, _)| age(n.since).is_none_or(|a| a <= SLOW_AFTER_SECS)),
        |(n, c)| format!("{} blocked: {}: {}", named(&n.key), c.reason, c.message),
        "blocked objects",
    );
    ObjectReasons { failed, orphans: orphan_lines(shards, assignment), slow, stuck }
}

/// Judges the whole from the computed views. Reasons come worst first: what makes it
/// Failing (down controllers, failed objects, orphans), then what makes it Degraded.
pub fn overall(
    model: &Model,
    shards: &[ShardView],
    placement: &PlacementView,
    graph: &DependencyGraph,
    assignment: &AssignmentView,
    now: Time,
) -> Overall {
    overall_with(model, shards, placement, &object_reasons(shards, graph, assignment, now))
}

/// [`overall`] with the objects' part already computed.
pub fn overall_with(
    model: &Model,
    shards: &[ShardView],
    placement: &PlacementView,
    objects: &ObjectReasons,
) -> Overall {
    // Half a list would judge a cluster by what happened to arrive first.
    let progress = model.list_progress();
    if progress.busy() {
        return Overall { verdict: Verdict::Unknown, reasons: vec![syncing_words(progress)] };
    }
    let mut blind = Vec::new();
    for kind in [ResourceKind::Deployment, ResourceKind::Node] {
        let state = model.watch(kind);
        if state != WatchState::Live {
            blind.push(format!("{}: {}", kind.label(), watch_words(&state)));
        }
    }
    let has_flux =
        shards.iter().flat_map(|s| &s.controllers).any(|c| SHARDABLE.contains(&c.controller.as_str()));
    if blind.is_empty() && !has_flux {
        blind.push(format!("Flux controllers not found in {}", model.config.flux_namespace));
    }
    if !blind.is_empty() {
        return Overall { verdict: Verdict::Unknown, reasons: blind };
    }

    let mut failing = Vec::new();
    let mut down = Vec::new();
    let mut degraded_controllers = Vec::new();
    for shard in shards {
        for c in &shard.controllers {
            let line = format!("{}: {} has {}/{} ready", shard.name, c.deployment, c.ready, c.desired);
            match c.health {
                Health::Down => down.push(line),
                Health::Degraded => degraded_controllers.push(match &c.reason {
                    Some(why) if !why.ends_with(" ready") => {
                        format!("{}: {} has {why}", shard.name, c.deployment)
                    }
                    _ => line,
                }),
                Health::Healthy | Health::Unknown => {}
            }
        }
    }
    capped(&mut failing, down, "controllers down");
    failing.extend(objects.failed.iter().cloned());
    failing.extend(objects.orphans.iter().cloned());

    let mut degraded = Vec::new();
    capped(&mut degraded, degraded_controllers, "degraded controllers");
    capped_by(&mut degraded, placement.violations.iter(), violation_line, "placement violations");
    degraded.extend(objects.slow.iter().cloned());
    degraded.extend(objects.stuck.iter().cloned());
    for (kind, state) in &model.watches {
        if matches!(state, WatchState::Lost { .. } | WatchState::Forbidden(_)) {
            degraded.push(format!("{}: {}", kind.label(), watch_words(state)));
        }
    }
    degraded.extend(missing_crds(model, shards));

    let verdict = if !failing.is_empty() {
        Verdict::Failing
    } else if !degraded.is_empty() {
        Verdict::Degraded
    } else {
        Verdict::Healthy
    };
    failing.extend(degraded);
    Overall { verdict, reasons: failing }
}

/// A Flux installed without a controller serves none of its kinds, and that is healthy.
/// Only a controller that runs while none of its kinds is served is broken.
fn missing_crds(model: &Model, shards: &[ShardView]) -> Vec<String> {
    let deployed =
        |controller: &str| shards.iter().flat_map(|s| &s.controllers).any(|c| c.controller == controller);
    let mut lines = Vec::new();
    for controller in SHARDABLE {
        let kinds: Vec<FluxKind> =
            FluxKind::ALL.into_iter().filter(|k| k.controller() == controller).collect();
        let absent =
            |k: &FluxKind| model.watches.get(&ResourceKind::Flux(*k)) == Some(&WatchState::NotInstalled);
        if deployed(controller) && !kinds.is_empty() && kinds.iter().all(absent) {
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            lines.push(format!(
                "{controller} runs but no CRD of its kinds is installed ({})",
                names.join(", ")
            ));
        }
    }
    lines
}

/// One line for a placement violation.
pub fn violation_line(v: &Violation) -> String {
    match v {
        Violation::UnhealthyNode { node, shards, reason } => {
            format!("node {node} is {reason} (holds {})", shards.join(", "))
        }
        Violation::Pending { pod, shard, message } => {
            let shard = shard.as_deref().map(|s| format!("{s}: ")).unwrap_or_default();
            format!("{shard}pod {pod} Pending: {message}")
        }
        Violation::OffShardNode { pod, shard, node, node_shard } => {
            let label = node_shard.as_deref().unwrap_or("no shard label");
            format!("{shard}: pod {pod} runs on {node} ({label})")
        }
        Violation::SharedNode { node, shards } => format!("node {node} runs shards {}", shards.join(", ")),
    }
}
