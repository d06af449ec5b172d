//! Waiting for the infrastructure Kustomizations to be Ready, by watching them (never
//! polling), with a line each time one changes state and, at the end, the order in which
//! they became Ready: the dependency chain made visible in plain text.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, bail};
use futures::StreamExt;
use kube::api::{ApiResource, DynamicObject};
use kube::core::GroupVersionKind;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client};
use serde_json::Value;

/// Where a Kustomization stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerState {
    /// Ready for its current generation; `since` is the Ready condition's lastTransitionTime.
    Ready {
        /// RFC 3339 time it became Ready.
        since: String,
    },
    /// Not (yet) Ready, with the Ready condition's reason and message, if any.
    Waiting {
        /// Condition reason (e.g. DependencyNotReady), or "no status yet".
        reason: String,
        /// Condition message.
        message: String,
    },
}

/// The state of a Kustomization as JSON. Ready counts only once the controller has seen
/// the current generation: right after `up` changes a spec, the old Ready is stale.
pub fn state(object: &Value) -> LayerState {
    let ready =
        object["status"]["conditions"].as_array().and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"));
    let Some(ready) = ready else {
        return LayerState::Waiting { reason: "no status yet".into(), message: String::new() };
    };
    let text = |key: &str| ready[key].as_str().unwrap_or_default().to_string();
    let generation = object["metadata"]["generation"].as_i64().unwrap_or(0);
    let observed = object["status"]["observedGeneration"].as_i64().unwrap_or(-1);
    match (ready["status"] == "True", observed >= generation) {
        (true, true) => LayerState::Ready { since: text("lastTransitionTime") },
        (true, false) => LayerState::Waiting {
            reason: "Progressing".into(),
            message: "new spec not reconciled yet".into(),
        },
        // A failure keeps its own words, whichever generation it was for.
        (false, _) => LayerState::Waiting { reason: text("reason"), message: text("message") },
    }
}

/// The order in which the Ready ones became Ready: by time, ties kept in `names` order
/// (the dependency order, as the layer lists it).
pub fn ready_order<'a>(names: &'a [String], states: &BTreeMap<String, LayerState>) -> Vec<(&'a str, String)> {
    let mut ready: Vec<(&str, String)> = names
        .iter()
        .filter_map(|n| match states.get(n) {
            Some(LayerState::Ready { since }) => Some((n.as_str(), since.clone())),
            _ => None,
        })
        .collect();
    // RFC 3339 UTC times of the same format sort as text; the sort is stable.
    ready.sort_by(|a, b| a.1.cmp(&b.1));
    ready
}

/// One progress line for a state change.
fn line(name: &str, state: &LayerState, elapsed: Duration, initial: bool) -> String {
    match state {
        LayerState::Ready { since } if initial => format!("{name} already Ready (since {since})"),
        LayerState::Ready { .. } => format!("{name} Ready ({:.0} s)", elapsed.as_secs_f32()),
        LayerState::Waiting { reason, message } if message.is_empty() => format!("{name} waiting: {reason}"),
        LayerState::Waiting { reason, message } => format!("{name} waiting: {reason}: {message}"),
    }
}

/// Watches the Kustomizations `names` in `namespace` until all are Ready; returns the
/// order they became Ready in, with times. On timeout, says what each one still waits for.
pub async fn kustomizations_ready(
    client: &Client,
    namespace: &str,
    names: &[String],
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<(String, String)>> {
    let gvk = GroupVersionKind::gvk("kustomize.toolkit.fluxcd.io", "v1", "Kustomization");
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &ApiResource::from_gvk(&gvk));
    let mut events = watcher::watcher(api, watcher::Config::default()).default_backoff().boxed();
    let mut states: BTreeMap<String, LayerState> = BTreeMap::new();
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut listed = false;
    loop {
        if listed && names.iter().all(|n| matches!(states.get(n), Some(LayerState::Ready { .. }))) {
            let order = ready_order(names, &states);
            return Ok(order.into_iter().map(|(n, t)| (n.to_string(), t)).collect());
        }
        let next = match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(item)) => item,
            Ok(None) => bail!("the watch on Kustomizations in {namespace} ended"),
            Err(_) => break,
        };
        let (object, initial) = match next {
            Ok(Event::Apply(o)) => (o, false),
            Ok(Event::InitApply(o)) => (o, true),
            Ok(Event::InitDone) => {
                if !listed {
                    for name in names.iter().filter(|n| !states.contains_key(*n)) {
                        progress(&format!("{name} not found yet"));
                    }
                }
                listed = true;
                continue;
            }
            Ok(_) => continue,
            Err(e) => {
                progress(&format!("watch interrupted ({e}); retrying"));
                continue;
            }
        };
        let Some(name) = object.metadata.name.clone().filter(|n| names.contains(n)) else { continue };
        let now = state(&serde_json::to_value(&object).unwrap_or_default());
        if states.get(&name) != Some(&now) {
            progress(&line(&name, &now, start.elapsed(), initial && !listed));
            states.insert(name, now);
        }
    }
    let waiting: Vec<String> = names
        .iter()
        .filter_map(|n| match states.get(n) {
            Some(LayerState::Ready { .. }) => None,
            Some(s) => Some(format!("  {}", line(n, s, start.elapsed(), false))),
            None => Some(format!("  {n}: not found")),
        })
        .collect();
    bail!(
        "timed out after {timeout:?} waiting for the infrastructure Kustomizations in {namespace} to be \
         Ready; the controllers and the Git server keep running (`shardwatch down` stops everything):\n{}",
        waiting.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kustomization(generation: i64, observed: i64, status: &str, reason: &str, at: &str) -> Value {
        json!({
            "metadata": { "name": "k", "generation": generation },
            "status": {
                "observedGeneration": observed,
                "conditions": [
                    { "type": "Reconciling", "status": "False" },
                    { "type": "Ready", "status": status, "reason": reason,
                      "message": "m", "lastTransitionTime": at },
                ],
            },
        })
    }

    #[test]
    fn ready_needs_the_current_generation() {
        let at = "2025-01-01T10:00:00Z";
        assert_eq!(
            state(&kustomization(2, 2, "True", "ReconciliationSucceeded", at)),
            LayerState::Ready { since: at.into() }
        );
        assert!(matches!(
            state(&kustomization(3, 2, "True", "ReconciliationSucceeded", at)),
            LayerState::Waiting { reason, .. } if reason == "Progressing"
        ));
        assert_eq!(
            state(&kustomization(2, 2, "False", "DependencyNotReady", at)),
            LayerState::Waiting { reason: "DependencyNotReady".into(), message: "m".into() }
        );
        assert!(matches!(state(&json!({"metadata": {"name": "k"}})), LayerState::Waiting { .. }));
    }

    #[test]
    fn the_ready_order_follows_the_transition_times_and_skips_the_waiting() {
        let names: Vec<String> =
            ["infra-sources", "infra-controllers", "infra-configs"].map(String::from).into();
        let ready = |t: &str| LayerState::Ready { since: t.into() };
        let states = BTreeMap::from([
            ("infra-sources".to_string(), ready("2025-01-01T10:00:05Z")),
            ("infra-controllers".to_string(), ready("2025-01-01T10:00:01Z")),
            ("infra-configs".to_string(), LayerState::Waiting { reason: "r".into(), message: String::new() }),
        ]);
        let order: Vec<&str> = ready_order(&names, &states).into_iter().map(|(n, _)| n).collect();
        assert_eq!(order, ["infra-controllers", "infra-sources"]);
        // Same second: the layer's own (dependency) order decides.
        let states = BTreeMap::from([
            ("infra-configs".to_string(), ready("2025-01-01T10:00:01Z")),
            ("infra-sources".to_string(), ready("2025-01-01T10:00:01Z")),
        ]);
        let order: Vec<&str> = ready_order(&names, &states).into_iter().map(|(n, _)| n).collect();
        assert_eq!(order, ["infra-sources", "infra-configs"]);
    }

    #[test]
    fn progress_lines_say_what_changed() {
        let d = Duration::from_secs(12);
        let r = LayerState::Ready { since: "T".into() };
        assert_eq!(line("a", &r, d, false), "a Ready (12 s)");
        assert_eq!(line("a", &r, d, true), "a already Ready (since T)");
        let w = LayerState::Waiting { reason: "DependencyNotReady".into(), message: "dep".into() };
        assert_eq!(line("b", &w, d, false), "b waiting: DependencyNotReady: dep");
    }
}
