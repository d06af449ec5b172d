//! The state of one Flux object, read from its spec and conditions the way the Flux
//! Operator maps them (see shared facts: suspend overrides, stale generation, ...).

use serde::Serialize;

use super::objects::{FluxObject, Text, Time};

/// A Flux object's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ObjectState {
    /// Ready=True and the current generation observed.
    Ready,
    /// Reconciling, Ready=Unknown.
    Progressing,
    /// Ready=False with DependencyNotReady.
    Waiting,
    /// Ready=False for any other reason, or Stalled.
    Failed,
    /// `spec.suspend: true`; conditions are frozen and not believed.
    Suspended,
    /// `metadata.generation` not yet observed: the status predates the spec.
    Stale,
    /// Never reconciled, or no Ready condition.
    Unknown,
}

impl ObjectState {
    /// Display name.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectState::Ready => "Ready",
            ObjectState::Progressing => "Progressing",
            ObjectState::Waiting => "Waiting",
            ObjectState::Failed => "Failed",
            ObjectState::Suspended => "Suspended",
            ObjectState::Stale => "Stale",
            ObjectState::Unknown => "Unknown",
        }
    }
}

/// The state with the words that explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateDetail {
    /// The state.
    pub state: ObjectState,
    /// The condition reason behind it (empty when none).
    pub reason: Text,
    /// The condition message behind it (empty when none).
    pub message: Text,
    /// Since when (the deciding condition's last transition), if known.
    pub since: Option<Time>,
}

/// Reads the state of one object.
pub fn object_state(obj: &FluxObject) -> StateDetail {
    let ready = obj.condition("Ready");
    let detail = |state: ObjectState| StateDetail {
        state,
        reason: ready.map(|c| c.reason.clone()).unwrap_or_default(),
        message: ready.map(|c| c.message.clone()).unwrap_or_default(),
        since: ready.and_then(|c| c.last_transition),
    };
    if obj.suspend {
        return detail(ObjectState::Suspended);
    }
    // An OCI HelmRepository is never reconciled into conditions and counts as ready.
    if obj.key.kind == super::objects::FluxKind::HelmRepository && obj.repo_type.as_deref() == Some("oci") {
        return StateDetail {
            state: ObjectState::Ready,
            reason: "OCI".into(),
            message: Text::default(),
            since: None,
        };
    }
    let Some(ready_cond) = ready else {
        return detail(ObjectState::Unknown);
    };
    // Only a Ready=True can be stale: Flux bumps observedGeneration when a reconcile
    // succeeds (or stalls), so a failing or waiting object lags on purpose (often at -1)
    // and its Ready=False is about the current spec.
    let observed_behind = obj.observed_generation.is_some_and(|o| o < obj.generation);
    if observed_behind && &*ready_cond.status == "True" {
        return detail(ObjectState::Stale);
    }
    if let Some(stalled) = obj.condition("Stalled").filter(|c| &*c.status == "True") {
        return StateDetail {
            state: ObjectState::Failed,
            reason: stalled.reason.clone(),
            message: stalled.message.clone(),
            since: stalled.last_transition,
        };
    }
    match ready_cond.status.as_ref() {
        "True" => detail(ObjectState::Ready),
        "False" if &*ready_cond.reason == "DependencyNotReady" => detail(ObjectState::Waiting),
        "False" => detail(ObjectState::Failed),
        _ => detail(ObjectState::Progressing),
    }
}

/// Seconds the object has been in its state at `now`. An object never reconciled has been
/// Unknown since its creation, so that is its start when no condition says otherwise.
pub fn state_age_secs(obj: &FluxObject, detail: &StateDetail, now: Time) -> Option<i64> {
    let since = detail.since.or(if detail.state == ObjectState::Unknown { obj.created } else { None });
    since.map(|t| (now - t).num_seconds().max(0))
}
