//! The bounded log of what changed, derived by comparing each update with what the
//! model held before it.

use serde::Serialize;

use super::event::{Object, ObjectId, ResourceKind, WatchState};
use super::objects::Time;
use super::store::Model;

/// How serious a log entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    /// Something recovered or appeared.
    Info,
    /// Something got worse.
    Warning,
}

/// One line of the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// When shardwatch saw it.
    pub at: Time,
    /// How serious.
    pub severity: Severity,
    /// What it concerns (`node/shardwatch-worker2`, `Kustomization/flux-system/apps`).
    pub subject: String,
    /// What happened, in words.
    pub message: String,
}

fn entry(at: Time, severity: Severity, subject: String, message: impl Into<String>) -> LogEntry {
    LogEntry { at, severity, subject, message: message.into() }
}

/// Log entries for an object about to replace what the model holds.
pub fn diff(model: &Model, new: &Object, at: Time) -> Vec<LogEntry> {
    let mut out = Vec::new();
    match new {
        Object::Node(n) => {
            let subject = format!("node/{}", n.name);
            match model.nodes.get(&n.name) {
                None => out.push(entry(at, Severity::Info, subject, "node added")),
                Some(old) => {
                    if old.ready != n.ready {
                        let (sev, msg) = match n.ready {
                            Some(true) => (Severity::Info, "node Ready"),
                            Some(false) => (Severity::Warning, "node NotReady"),
                            None => (Severity::Warning, "node status Unknown"),
                        };
                        out.push(entry(at, sev, subject.clone(), msg));
                    }
                    if old.unschedulable != n.unschedulable {
                        let msg = if n.unschedulable { "node cordoned" } else { "node uncordoned" };
                        out.push(entry(at, Severity::Warning, subject, msg));
                    }
                }
            }
        }
        Object::Pod(p) => {
            let subject = format!("pod/{}", p.name);
            match model.pods.get(&p.name) {
                None => out.push(entry(at, Severity::Info, subject, format!("pod created ({})", p.phase))),
                Some(old) => {
                    if old.node != p.node {
                        if let Some(node) = &p.node {
                            out.push(entry(
                                at,
                                Severity::Info,
                                subject.clone(),
                                format!("scheduled on {node}"),
                            ));
                        }
                    }
                    if old.ready != p.ready {
                        let (sev, msg) = if p.ready {
                            (Severity::Info, "pod Ready")
                        } else {
                            (Severity::Warning, "pod not Ready")
                        };
                        out.push(entry(at, sev, subject.clone(), msg));
                    }
                    if p.restarts > old.restarts {
                        out.push(entry(
                            at,
                            Severity::Warning,
                            subject.clone(),
                            format!("restarted ({} in all)", p.restarts),
                        ));
                    }
                    if p.unschedulable_message.is_some()
                        && old.unschedulable_message != p.unschedulable_message
                    {
                        let msg = p.unschedulable_message.clone().unwrap_or_default();
                        out.push(entry(at, Severity::Warning, subject, format!("unschedulable: {msg}")));
                    }
                }
            }
        }
        Object::Deployment(d) => {
            let subject = format!("deployment/{}", d.name);
            if let Some(old) = model.deployments.get(&d.name) {
                if old.ready != d.ready || old.desired != d.desired {
                    let sev = if d.ready < d.desired { Severity::Warning } else { Severity::Info };
                    out.push(entry(at, sev, subject, format!("ready {}/{}", d.ready, d.desired)));
                }
            }
        }
        Object::Lease(l) => {
            let subject = format!("lease/{}", l.name);
            let old_holder = model.leases.get(&l.name).and_then(|o| o.holder.clone());
            if old_holder != l.holder {
                let msg = match &l.holder {
                    Some(h) if !h.is_empty() => format!("leader is now {h}"),
                    _ => "leader released".to_string(),
                };
                out.push(entry(at, Severity::Info, subject, msg));
            }
        }
        Object::Flux(f) => {
            let subject = f.key.to_string();
            let ready = |o: &super::objects::FluxObject| {
                o.condition("Ready").map(|c| (c.status.clone(), c.reason.clone()))
            };
            let now = ready(f);
            let before = model.flux.get(&f.key).map(ready);
            if before.as_ref() != Some(&now) {
                if let Some((status, reason)) = now {
                    let sev = if &*status == "False" { Severity::Warning } else { Severity::Info };
                    out.push(entry(at, sev, subject, format!("Ready={status} ({reason})")));
                }
            }
        }
        Object::Event(_) | Object::PendingPod(_) => {}
    }
    out
}

/// The log entry for a deletion, if worth one.
pub fn deleted(model: &Model, id: &ObjectId, at: Time) -> Option<LogEntry> {
    match id {
        ObjectId::Node(n) if model.nodes.contains_key(n) => {
            Some(entry(at, Severity::Warning, format!("node/{n}"), "node deleted"))
        }
        ObjectId::Pod(_, n) if model.pods.contains_key(n) => {
            Some(entry(at, Severity::Warning, format!("pod/{n}"), "pod deleted"))
        }
        ObjectId::Deployment(_, n) if model.deployments.contains_key(n) => {
            Some(entry(at, Severity::Warning, format!("deployment/{n}"), "deployment deleted"))
        }
        ObjectId::Flux(k) if model.flux.contains_key(k) => {
            Some(entry(at, Severity::Info, k.to_string(), "deleted"))
        }
        _ => None,
    }
}

/// The log entry for a change of visibility, if the state really changed.
pub fn watch_changed(
    old: Option<&WatchState>,
    kind: ResourceKind,
    new: &WatchState,
    at: Time,
) -> Option<LogEntry> {
    let same =
        matches!((old, new), (Some(WatchState::Lost { .. }), WatchState::Lost { .. })) || old == Some(new);
    if same {
        return None;
    }
    let subject = format!("watch/{}", kind.label());
    match new {
        WatchState::Syncing => None,
        // Only a kind that was not seen is worth a line when it is seen again.
        WatchState::Live => {
            matches!(old, Some(WatchState::Lost { .. } | WatchState::Forbidden(_) | WatchState::NotInstalled))
                .then(|| entry(at, Severity::Info, subject, "watching"))
        }
        WatchState::Lost { error, .. } => {
            Some(entry(at, Severity::Warning, subject, format!("connection lost: {error}")))
        }
        WatchState::Forbidden(msg) => {
            Some(entry(at, Severity::Warning, subject, format!("forbidden: {msg}")))
        }
        WatchState::NotInstalled => Some(entry(at, Severity::Warning, subject, "CRD not installed")),
    }
}
