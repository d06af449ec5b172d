//! Saying honestly what shardwatch cannot see: a watch that is syncing, lost, forbidden
//! or whose CRD is absent is named in the header and in every panel it feeds, so an
//! empty or old table is never mistaken for a healthy one.

use crate::model::Snapshot;
use crate::model::event::WatchState;
use crate::model::objects::FluxKind;

use super::Panel;
use super::text::age;
use super::theme::Tone;

/// Watches whose absence leaves a panel with nothing true to show, then those that
/// only make part of it stale.
fn watched_by(panel: Panel) -> (&'static [&'static str], &'static [&'static str]) {
    match panel {
        Panel::Shards => (&["deployments"], &["pods", "leases"]),
        Panel::Placement => (&["nodes", "pods"], &[]),
        Panel::Dependencies => (&["kustomizations"], &["helmreleases"]),
        Panel::Assignment => (
            &["kustomizations"],
            &[
                "helmreleases",
                "gitrepositories",
                "ocirepositories",
                "helmrepositories",
                "helmcharts",
                "buckets",
            ],
        ),
        Panel::Events => (&[], &["events"]),
    }
}

fn flux_kind(plural: &str) -> Option<FluxKind> {
    FluxKind::ALL.into_iter().find(|k| k.plural() == plural)
}

/// The header's short form: `kustomizations: CRD not installed`, `nodes: forbidden`.
pub fn short(snap: &Snapshot, kind: &str, state: &WatchState) -> Option<(Tone, String)> {
    match state {
        WatchState::Live => None,
        WatchState::Syncing => Some((Tone::Muted, format!("{kind}: syncing…"))),
        WatchState::Lost { since, .. } => {
            let secs = (snap.taken_at - *since).num_seconds();
            Some((Tone::Bad, format!("{kind}: connection lost {} ago — data may be stale", age(secs))))
        }
        WatchState::Forbidden(_) => Some((Tone::Bad, format!("{kind}: forbidden"))),
        WatchState::NotInstalled => Some((Tone::Warn, format!("{kind}: CRD not installed"))),
    }
}

/// `syncing: 5 of 13 kinds listed` while any kind is being listed (at start or again).
pub fn list_progress(snap: &Snapshot) -> Option<String> {
    let listing = snap.watches.values().filter(|s| **s == WatchState::Syncing).count();
    (listing > 0)
        .then(|| format!("syncing: {} of {} kinds listed", snap.watches.len() - listing, snap.watches.len()))
}

/// The grant a refused kind needs, as RBAC names it (the rules of `manifests/rbac/`):
/// `list, watch on nodes (cluster-wide)`.
fn needs(snap: &Snapshot, kind: &str) -> String {
    let ns = &snap.flux_namespace;
    let what = match kind {
        "nodes" => "nodes (cluster-wide)".to_string(),
        "pods" => format!("pods in {ns}"),
        "deployments" => format!("deployments.apps in {ns}"),
        "leases" => format!("leases.coordination.k8s.io in {ns}"),
        "events" => "events.events.k8s.io in all namespaces".to_string(),
        "pending pods" => "pods in all namespaces".to_string(),
        other => match flux_kind(other) {
            Some(k) => format!("{}.{}", k.plural(), k.api_version().split('/').next().unwrap_or_default()),
            None => other.to_string(),
        },
    };
    format!("list, watch on {what}")
}

/// A panel's long form: `no permission to list nodes — needs list, watch on nodes
/// (cluster-wide)`, `kustomizations: listing…`.
pub fn long(snap: &Snapshot, kind: &str, state: &WatchState) -> Option<(Tone, String)> {
    match state {
        WatchState::Live => None,
        WatchState::Syncing => Some((Tone::Muted, format!("{kind}: listing…"))),
        WatchState::Lost { error, .. } => short(snap, kind, state)
            .map(|(t, s)| (t, if error.is_empty() { s } else { format!("{s} ({error})") })),
        WatchState::Forbidden(_) => {
            Some((Tone::Bad, format!("no permission to list {kind} — needs {}", needs(snap, kind))))
        }
        WatchState::NotInstalled => {
            let text = match flux_kind(kind) {
                Some(FluxKind::Kustomization) => "Flux not installed (Kustomization CRD absent)".to_string(),
                Some(k) => format!("{} CRD absent", k.as_str()),
                None => format!("{kind}: not available on this server"),
            };
            Some((Tone::Warn, text))
        }
    }
}

/// What a panel must say about its data, worst first, and whether its main watch is
/// unusable (then an empty table means "cannot see", not "nothing there").
pub fn panel_notices(snap: &Snapshot, panel: Panel) -> (Vec<(Tone, String)>, bool) {
    let (primary, secondary) = watched_by(panel);
    let mut notices = Vec::new();
    let mut blind = false;
    for kind in primary {
        // A kind never reported has not been listed yet.
        let state = snap.watches.get(*kind).cloned().unwrap_or_default();
        if let Some(n) = long(snap, kind, &state) {
            blind |= !matches!(state, WatchState::Lost { .. });
            notices.push(n);
        }
    }
    for kind in secondary {
        // Kinds the cluster layer does not follow at all are simply absent.
        if let Some(n) = snap.watches.get(*kind).and_then(|s| long(snap, kind, s)) {
            notices.push(n);
        }
    }
    notices.sort_by_key(|(tone, _)| match tone {
        Tone::Bad => 0,
        Tone::Warn => 1,
        _ => 2,
    });
    (notices, blind)
}
