//! Flux's actions on a selected object (`r` reconcile, `s` suspend, `u` resume on the
//! Dependencies and Assignment panels): the request with the words of its y/N, which
//! names the cluster it goes to, and the "requested …" note rows show until handled.

use crate::model::Snapshot;
use crate::model::assignment::Orphan;
use crate::model::flux_state::{ObjectState, PendingReconcile, StateDetail};
use crate::model::objects::{FluxKey, FluxKind, Time};

use super::text::{age_since, kind_short};

/// What is asked of the object's controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FluxVerb {
    /// Reconcile now (a Kustomization or HelmRelease with its source first).
    Reconcile,
    /// Stop reconciling (`spec.suspend: true`).
    Suspend,
    /// Reconcile again (`spec.suspend: false`, and a reconcile request).
    Resume,
}

/// A Flux action on one object, with what the question says about where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxRequest {
    /// The action.
    pub verb: FluxVerb,
    /// The object.
    pub key: FluxKey,
    /// The kubeconfig context and API server it goes to.
    pub cluster: String,
    /// The owning shard (`main` when unlabelled).
    pub shard: String,
    /// Set when nothing live reconciles the object.
    pub orphan: Option<Orphan>,
}

/// `ks/flux-system/apps`, as flux and kubectl name it.
fn short(key: &FluxKey) -> String {
    format!("{}/{}/{}", kind_short(key.kind), key.namespace, key.name)
}

fn with_source(kind: FluxKind) -> bool {
    matches!(kind, FluxKind::Kustomization | FluxKind::HelmRelease)
}

impl FluxRequest {
    /// The confirmation question, without the `y/N`.
    pub fn question(&self) -> String {
        let what = match self.verb {
            FluxVerb::Reconcile if with_source(self.key.kind) => "Reconcile (with its source)",
            FluxVerb::Reconcile => "Reconcile",
            FluxVerb::Suspend => "Suspend",
            FluxVerb::Resume => "Resume",
        };
        format!("{what} {} on {}?", short(&self.key), self.cluster)
    }

    /// What happens if confirmed.
    pub fn consequence(&self) -> String {
        let controller = format!("{} of {}", self.key.kind.controller(), self.shard);
        let handled = match self.orphan {
            None => format!("{controller} handles it; the row shows \"requested\" until it has."),
            Some(Orphan::ControllerNotReady) => {
                format!("{controller} has no ready replica: the request waits until one runs.")
            }
            Some(Orphan::NoController) => format!("no {controller} exists: nothing will handle it."),
        };
        match self.verb {
            FluxVerb::Reconcile => format!("Sets reconcile.fluxcd.io/requestedAt; {handled}"),
            FluxVerb::Suspend => {
                format!("Sets spec.suspend: {controller} stops reconciling it until resumed.")
            }
            FluxVerb::Resume => format!("Clears spec.suspend and requests a reconcile; {handled}"),
        }
    }

    /// The footer line while the request is under way.
    pub fn pending(&self) -> String {
        let verb = match self.verb {
            FluxVerb::Reconcile => "requesting a reconcile of",
            FluxVerb::Suspend => "suspending",
            FluxVerb::Resume => "resuming",
        };
        format!("{verb} {}…", short(&self.key))
    }
}

/// The owning shard of `key` and whether it is orphaned, as the Assignment panel has it.
pub fn owner_of(snap: &Snapshot, key: &FluxKey) -> Option<(String, StateDetail, Option<Orphan>)> {
    snap.assignment.shards.iter().find_map(|s| {
        let i = s.objects.binary_search_by(|o| o.key.cmp(key)).ok()?;
        let o = &s.objects[i];
        Some((o.shard.clone(), o.state.clone(), o.orphan))
    })
}

/// The request `c` (`r`, `s`, `u`) stands for on `key`, or why there is none.
pub fn request(c: char, key: FluxKey, snap: &Snapshot) -> Result<FluxRequest, String> {
    let (shard, state, orphan) = owner_of(snap, &key).ok_or_else(|| format!("{key} is gone"))?;
    let suspended = state.state == ObjectState::Suspended;
    let verb = match c {
        'r' if suspended => return Err(format!("{} is suspended: u resumes it", short(&key))),
        'r' => FluxVerb::Reconcile,
        's' if suspended => return Err(format!("{} is already suspended", short(&key))),
        's' => FluxVerb::Suspend,
        'u' if !suspended => return Err(format!("{} is not suspended", short(&key))),
        'u' => FluxVerb::Resume,
        _ => return Err(format!("{c}: no Flux action")),
    };
    let cluster = format!("context {} ({})", snap.cluster.context, snap.cluster.server);
    Ok(FluxRequest { verb, key, cluster, shard, orphan })
}

/// `requested 5s ago`, and why it waits when the owning shard cannot handle it.
pub fn requested_note(
    pending: &PendingReconcile,
    now: Time,
    kind: FluxKind,
    owner: Option<(&str, Orphan)>,
) -> String {
    let age = pending.at.map(|_| format!(" {} ago", age_since(now, pending.at))).unwrap_or_default();
    let waits = match owner {
        Some((shard, Orphan::ControllerNotReady)) => format!(" · no ready {} in {shard}", kind.controller()),
        Some((shard, Orphan::NoController)) => format!(" · no {} serves {shard}", kind.controller()),
        None => String::new(),
    };
    format!("requested{age}{waits}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FluxKey {
        FluxKey { kind: FluxKind::Kustomization, namespace: "flux-system".into(), name: "apps".into() }
    }

    #[test]
    fn the_question_names_the_cluster_and_the_consequence_the_controller() {
        let r = FluxRequest {
            verb: FluxVerb::Reconcile,
            key: key(),
            cluster: "context kwok-x (https://127.0.0.1:1)".into(),
            shard: "shard2".into(),
            orphan: Some(Orphan::ControllerNotReady),
        };
        assert_eq!(
            r.question(),
            "Reconcile (with its source) ks/flux-system/apps on context kwok-x (https://127.0.0.1:1)?"
        );
        assert!(
            r.consequence().contains("kustomize-controller of shard2 has no ready replica"),
            "{}",
            r.consequence()
        );
        let s = FluxRequest { verb: FluxVerb::Suspend, orphan: None, ..r };
        assert_eq!(s.pending(), "suspending ks/flux-system/apps…");
    }

    #[test]
    fn the_note_says_when_and_why_it_waits() {
        let now = chrono::Utc::now();
        let at = now - chrono::Duration::seconds(5);
        let p = PendingReconcile { token: at.to_rfc3339(), at: Some(at) };
        assert_eq!(requested_note(&p, now, FluxKind::Kustomization, None), "requested 5s ago");
        assert_eq!(
            requested_note(&p, now, FluxKind::Kustomization, Some(("shard2", Orphan::ControllerNotReady))),
            "requested 5s ago · no ready kustomize-controller in shard2"
        );
        let opaque = PendingReconcile { token: "req-1".into(), at: None };
        assert_eq!(requested_note(&opaque, now, FluxKind::HelmRelease, None), "requested");
    }
}
