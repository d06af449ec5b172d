//! The `dependsOn` graph of Kustomizations and HelmReleases, and the root cause at
//! the bottom of every blocked chain.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::flux_state::{ObjectState, StateDetail, object_state, state_age_secs};
use super::objects::{DependencyRef, FluxKey, FluxKind, FluxObject, Time};
use super::store::Model;

/// What blocks a chain, found at its bottom. Reasons are Flux's, except where this model
/// names what Flux does not report: `DependencyNotFound`, `DependencyCycle`, `Suspended`,
/// `GenerationNotObserved` (Stale) and `NotReconciled` (never reconciled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootCause {
    /// The first not-ready object that is not itself waiting (None: a missing dependency).
    pub key: Option<FluxKey>,
    /// Set when the bottom of the chain is a dependency that does not exist.
    pub missing: Option<DependencyRef>,
    /// Its state (Unknown for a missing one).
    pub state: ObjectState,
    /// Its reason.
    pub reason: String,
    /// Its message.
    pub message: String,
}

/// One object in the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphNode {
    /// The object.
    pub key: FluxKey,
    /// Its state.
    pub state: StateDetail,
    /// Seconds in this state at the snapshot's time, if known.
    pub age_secs: Option<i64>,
    /// Revision, if any.
    pub revision: Option<String>,
    /// Dependencies that exist.
    pub depends_on: Vec<FluxKey>,
    /// Dependencies that do not exist.
    pub missing: Vec<DependencyRef>,
    /// Longest path to a node with no dependencies (0 for roots); cycles count as 0.
    pub depth: usize,
    /// For a blocked object (not Ready): what is at the bottom.
    pub root_cause: Option<RootCause>,
}

/// The dependency graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependencyGraph {
    /// Nodes ordered by depth, then key: dependencies before dependents.
    pub nodes: Vec<GraphNode>,
    /// Each cycle once, as the keys along it.
    pub cycles: Vec<Vec<FluxKey>>,
}

/// Strongly connected components of `edges` (Tarjan, iterative so a 20,000-deep chain
/// cannot overflow the stack). Components come out dependencies first: a component is
/// emitted only after every component it reaches.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let (mut index, mut low) = (vec![UNSEEN; n], vec![0; n]);
    let mut on_stack = vec![false; n];
    let (mut stack, mut out, mut next) = (Vec::new(), Vec::new(), 0);
    for start in 0..n {
        if index[start] != UNSEEN {
            continue;
        }
        // Each frame is (node, position of the next edge to look at).
        let mut frames = vec![(start, 0usize)];
        index[start] = next;
        low[start] = next;
        next += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut pos)) = frames.last_mut() {
            if let Some(&w) = edges[v].get(*pos) {
                *pos += 1;
                if index[w] == UNSEEN {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    frames.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(parent, _)) = frames.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(component);
            }
        }
    }
    out
}

/// The members of a cyclic component in dependency order, starting from its smallest key:
/// for a simple cycle exactly the keys along it.
fn cycle_order(component: &[usize], edges: &[Vec<usize>], keys: &[&FluxKey]) -> Vec<usize> {
    let inside: HashSet<usize> = component.iter().copied().collect();
    let Some(&first) = component.iter().min_by_key(|&&i| keys[i]) else { return Vec::new() };
    let (mut seen, mut order, mut todo) = (HashSet::new(), Vec::new(), vec![first]);
    while let Some(v) = todo.pop() {
        if !seen.insert(v) {
            continue;
        }
        order.push(v);
        todo.extend(edges[v].iter().rev().filter(|w| inside.contains(w) && !seen.contains(w)));
    }
    order
}

fn short(key: &FluxKey) -> String {
    format!("{}/{}", key.namespace, key.name)
}

/// The next step down a blocked chain from a Waiting object.
enum Step {
    Node(usize),
    Missing(DependencyRef),
}

struct Walker<'a> {
    objs: &'a [&'a FluxObject],
    states: &'a [StateDetail],
    index: &'a HashMap<FluxKey, usize>,
    memo: Vec<Option<RootCause>>,
    all: &'a std::collections::BTreeMap<FluxKey, FluxObject>,
}

impl Walker<'_> {
    /// The object itself as a root cause. Where its conditions are frozen or absent their
    /// reason would mislead (a suspended object still says ReconciliationSucceeded), so the
    /// reason names the state instead.
    fn own(&self, i: usize) -> RootCause {
        let (obj, s) = (self.objs[i], &self.states[i]);
        let (reason, message) = match s.state {
            ObjectState::Suspended => {
                ("Suspended".to_string(), "reconciliation is suspended (spec.suspend: true)".to_string())
            }
            ObjectState::Stale => (
                "GenerationNotObserved".to_string(),
                format!(
                    "generation {} not yet observed (status is of generation {})",
                    obj.generation,
                    obj.observed_generation.unwrap_or_default()
                ),
            ),
            ObjectState::Unknown if s.reason.is_empty() => self.unreconciled(obj),
            _ => (s.reason.clone(), s.message.clone()),
        };
        RootCause { key: Some(obj.key.clone()), missing: None, state: s.state, reason, message }
    }

    /// Why an object has no status yet: usually its source, when that is missing or not
    /// Ready (nothing to reconcile from), otherwise just not reconciled yet.
    fn unreconciled(&self, obj: &FluxObject) -> (String, String) {
        let source = obj.source_ref.as_deref().and_then(|r| {
            let mut parts = r.splitn(3, '/');
            let kind = FluxKind::parse(parts.next()?)?;
            Some(FluxKey { kind, namespace: parts.next()?.to_string(), name: parts.next()?.to_string() })
        });
        match source {
            Some(key) => match self.all.get(&key) {
                None => ("SourceNotFound".into(), format!("waiting for its source: {key} does not exist")),
                Some(src) => {
                    let st = object_state(src);
                    if st.state == ObjectState::Ready {
                        ("NotReconciled".into(), "no status yet: waiting to be reconciled".into())
                    } else {
                        let why =
                            if st.message.is_empty() { String::new() } else { format!(": {}", st.message) };
                        (
                            "SourceNotReady".into(),
                            format!("waiting for its source: {key} is {}{why}", st.state.as_str()),
                        )
                    }
                }
            },
            None => ("NotReconciled".into(), "no status yet: waiting to be reconciled".into()),
        }
    }

    /// The first dependency, in `dependsOn` order, that is missing or not Ready.
    fn next(&self, i: usize) -> Option<Step> {
        let obj = self.objs[i];
        obj.depends_on.iter().find_map(|d| {
            let key = FluxKey { kind: obj.key.kind, namespace: d.namespace.clone(), name: d.name.clone() };
            match self.index.get(&key) {
                None => Some(Step::Missing(d.clone())),
                Some(&j) if self.states[j].state != ObjectState::Ready => Some(Step::Node(j)),
                Some(_) => None,
            }
        })
    }

    /// Walks down from `start` following one not-ready dependency per step. Each object is
    /// walked at most once over all calls: the path's result is memoized for every member.
    fn root_cause(&mut self, start: usize) -> RootCause {
        let mut path: Vec<usize> = Vec::new();
        let mut on_path: HashSet<usize> = HashSet::new();
        let mut cur = start;
        let cause = loop {
            if let Some(known) = &self.memo[cur] {
                break known.clone();
            }
            if on_path.contains(&cur) {
                let pos = path.iter().position(|&p| p == cur).unwrap_or(0);
                break self.cycle_cause(&path[pos..]);
            }
            if self.states[cur].state != ObjectState::Waiting {
                break self.own(cur);
            }
            path.push(cur);
            on_path.insert(cur);
            match self.next(cur) {
                None => break self.own(cur),
                Some(Step::Missing(d)) => {
                    break RootCause {
                        key: None,
                        message: format!("dependency '{}/{}' not found", d.namespace, d.name),
                        missing: Some(d),
                        state: ObjectState::Unknown,
                        reason: "DependencyNotFound".into(),
                    };
                }
                Some(Step::Node(j)) => cur = j,
            }
        };
        for p in path {
            self.memo[p] = Some(cause.clone());
        }
        cause
    }

    fn cycle_cause(&self, cycle: &[usize]) -> RootCause {
        let Some(pos) = (0..cycle.len()).min_by_key(|&i| &self.objs[cycle[i]].key) else {
            return RootCause {
                key: None,
                missing: None,
                state: ObjectState::Unknown,
                reason: "DependencyCycle".into(),
                message: "dependency cycle".into(),
            };
        };
        let order: Vec<usize> = cycle[pos..].iter().chain(&cycle[..pos]).copied().collect();
        let mut names: Vec<String> = order.iter().map(|&i| short(&self.objs[i].key)).collect();
        names.push(short(&self.objs[order[0]].key));
        RootCause {
            key: Some(self.objs[order[0]].key.clone()),
            missing: None,
            state: self.states[order[0]].state,
            reason: "DependencyCycle".into(),
            message: format!("dependency cycle: {}", names.join(" -> ")),
        }
    }
}

/// Builds the graph at time `now`. Dependencies resolve within the dependent's kind
/// (Kustomizations on Kustomizations, HelmReleases on HelmReleases), as Flux does.
/// Every step is linear in objects plus edges; cycles are found, never followed forever.
pub fn dependency_graph(model: &Model, now: Time) -> DependencyGraph {
    let objs: Vec<&FluxObject> = model
        .flux
        .values()
        .filter(|o| matches!(o.key.kind, FluxKind::Kustomization | FluxKind::HelmRelease))
        .collect();
    let index: HashMap<FluxKey, usize> = objs.iter().enumerate().map(|(i, o)| (o.key.clone(), i)).collect();
    let keys: Vec<&FluxKey> = objs.iter().map(|o| &o.key).collect();
    let states: Vec<StateDetail> = objs.iter().map(|o| object_state(o)).collect();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); objs.len()];
    let mut missing: Vec<Vec<DependencyRef>> = vec![Vec::new(); objs.len()];
    for (i, obj) in objs.iter().enumerate() {
        for d in &obj.depends_on {
            let key = FluxKey { kind: obj.key.kind, namespace: d.namespace.clone(), name: d.name.clone() };
            match index.get(&key) {
                Some(&j) if !edges[i].contains(&j) => edges[i].push(j),
                Some(_) => {}
                None if !missing[i].contains(d) => missing[i].push(d.clone()),
                None => {}
            }
        }
    }

    let mut depth = vec![0usize; objs.len()];
    let mut cycles = Vec::new();
    for component in strongly_connected(&edges) {
        let cyclic = match component.as_slice() {
            [v] => edges[*v].contains(v),
            _ => true,
        };
        if cyclic {
            let order = cycle_order(&component, &edges, &keys);
            cycles.push(order.into_iter().map(|i| keys[i].clone()).collect::<Vec<_>>());
        } else if let [v] = component.as_slice() {
            depth[*v] = edges[*v].iter().map(|&d| depth[d].saturating_add(1)).max().unwrap_or(0);
        }
    }
    cycles.sort();

    let mut walker = Walker {
        objs: &objs,
        states: &states,
        index: &index,
        memo: vec![None; objs.len()],
        all: &model.flux,
    };
    let mut nodes: Vec<GraphNode> = (0..objs.len())
        .map(|i| {
            let blocked = !matches!(states[i].state, ObjectState::Ready | ObjectState::Suspended);
            GraphNode {
                key: keys[i].clone(),
                state: states[i].clone(),
                age_secs: state_age_secs(objs[i], &states[i], now),
                revision: objs[i].revision.clone(),
                depends_on: edges[i].iter().map(|&j| keys[j].clone()).collect(),
                missing: std::mem::take(&mut missing[i]),
                depth: depth[i],
                root_cause: blocked.then(|| walker.root_cause(i)),
            }
        })
        .collect();
    nodes.sort_by(|a, b| a.depth.cmp(&b.depth).then_with(|| a.key.cmp(&b.key)));
    DependencyGraph { nodes, cycles }
}
