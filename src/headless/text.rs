//! The human summary printed by `snapshot -o text`.

use std::fmt::Write;

use crate::model::Snapshot;
use crate::model::flux_state::ObjectState;

/// Renders a snapshot as plain text, one section per panel.
pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "cluster {} ({}) {}  verdict: {}",
        s.cluster.context,
        s.cluster.server,
        s.cluster.kubernetes_version.as_deref().unwrap_or("?"),
        super::verdict_word(s.overall.verdict)
    );
    for r in &s.overall.reasons {
        let _ = writeln!(out, "  - {r}");
    }
    let _ = writeln!(out, "\nSHARDS");
    for shard in &s.shards {
        let cells: Vec<String> = shard
            .controllers
            .iter()
            .map(|c| {
                format!(
                    "{} {}/{} leader={}",
                    c.controller,
                    c.ready,
                    c.desired,
                    c.leader.as_deref().unwrap_or("-")
                )
            })
            .collect();
        let _ = writeln!(out, "  {:<8} {:?}  {}", shard.name, shard.health, cells.join(", "));
    }
    let _ = writeln!(out, "\nPLACEMENT");
    for n in &s.placement.nodes {
        let ready = match n.ready {
            Some(true) => "Ready",
            Some(false) => "NotReady",
            None => "Unknown",
        };
        let pods: Vec<&str> = n.pods.iter().map(|p| p.name.as_str()).collect();
        let _ = writeln!(
            out,
            "  {:<28} shard={:<7} {}{}  {}",
            n.name,
            n.shard.as_deref().unwrap_or("-"),
            ready,
            if n.cordoned { ",cordoned" } else { "" },
            pods.join(" ")
        );
    }
    for v in &s.placement.violations {
        let _ = writeln!(out, "  ! {}", serde_json::to_string(v).unwrap_or_default());
    }
    let _ = writeln!(out, "\nDEPENDENCIES");
    for n in &s.dependencies.nodes {
        let _ = writeln!(out, "  {}{} {}", "  ".repeat(n.depth), n.key, n.state.state.as_str());
        if let Some(rc) = &n.root_cause {
            if n.state.state != ObjectState::Failed {
                let what = rc.key.as_ref().map(|k| k.to_string()).unwrap_or_else(|| {
                    rc.missing
                        .as_ref()
                        .map(|m| format!("{}/{} (missing)", m.namespace, m.name))
                        .unwrap_or_default()
                });
                let _ = writeln!(
                    out,
                    "  {}  root cause: {} {}: {}",
                    "  ".repeat(n.depth),
                    what,
                    rc.reason,
                    rc.message
                );
            }
        }
    }
    let _ = writeln!(out, "\nORPHANS");
    for o in s.assignment.orphans.iter() {
        let _ = writeln!(out, "  {} shard={} {:?}", o.key, o.shard, o.orphan);
    }
    out
}
