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
    /// Ready, but for an older generation: the controller writes Ready a moment before
    /// observedGeneration, and a new spec starts like this too. Not Ready, not news.
    Stale,
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
        (true, false) => LayerState::Stale,
        // A failure keeps its own words, whichever generation it was for.
        (false, _) => LayerState::Waiting { reason: text("reason"), message: text("message") },
    }
}

/// How one Kustomization reached Ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arrival {
    /// Already Ready when the wait began, since this RFC 3339 time.
    Already(String),
    /// Became Ready this long after the wait began.
    During(Duration),
}

/// The closing line: those already Ready (in the layer's order; their transition times say
/// nothing about dependency order, since a layer can fail and recover later), then those
/// that became Ready during the wait, in the order they did.
pub fn summary(arrivals: &[(String, Arrival)]) -> String {
    let already: Vec<String> = arrivals
        .iter()
        .filter_map(|(n, a)| match a {
            Arrival::Already(since) => Some(format!("{n} (since {since})")),
            Arrival::During(_) => None,
        })
        .collect();
    let mut during: Vec<(&str, Duration)> = arrivals
        .iter()
        .filter_map(|(n, a)| match a {
            Arrival::During(d) => Some((n.as_str(), *d)),
            Arrival::Already(_) => None,
        })
        .collect();
    during.sort_by_key(|(_, d)| *d);
    let during: Vec<String> = during.iter().map(|(n, d)| format!("{n} ({:.0} s)", d.as_secs_f32())).collect();
    match (already.is_empty(), during.is_empty()) {
        (_, true) => format!("all already Ready: {}", already.join(", ")),
        (true, false) => format!("Ready in order: {}", during.join(" → ")),
        (false, false) => {
            format!("already Ready: {}; then Ready in order: {}", already.join(", "), during.join(" → "))
        }
    }
}

/// One progress line for a state change (none for a stale Ready).
fn line(name: &str, state: &LayerState, elapsed: Duration, initial: bool) -> Option<String> {
    Some(match state {
        LayerState::Ready { since } if initial => format!("{name} already Ready (since {since})"),
        LayerState::Ready { .. } => format!("{name} Ready ({:.0} s)", elapsed.as_secs_f32()),
        LayerState::Stale => return None,
        LayerState::Waiting { reason, message } if message.is_empty() => format!("{name} waiting: {reason}"),
        LayerState::Waiting { reason, message } => format!("{name} waiting: {reason}: {message}"),
    })
}

/// Watches the Kustomizations `names` in `namespace` until all are Ready; returns how each
/// got there, in `names` order. On timeout, says what each one still waits for.
pub async fn kustomizations_ready(
    client: &Client,
    namespace: &str,
    names: &[String],
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<(String, Arrival)>> {
    let gvk = GroupVersionKind::gvk("kustomize.toolkit.fluxcd.io", "v1", "Kustomization");
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &ApiResource::from_gvk(&gvk));
    let mut events = watcher::watcher(api, watcher::Config::default()).default_backoff().boxed();
    let mut states: BTreeMap<String, LayerState> = BTreeMap::new();
    let mut arrivals: BTreeMap<String, Arrival> = BTreeMap::new();
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut listed = false;
    loop {
        if listed && names.iter().all(|n| matches!(states.get(n), Some(LayerState::Ready { .. }))) {
            return Ok(names.iter().filter_map(|n| Some((n.clone(), arrivals.get(n)?.clone()))).collect());
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
            let (initial, elapsed) = (initial && !listed, start.elapsed());
            if let Some(text) = line(&name, &now, elapsed, initial) {
                progress(&text);
            }
            match &now {
                LayerState::Ready { since } if initial => {
                    arrivals.insert(name.clone(), Arrival::Already(since.clone()))
                }
                LayerState::Ready { .. } => arrivals.insert(name.clone(), Arrival::During(elapsed)),
                LayerState::Stale | LayerState::Waiting { .. } => arrivals.remove(&name),
            };
            states.insert(name, now);
        }
    }
    let waiting: Vec<String> = names
        .iter()
        .filter_map(|n| match states.get(n) {
            Some(LayerState::Ready { .. }) => None,
            Some(LayerState::Stale) => {
                Some(format!("  {n}: Ready for an older spec, the new one not reconciled"))
            }
            Some(s) => line(n, s, start.elapsed(), false).map(|l| format!("  {l}")),
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
        assert_eq!(state(&kustomization(3, 2, "True", "ReconciliationSucceeded", at)), LayerState::Stale);
        assert_eq!(
            state(&kustomization(2, 2, "False", "DependencyNotReady", at)),
            LayerState::Waiting { reason: "DependencyNotReady".into(), message: "m".into() }
        );
        assert!(matches!(state(&json!({"metadata": {"name": "k"}})), LayerState::Waiting { .. }));
    }

    #[test]
    fn the_summary_orders_only_what_it_saw_become_ready() {
        let secs = |n| Arrival::During(Duration::from_secs(n));
        let during = [
            ("infra-sources".to_string(), secs(3)),
            ("infra-controllers".to_string(), secs(18)),
            ("infra-configs".to_string(), secs(39)),
        ];
        assert_eq!(
            summary(&during),
            "Ready in order: infra-sources (3 s) → infra-controllers (18 s) → infra-configs (39 s)"
        );
        // A layer that recovered later has a later transition time than its dependant:
        // already Ready ones are listed, not ordered.
        let mixed = [
            ("infra-sources".to_string(), Arrival::Already("T1".into())),
            ("infra-controllers".to_string(), Arrival::Already("T3".into())),
            ("infra-configs".to_string(), secs(5)),
        ];
        assert_eq!(
            summary(&mixed),
            "already Ready: infra-sources (since T1), infra-controllers (since T3); then Ready in order: infra-configs (5 s)"
        );
        let all = [("a".to_string(), Arrival::Already("T".into()))];
        assert_eq!(summary(&all), "all already Ready: a (since T)");
    }

    #[test]
    fn progress_lines_say_what_changed() {
        let d = Duration::from_secs(12);
        let r = LayerState::Ready { since: "T".into() };
        assert_eq!(line("a", &r, d, false).unwrap(), "a Ready (12 s)");
        assert_eq!(line("a", &r, d, true).unwrap(), "a already Ready (since T)");
        let w = LayerState::Waiting { reason: "DependencyNotReady".into(), message: "dep".into() };
        assert_eq!(line("b", &w, d, false).unwrap(), "b waiting: DependencyNotReady: dep");
        assert_eq!(line("c", &LayerState::Stale, d, false), None);
    }
}
