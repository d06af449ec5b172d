//! Why a Flux object is not Ready: its conditions, the `dependsOn` chain down to the root
//! cause, and below a failed health check the workloads it waits for, with their Pending
//! pods (the scheduler's or the kubelet's reason) and the Warning events about each.
//!
//! Pure: computed from the model's trimmed objects. The one-line cause names the deepest
//! thing shardwatch can see: an unschedulable pod rather than the Kustomization that
//! timed out waiting for it.

use std::collections::HashMap;

use serde::Serialize;

use super::assignment::AssignmentView;
use super::event::{ResourceKind, WatchState};
use super::flux_state::{ObjectState, StateDetail, object_state, state_age_secs};
use super::graph::{DependencyGraph, RootCause, blocks, dependency_graph, read_source, source_cause};
use super::objects::{FluxKey, FluxKind, FluxObject, KubeEvent, PendingPod, Time};
use super::store::Model;

/// A chain longer than this is cut (and says so): deep enough for any real stack, and it
/// bounds the work when every object of a 20,000-deep chain is explained.
pub const MAX_CHAIN: usize = 20;

/// Events shown per object, newest first.
pub const EVENTS_SHOWN: usize = 5;

/// Pending pods shown per waited-for object.
pub const PODS_SHOWN: usize = 5;

/// One status condition, with its age.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionLine {
    /// `Ready`, `Reconciling`, `Healthy`, `Stalled`, ...
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Reason.
    pub reason: String,
    /// Message.
    pub message: String,
    /// Seconds since its last transition, if known.
    pub age_secs: Option<i64>,
}

/// One object of the dependency chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainLink {
    /// The object.
    pub key: FluxKey,
    /// Its state with reason and message.
    pub state: StateDetail,
    /// Seconds in this state, if known.
    pub age_secs: Option<i64>,
}

/// A Kubernetes Event about an object, trimmed for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventLine {
    /// What it is about (`Pod/shardwatch-demo/never-scheduled-7d9c-x2x`).
    pub regarding: String,
    /// `FailedScheduling`, `Failed`, `BackOff`, `HealthCheckFailed`, ...
    pub reason: String,
    /// The note.
    pub message: String,
    /// How often it happened.
    pub count: u32,
    /// When it last happened.
    pub last_seen: Option<Time>,
    /// Seconds since then, if known.
    pub age_secs: Option<i64>,
}

/// A Pending pod of a waited-for workload and why it is Pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodLine {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Node, once bound.
    pub node: Option<String>,
    /// `Unschedulable`, `ErrImagePull`, `ImagePullBackOff`, `NotScheduled`, ...
    pub reason: String,
    /// The scheduler's or the kubelet's message.
    pub message: String,
    /// Seconds since it was created, if known.
    pub age_secs: Option<i64>,
    /// Warning events about this pod, newest first.
    pub events: Vec<EventLine>,
}

/// An object a Flux object waits for: a health-check target named in its message, or the
/// workloads of a HelmRelease's release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitedFor {
    /// Kind (`Deployment`, `CustomResourceDefinition`), or `HelmRelease` for a release's pods.
    pub kind: String,
    /// Namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// Name (the release name for a HelmRelease).
    pub name: String,
    /// kstatus status the health check last saw (`InProgress`, `Failed`), if named.
    pub status: String,
    /// Whatever the message adds after the status.
    pub detail: String,
    /// Its Pending pods, at most `PODS_SHOWN`.
    pub pods: Vec<PodLine>,
    /// Pending pods beyond those listed.
    pub more_pods: usize,
    /// Warning events about it (and a Deployment's ReplicaSets), newest first.
    pub events: Vec<EventLine>,
}

impl WaitedFor {
    /// `Kind/namespace/name` (or `Kind/name` when cluster-scoped).
    pub fn id(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// A kind the API server does not serve, named by an apply error: its CRD is missing or
/// not yet established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingKind {
    /// The kind (`ClusterIssuer`).
    pub kind: String,
    /// The API version asked for (`cert-manager.io/v1`).
    pub version: String,
}

/// What the explanation concludes, for exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The object is Ready.
    Ready,
    /// The object is not Ready, and the explanation says why.
    NotReady,
    /// shardwatch cannot tell: not found, or its kind cannot be listed.
    Unknown,
}

/// Everything that explains one Flux object's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The object.
    pub key: FluxKey,
    /// Whether shardwatch holds it.
    pub found: bool,
    /// Ready, not Ready, or cannot tell.
    pub outcome: Outcome,
    /// Its state (None when not found).
    pub state: Option<StateDetail>,
    /// Seconds in this state, if known.
    pub age_secs: Option<i64>,
    /// The one line that names the deepest cause shardwatch can see.
    pub cause: String,
    /// Its conditions as Flux wrote them.
    pub conditions: Vec<ConditionLine>,
    /// The object, then each not-ready dependency down to the root cause.
    pub chain: Vec<ChainLink>,
    /// Set when the chain was cut at `MAX_CHAIN` links.
    pub chain_truncated: bool,
    /// The root cause as the dependency graph finds it (None when Ready or not in the graph).
    pub root_cause: Option<RootCause>,
    /// Whose message `waits_for` and `missing_kinds` come from (the bottom of the chain).
    pub waits_for_of: Option<FluxKey>,
    /// What that object waits for, with Pending pods and events.
    pub waits_for: Vec<WaitedFor>,
    /// Kinds its apply could not find: CRDs not installed or not established.
    pub missing_kinds: Vec<MissingKind>,
    /// Warning events about the object itself, newest first.
    pub events: Vec<EventLine>,
    /// What shardwatch cannot see that would matter here (a forbidden or lost watch).
    pub blind: Vec<String>,
}

/// The targets a health-check message names: kustomize-controller's
/// `health check failed after 30s: timeout waiting for: [Deployment/ns/name status: 'InProgress', ...]`
/// (also `failed early due to stalled resources: [...]`), one per `Kind/ns/name status: 'X'`.
pub fn health_check_targets(message: &str) -> Vec<WaitedFor> {
    const MARK: &str = " status: '";
    // (start of the identifier, identifier, status, index after the status' closing quote)
    let mut found: Vec<(usize, &str, &str, usize)> = Vec::new();
    let mut pos = 0;
    while let Some(i) = message[pos..].find(MARK) {
        let at = pos + i;
        let before = &message[..at];
        let start = before.rfind([' ', '[']).map_or(0, |j| j + 1);
        let rest = &message[at + MARK.len()..];
        let Some(end) = rest.find('\'') else { break };
        let after = at + MARK.len() + end + 1;
        found.push((start, &before[start..], &rest[..end], after));
        pos = after;
    }
    let mut out = Vec::new();
    for (n, &(_, ident, status, after)) in found.iter().enumerate() {
        let end = match found.get(n + 1) {
            Some(next) => next.0,
            None => message.rfind(']').filter(|&e| e >= after).unwrap_or(message.len()),
        };
        let detail = message[after..end.max(after)]
            .trim()
            .trim_end_matches(',')
            .trim_start_matches(':')
            .trim()
            .to_string();
        let parts: Vec<&str> = ident.split('/').collect();
        let (kind, namespace, name) = match parts.as_slice() {
            [kind, ns, name] => (*kind, *ns, *name),
            [kind, name] => (*kind, "", *name),
            _ => continue,
        };
        if !kind.starts_with(|c: char| c.is_ascii_uppercase()) || name.is_empty() {
            continue;
        }
        out.push(WaitedFor {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
            status: status.into(),
            detail,
            pods: Vec::new(),
            more_pods: 0,
            events: Vec::new(),
        });
    }
    out
}

/// The kinds an apply error says the API does not serve:
/// `no matches for kind "ClusterIssuer" in version "cert-manager.io/v1"`.
pub fn missing_kinds(message: &str) -> Vec<MissingKind> {
    const MARK: &str = "no matches for kind \"";
    let mut out: Vec<MissingKind> = Vec::new();
    let mut rest = message;
    while let Some(i) = rest.find(MARK) {
        rest = &rest[i + MARK.len()..];
        let Some(end) = rest.find('"') else { break };
        let kind = rest[..end].to_string();
        rest = &rest[end + 1..];
        let version = rest
            .strip_prefix(" in version \"")
            .and_then(|v| v.find('"').map(|e| v[..e].to_string()))
            .unwrap_or_default();
        let missing = MissingKind { kind, version };
        if !out.contains(&missing) {
            out.push(missing);
        }
    }
    out
}

/// The name Helm gives a HelmRelease's release, as helm-controller does: `spec.releaseName`,
/// else `<targetNamespace>-<name>` when a target namespace is set, else the object's name.
pub fn release_of(obj: &FluxObject) -> (String, String) {
    let namespace = obj.target_namespace.clone().unwrap_or_else(|| obj.key.namespace.to_string());
    let name = match (&obj.release_name, &obj.target_namespace) {
        (Some(r), _) => r.clone(),
        (None, Some(t)) => format!("{t}-{}", obj.key.name),
        (None, None) => obj.key.name.to_string(),
    };
    (namespace, name)
}

fn age(now: Time, t: Option<Time>) -> Option<i64> {
    t.map(|t| (now - t).num_seconds().max(0))
}

fn watch_words(state: &WatchState) -> String {
    match state {
        WatchState::Syncing => "not listed yet".into(),
        WatchState::Live => "live".into(),
        WatchState::Lost { error, .. } => format!("connection lost ({error}), data may be stale"),
        WatchState::Forbidden(_) => "forbidden (no permission to list them)".into(),
        WatchState::NotInstalled => "not served by this cluster".into(),
    }
}

/// Explains many objects against one model: the indexes are built once.
pub struct Explainer<'a> {
    model: &'a Model,
    now: Time,
    graph: &'a DependencyGraph,
    /// Pending pods by (namespace, owner kind, owner name).
    by_owner: HashMap<(&'a str, &'a str, &'a str), Vec<&'a PendingPod>>,
    /// Pending pods by (namespace, `app.kubernetes.io/instance`).
    by_instance: HashMap<(&'a str, &'a str), Vec<&'a PendingPod>>,
}

impl<'a> Explainer<'a> {
    /// Indexes the model's pending pods (the graph keeps its own index).
    pub fn new(model: &'a Model, graph: &'a DependencyGraph, now: Time) -> Explainer<'a> {
        let mut by_owner: HashMap<(&str, &str, &str), Vec<&PendingPod>> = HashMap::new();
        let mut by_instance: HashMap<(&str, &str), Vec<&PendingPod>> = HashMap::new();
        for p in model.pending_pods.values() {
            if let Some(o) = &p.owner {
                by_owner.entry((&p.namespace, &o.kind, &o.name)).or_default().push(p);
            }
            if let Some(i) = &p.instance {
                by_instance.entry((&p.namespace, i)).or_default().push(p);
            }
        }
        Explainer { model, now, graph, by_owner, by_instance }
    }

    fn state_of(&self, obj: &FluxObject) -> (StateDetail, Option<i64>) {
        match self.graph.node(&obj.key) {
            Some(n) => (n.state.clone(), age(self.now, n.since)),
            None => {
                let s = object_state(obj);
                let a = state_age_secs(obj, &s, self.now);
                (s, a)
            }
        }
    }

    /// Warning events about `regarding`, newest first, at most `EVENTS_SHOWN`.
    fn events(&self, regarding: &[String]) -> Vec<EventLine> {
        let mut events: Vec<&KubeEvent> = regarding
            .iter()
            .filter_map(|r| self.model.events_by_regarding.get(r))
            .flatten()
            .filter_map(|id| self.model.kube_events.get(id))
            .collect();
        events.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.name.cmp(&b.name)));
        events.into_iter().take(EVENTS_SHOWN).map(|e| self.event_line(e)).collect()
    }

    fn event_line(&self, e: &KubeEvent) -> EventLine {
        EventLine {
            regarding: e.regarding.clone(),
            reason: e.reason.clone(),
            message: e.note.clone(),
            count: e.count,
            last_seen: e.time,
            age_secs: age(self.now, e.time),
        }
    }

    /// The `regarding` names of a Deployment's ReplicaSets (`<name>-<hash>`) that have events:
    /// a ReplicaSet that cannot create pods (quota, admission) says so only there.
    fn replica_set_events(&self, namespace: &str, deployment: &str) -> Vec<String> {
        let prefix = format!("ReplicaSet/{namespace}/{deployment}-");
        self.model
            .events_by_regarding
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| !k[prefix.len()..].contains('-'))
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn pod_lines(&self, mut pods: Vec<&PendingPod>) -> (Vec<PodLine>, usize) {
        pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let more = pods.len().saturating_sub(PODS_SHOWN);
        let lines = pods
            .into_iter()
            .take(PODS_SHOWN)
            .map(|p| {
                let (reason, message) = p.why();
                PodLine {
                    namespace: p.namespace.clone(),
                    name: p.name.clone(),
                    node: p.node.clone(),
                    reason,
                    message,
                    age_secs: age(self.now, p.created),
                    events: self.events(&[format!("Pod/{}/{}", p.namespace, p.name)]),
                }
            })
            .collect();
        (lines, more)
    }

    /// Fills in a target's pods and events.
    fn complete(&self, mut w: WaitedFor) -> WaitedFor {
        let pods = self.by_owner.get(&(w.namespace.as_str(), w.kind.as_str(), w.name.as_str()));
        (w.pods, w.more_pods) = self.pod_lines(pods.cloned().unwrap_or_default());
        let mut regarding = vec![w.id()];
        if w.kind == "Deployment" {
            regarding.extend(self.replica_set_events(&w.namespace, &w.name));
        }
        w.events = self.events(&regarding);
        w
    }

    /// The pods of a HelmRelease's release that are Pending, as one waited-for entry.
    fn release_pods(&self, obj: &FluxObject) -> Option<WaitedFor> {
        let (namespace, name) = release_of(obj);
        let pods = self.by_instance.get(&(namespace.as_str(), name.as_str()))?;
        let (pods, more_pods) = self.pod_lines(pods.clone());
        Some(WaitedFor {
            kind: "HelmRelease".into(),
            detail: format!("release {namespace}/{name}: pods labelled app.kubernetes.io/instance={name}"),
            namespace,
            name,
            status: String::new(),
            pods,
            more_pods,
            events: Vec::new(),
        })
    }

    /// The chain from `obj` down its first not-ready dependency per step, as the graph's
    /// root-cause walk goes: stops at an object that is not Waiting, a missing dependency,
    /// a loop, or `MAX_CHAIN`.
    fn chain(&self, obj: &'a FluxObject) -> (Vec<ChainLink>, bool) {
        let mut links = Vec::new();
        let mut cur = obj;
        loop {
            let (state, age_secs) = self.state_of(cur);
            let waiting = state.state == ObjectState::Waiting;
            links.push(ChainLink { key: cur.key.clone(), state, age_secs });
            if !waiting {
                self.source_links(cur, &mut links);
                return (links, false);
            }
            if links.len() >= MAX_CHAIN {
                return (links, true);
            }
            let next = cur.depends_on.iter().find_map(|d| {
                let key =
                    FluxKey { kind: cur.key.kind, namespace: d.namespace.clone(), name: d.name.clone() };
                match self.model.flux.get(&key) {
                    None => Some(None),
                    Some(o) if self.state_of(o).0.state != ObjectState::Ready => Some(Some(o)),
                    Some(_) => None,
                }
            });
            match next {
                Some(Some(o)) if !links.iter().any(|l| l.key == o.key) => cur = o,
                // Nothing it depends on blocks it: the graph looks at its source next.
                None => {
                    self.source_links(cur, &mut links);
                    return (links, false);
                }
                _ => return (links, false),
            }
        }
    }

    /// Below an object that is not Ready for its own sake, the sources it reads its artifact
    /// through (HelmChart, then the chart's repository) as long as they are not Ready either:
    /// the graph's root cause is the deepest of them.
    fn source_links(&self, obj: &FluxObject, links: &mut Vec<ChainLink>) {
        if matches!(self.state_of(obj).0.state, ObjectState::Ready | ObjectState::Suspended) {
            return;
        }
        let mut cur = read_source(&self.model.flux, obj);
        while let Some(src) = cur.as_ref().and_then(|k| self.model.flux.get(k)) {
            let (state, age_secs) = self.state_of(src);
            if !blocks(state.state) || links.iter().any(|l| l.key == src.key) || links.len() >= MAX_CHAIN {
                return;
            }
            links.push(ChainLink { key: src.key.clone(), state, age_secs });
            cur = read_source(&self.model.flux, src);
        }
    }

    fn blind_notes(&self, key: &FluxKey, waits: bool) -> Vec<String> {
        let mut kinds = vec![ResourceKind::Flux(key.kind)];
        if waits {
            kinds.push(ResourceKind::PendingPod);
        }
        kinds.push(ResourceKind::Event);
        kinds
            .into_iter()
            .filter_map(|k| {
                let state = self.model.watch(k);
                (state != WatchState::Live).then(|| {
                    let what = match k {
                        ResourceKind::PendingPod => ": cannot see why the workloads it waits for do not run",
                        ResourceKind::Event => ": no events to show",
                        _ => "",
                    };
                    format!("{}: {}{what}", k.label(), watch_words(&state))
                })
            })
            .collect()
    }

    /// Explains the object `key` (found or not).
    pub fn explain(&self, key: &FluxKey) -> Explanation {
        let Some(obj) = self.model.flux.get(key) else {
            let watch = self.model.watch(ResourceKind::Flux(key.kind));
            let cause = match &watch {
                WatchState::Live | WatchState::Lost { .. } => format!("{key} not found"),
                other => format!("{key} cannot be seen: {}: {}", key.kind.plural(), watch_words(other)),
            };
            return Explanation {
                key: key.clone(),
                found: false,
                outcome: Outcome::Unknown,
                state: None,
                age_secs: None,
                cause,
                conditions: Vec::new(),
                chain: Vec::new(),
                chain_truncated: false,
                root_cause: None,
                waits_for_of: None,
                waits_for: Vec::new(),
                missing_kinds: Vec::new(),
                events: Vec::new(),
                blind: self.blind_notes(key, false),
            };
        };
        let (state, age_secs) = self.state_of(obj);
        let conditions = obj
            .conditions
            .iter()
            .map(|c| ConditionLine {
                type_: c.type_.to_string(),
                status: c.status.to_string(),
                reason: c.reason.to_string(),
                message: c.message.to_string(),
                age_secs: age(self.now, c.last_transition),
            })
            .collect();
        let ready = matches!(state.state, ObjectState::Ready | ObjectState::Suspended);
        // A source is not in the dependency graph, but a HelmChart still reads a repository.
        let root_cause = match self.graph.node(key) {
            Some(n) => n.root_cause.clone(),
            None if !ready => source_cause(&self.model.flux, obj),
            None => None,
        };
        let (chain, chain_truncated) = self.chain(obj);

        // What the bottom of the chain waits for: its own message names it.
        let bottom = chain.last().map(|l| &l.key).and_then(|k| self.model.flux.get(k)).filter(|_| !ready);
        let (mut waits_for, mut missing) = (Vec::new(), Vec::new());
        if let Some(b) = bottom {
            let (bstate, _) = self.state_of(b);
            let messages: Vec<&str> = std::iter::once(bstate.message.as_ref())
                .chain(b.conditions.iter().filter(|c| &*c.status != "True").map(|c| c.message.as_ref()))
                .collect();
            for m in &messages {
                for t in health_check_targets(m) {
                    if !waits_for.iter().any(|w: &WaitedFor| w.id() == t.id()) {
                        waits_for.push(self.complete(t));
                    }
                }
                for k in missing_kinds(m) {
                    if !missing.contains(&k) {
                        missing.push(k);
                    }
                }
            }
            if b.key.kind == FluxKind::HelmRelease {
                waits_for.extend(self.release_pods(b));
            }
        }
        let waits_for_of = bottom.map(|b| b.key.clone());
        let cause = if ready {
            match state.state {
                ObjectState::Suspended => "suspended: reconciliation is off (spec.suspend: true)".into(),
                _ => "Ready".into(),
            }
        } else {
            cause_line(&waits_for, &missing, root_cause.as_ref(), &state, key)
        };
        let watch = self.model.watch(ResourceKind::Flux(key.kind));
        let outcome = match (&watch, ready) {
            (WatchState::Syncing | WatchState::Forbidden(_) | WatchState::NotInstalled, _) => {
                Outcome::Unknown
            }
            (_, true) if state.state == ObjectState::Ready => Outcome::Ready,
            _ => Outcome::NotReady,
        };
        // Pending pods matter when something is waited for (a HelmRelease's release always may be).
        let waits = !waits_for.is_empty() || bottom.is_some_and(|b| b.key.kind == FluxKind::HelmRelease);
        Explanation {
            key: key.clone(),
            found: true,
            outcome,
            state: Some(state),
            age_secs,
            cause,
            conditions,
            chain,
            chain_truncated,
            root_cause,
            waits_for_of: if waits_for.is_empty() && missing.is_empty() { None } else { waits_for_of },
            waits_for,
            missing_kinds: missing,
            events: self.events(&[format!("{}/{}/{}", key.kind.as_str(), key.namespace, key.name)]),
            blind: self.blind_notes(key, waits),
        }
    }
}

/// The one line naming the deepest visible cause: a waited-for pod's reason first (what
/// actually keeps the workload from running), then a missing kind, then a waited-for object
/// with no pod to blame, then the chain's root cause.
fn cause_line(
    waits_for: &[WaitedFor],
    missing: &[MissingKind],
    root: Option<&RootCause>,
    state: &StateDetail,
    key: &FluxKey,
) -> String {
    if let Some(p) = waits_for.iter().flat_map(|w| &w.pods).next() {
        let message = if p.message.is_empty() { String::new() } else { format!(": {}", p.message) };
        return format!("pod {}/{} Pending: {}{message}", p.namespace, p.name, p.reason);
    }
    if let Some(m) = missing.first() {
        let version = if m.version.is_empty() { String::new() } else { format!(" in {}", m.version) };
        return format!("CRD not installed or not established: no kind {}{version}", m.kind);
    }
    if let Some(w) = waits_for.iter().find(|w| w.kind == "CustomResourceDefinition") {
        return format!("CRD {} not established (status: {})", w.name, w.status);
    }
    if let Some(w) = waits_for.first() {
        let status = if w.status.is_empty() { String::new() } else { format!(" is {}", w.status) };
        let why = w.events.first().map(|e| format!(": {}: {}", e.reason, e.message)).unwrap_or_default();
        return format!("{}{status}{why}", w.id());
    }
    match root {
        Some(RootCause { missing: Some(d), .. }) => {
            format!("dependency {}/{} does not exist", d.namespace, d.name)
        }
        Some(rc) => {
            let who = rc.key.as_ref().map_or_else(|| "unknown object".to_string(), |k| k.to_string());
            let reason =
                if rc.reason.is_empty() { rc.state.as_str().to_string() } else { rc.reason.to_string() };
            let message = if rc.message.is_empty() { String::new() } else { format!(": {}", rc.message) };
            format!("{who} {}: {reason}{message}", rc.state.as_str())
        }
        None => {
            let reason = if state.reason.is_empty() { state.state.as_str() } else { &state.reason };
            let message =
                if state.message.is_empty() { String::new() } else { format!(": {}", state.message) };
            format!("{key} {}: {reason}{message}", state.state.as_str())
        }
    }
}

/// Explains one object at time `now` (computes the dependency graph first).
pub fn explain(model: &Model, key: &FluxKey, now: Time) -> Explanation {
    let graph = dependency_graph(model, now);
    Explainer::new(model, &graph, now).explain(key)
}

/// Explanations of every Flux object that is neither Ready nor Suspended, in key order.
pub fn explanations(
    model: &Model,
    graph: &DependencyGraph,
    assignment: &AssignmentView,
    now: Time,
) -> Vec<Explanation> {
    // The assignment keeps the objects that are not ready: a healthy cluster pays nothing.
    let mut keys: Vec<&FluxKey> = assignment.unready.iter().map(|o| &o.key).collect();
    if keys.is_empty() {
        return Vec::new();
    }
    keys.sort();
    let explainer = Explainer::new(model, graph, now);
    keys.into_iter().map(|k| explainer.explain(k)).collect()
}
