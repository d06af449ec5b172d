//! The `dependsOn` graph of Kustomizations and HelmReleases, and the root cause at
//! the bottom of every blocked chain.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use super::flux_state::{ObjectState, StateDetail, object_state};
use super::graph_index::GraphIndex;
use super::objects::{DependencyRef, FluxKey, FluxKind, FluxObject, Text, Time};
use super::store::Model;
use super::tree_rows::TreeRows;

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
    pub reason: Text,
    /// Its message.
    pub message: Text,
}

/// One object in the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphNode {
    /// The object.
    pub key: FluxKey,
    /// Its state.
    pub state: StateDetail,
    /// Seconds in this state at the snapshot's time, if known (see [`DependencyGraph::stamp`]).
    pub age_secs: Option<i64>,
    /// When it entered this state, if known: ages are computed from it when drawn.
    #[serde(skip)]
    pub since: Option<Time>,
    /// Revision, if any.
    pub revision: Option<Text>,
    /// Dependencies that exist.
    pub depends_on: Vec<FluxKey>,
    /// Dependencies that do not exist.
    pub missing: Vec<DependencyRef>,
    /// Longest path to a node with no dependencies (0 for roots); cycles count as 0.
    pub depth: usize,
    /// For a blocked object (not Ready): what is at the bottom.
    pub root_cause: Option<RootCause>,
}

impl GraphNode {
    /// The root cause when it lies elsewhere (a failed node is its own cause and says so
    /// in its own message): then the panel draws a root-cause line under the node.
    pub fn cause_elsewhere(&self) -> Option<&RootCause> {
        self.root_cause.as_ref().filter(|rc| rc.missing.is_some() || rc.key.as_ref() != Some(&self.key))
    }
}

/// The dependency graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct DependencyGraph {
    /// Nodes ordered by depth, then key: dependencies before dependents. A persistent
    /// vector shared with the incremental index: a view costs a pointer, and changing one
    /// row copies only the path to it, whatever the size of the graph.
    pub nodes: imbl::Vector<Arc<GraphNode>>,
    /// Each cycle once, as the keys along it.
    pub cycles: Vec<Vec<FluxKey>>,
    /// The tree the Dependencies panel draws, computed with the structure (not per frame).
    #[serde(skip)]
    pub tree: Arc<Tree>,
    /// How many nodes are blocked (neither Ready nor Suspended): the tab's badge, kept
    /// as rows change rather than counted per frame.
    #[serde(skip)]
    pub blocked: usize,
    /// Where each object's node is in `nodes`, kept with the shape.
    #[serde(skip)]
    pub position: Arc<HashMap<FluxKey, usize>>,
    /// The panel's rows (nodes in tree order, a root-cause line under those blocked by
    /// something else), kept as root causes change so a frame reads only what it draws.
    #[serde(skip)]
    pub rows: Arc<TreeRows>,
    /// Who depends on each node (positions in `nodes`), kept with the shape.
    #[serde(skip)]
    pub needed_by: Arc<Vec<Vec<usize>>>,
}

/// Whether a state blocks what depends on it and counts against the graph.
pub fn blocks(state: ObjectState) -> bool {
    !matches!(state, ObjectState::Ready | ObjectState::Suspended)
}

/// The dependency graph drawn as a tree: each node under the dependency that sets its
/// depth, in depth-first order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tree {
    /// Positions in `nodes`, depth first.
    pub order: Vec<usize>,
    /// Tree parent of each node (`None` for roots).
    pub parent: Vec<Option<usize>>,
    /// Whether each node is the last child of its parent.
    pub last: Vec<bool>,
    /// Where each node is in `order` (the inverse of `order`).
    pub rank: Vec<usize>,
}

/// Strongly connected components of `edges` (Tarjan, iterative so a 20,000-deep chain
/// cannot overflow the stack). Components come out dependencies first: a component is
/// emitted only after every component it reaches.
pub(super) fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
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
pub(super) fn cycle_order(component: &[usize], edges: &[Vec<usize>], keys: &[&FluxKey]) -> Vec<usize> {
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

/// Walks blocked chains down to their root cause over the graph's arrays (positions index
/// `keys`, `states` and `edges`); objects are read from the model's store by key.
pub(super) struct Walker<'a> {
    pub(super) keys: &'a [FluxKey],
    pub(super) states: &'a [StateDetail],
    pub(super) index: &'a HashMap<FluxKey, usize>,
    pub(super) memo: HashMap<usize, RootCause>,
    pub(super) all: &'a BTreeMap<FluxKey, FluxObject>,
}

impl Walker<'_> {
    fn obj(&self, i: usize) -> Option<&FluxObject> {
        self.all.get(&self.keys[i])
    }

    /// The object itself as a root cause. Where its conditions are frozen or absent their
    /// reason would mislead (a suspended object still says ReconciliationSucceeded), so the
    /// reason names the state instead.
    fn own(&self, i: usize) -> RootCause {
        let s = &self.states[i];
        // A source that is not Ready is the cause of whatever reads it: its own reason says
        // why (the reader only says "artifact not found" or "source not ready").
        if s.state != ObjectState::Suspended {
            if let Some(rc) = self.obj(i).and_then(|obj| source_cause(self.all, obj)) {
                return rc;
            }
        }
        let (reason, message) = match (s.state, self.obj(i)) {
            (ObjectState::Suspended, _) => {
                ("Suspended".into(), "reconciliation is suspended (spec.suspend: true)".into())
            }
            (ObjectState::Stale, Some(obj)) => (
                "GenerationNotObserved".into(),
                format!(
                    "generation {} not yet observed (status is of generation {})",
                    obj.generation,
                    obj.observed_generation.unwrap_or_default()
                )
                .into(),
            ),
            (ObjectState::Unknown, Some(obj)) if s.reason.is_empty() => {
                let (reason, message) = self.unreconciled(obj);
                (reason.into(), message.into())
            }
            _ => (s.reason.clone(), s.message.clone()),
        };
        RootCause { key: Some(self.keys[i].clone()), missing: None, state: s.state, reason, message }
    }

    /// Why an object has no status yet: usually its source, when that is missing or not
    /// Ready (nothing to reconcile from), otherwise just not reconciled yet.
    fn unreconciled(&self, obj: &FluxObject) -> (String, String) {
        match read_source(self.all, obj) {
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
        let obj = self.obj(i)?;
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
    pub(super) fn root_cause(&mut self, start: usize) -> RootCause {
        let mut path: Vec<usize> = Vec::new();
        let mut on_path: HashSet<usize> = HashSet::new();
        let mut cur = start;
        let cause = loop {
            if let Some(known) = self.memo.get(&cur) {
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
                        message: format!("dependency '{}/{}' not found", d.namespace, d.name).into(),
                        missing: Some(d),
                        state: ObjectState::Unknown,
                        reason: "DependencyNotFound".into(),
                    };
                }
                Some(Step::Node(j)) => cur = j,
            }
        };
        for p in path {
            self.memo.insert(p, cause.clone());
        }
        cause
    }

    fn cycle_cause(&self, cycle: &[usize]) -> RootCause {
        let Some(pos) = (0..cycle.len()).min_by_key(|&i| &self.keys[cycle[i]]) else {
            return RootCause {
                key: None,
                missing: None,
                state: ObjectState::Unknown,
                reason: "DependencyCycle".into(),
                message: "dependency cycle".into(),
            };
        };
        let order: Vec<usize> = cycle[pos..].iter().chain(&cycle[..pos]).copied().collect();
        let mut names: Vec<String> = order.iter().map(|&i| short(&self.keys[i])).collect();
        names.push(short(&self.keys[order[0]]));
        RootCause {
            key: Some(self.keys[order[0]].clone()),
            missing: None,
            state: self.states[order[0]].state,
            reason: "DependencyCycle".into(),
            message: format!("dependency cycle: {}", names.join(" -> ")).into(),
        }
    }
}

/// The source an object reads (`spec.sourceRef`), as a key.
pub fn source_key(obj: &FluxObject) -> Option<FluxKey> {
    let r = obj.source_ref.as_deref()?;
    let mut parts = r.splitn(3, '/');
    let kind = FluxKind::parse(parts.next()?)?;
    Some(FluxKey { kind, namespace: parts.next()?.into(), name: parts.next()?.into() })
}

/// The source an object reads its artifact from: `spec.sourceRef`, or for a HelmRelease its
/// `spec.chartRef`, or the HelmChart helm-controller makes of its `spec.chart` (named
/// `<namespace>-<name>` in the chart source's namespace) once that exists.
pub fn read_source(all: &BTreeMap<FluxKey, FluxObject>, obj: &FluxObject) -> Option<FluxKey> {
    let src = source_key(obj)?;
    match chart_of(obj, &src) {
        Some(chart) if all.contains_key(&chart) => Some(chart),
        _ => Some(src),
    }
}

/// The HelmChart made of a HelmRelease's `spec.chart` whose source is `src`, if that is its form
/// (a chart's source is a HelmRepository, GitRepository or Bucket; `chartRef` names the chart itself).
pub fn chart_of(obj: &FluxObject, src: &FluxKey) -> Option<FluxKey> {
    let template = matches!(src.kind, FluxKind::HelmRepository | FluxKind::GitRepository | FluxKind::Bucket);
    (obj.key.kind == FluxKind::HelmRelease && template).then(|| FluxKey {
        kind: FluxKind::HelmChart,
        namespace: src.namespace.clone(),
        name: format!("{}-{}", obj.key.namespace, obj.key.name).into(),
    })
}

/// Sources read through: a HelmRelease, its HelmChart, the chart's repository. Bounded so a
/// source that names itself cannot loop.
const SOURCE_DEPTH: usize = 4;

/// The deepest source that is not Ready (nor Suspended) down the chain an object reads its
/// artifact through, with that source's own reason and message.
pub fn source_cause(all: &BTreeMap<FluxKey, FluxObject>, obj: &FluxObject) -> Option<RootCause> {
    let mut found = None;
    let mut cur = read_source(all, obj);
    for _ in 0..SOURCE_DEPTH {
        let Some((key, src)) = cur.and_then(|k| all.get_key_value(&k)) else { break };
        let st = object_state(src);
        if !blocks(st.state) {
            break;
        }
        let (reason, message) = if st.reason.is_empty() {
            ("NotReconciled".into(), "no status yet: waiting to be reconciled".into())
        } else {
            (st.reason.clone(), st.message.clone())
        };
        found = Some(RootCause { key: Some(key.clone()), missing: None, state: st.state, reason, message });
        cur = read_source(all, src).filter(|k| k != key);
    }
    found
}

/// When an object entered its state: the deciding condition's transition, or for an
/// object never reconciled its creation.
pub fn state_since(obj: &FluxObject, detail: &StateDetail) -> Option<Time> {
    detail.since.or(if detail.state == ObjectState::Unknown { obj.created } else { None })
}

/// Builds the graph from scratch at time `now`, ages filled in. Dependencies resolve
/// within the dependent's kind (Kustomizations on Kustomizations, HelmReleases on
/// HelmReleases), as Flux does. Every step is linear in objects plus edges; cycles are
/// found, never followed forever.
pub fn dependency_graph(model: &Model, now: Time) -> DependencyGraph {
    let mut graph = GraphIndex::build(model).view().as_ref().clone();
    graph.stamp(now);
    graph
}

impl DependencyGraph {
    /// A graph of these nodes (in display order) and cycles, with its tree.
    pub fn new(nodes: Vec<GraphNode>, cycles: Vec<Vec<FluxKey>>) -> DependencyGraph {
        let nodes: Vec<Arc<GraphNode>> = nodes.into_iter().map(Arc::new).collect();
        DependencyGraph::of(nodes, cycles)
    }

    /// The graph of these shared nodes (in display order): tree, counts and row index.
    pub fn of(nodes: Vec<Arc<GraphNode>>, cycles: Vec<Vec<FluxKey>>) -> DependencyGraph {
        let tree = Arc::new(super::graph_index::tree(&nodes));
        let blocked = nodes.iter().filter(|n| blocks(n.state.state)).count();
        let position: HashMap<FluxKey, usize> =
            nodes.iter().enumerate().map(|(i, n)| (n.key.clone(), i)).collect();
        let mut needed_by = vec![Vec::new(); nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            for d in &n.depends_on {
                if let Some(&j) = position.get(d) {
                    needed_by[j].push(i);
                }
            }
        }
        let rows = Arc::new(TreeRows::new(
            tree.order.iter().map(|&i| nodes[i].cause_elsewhere().is_some()).collect(),
        ));
        DependencyGraph {
            nodes: nodes.into(),
            cycles,
            tree,
            blocked,
            position: Arc::new(position),
            rows,
            needed_by: Arc::new(needed_by),
        }
    }

    /// The node of this object, if it is in the graph.
    pub fn node(&self, key: &FluxKey) -> Option<&Arc<GraphNode>> {
        self.position.get(key).and_then(|&i| self.nodes.get(i))
    }

    /// Fills every node's `age_secs` for time `now` from when it entered its state.
    pub fn stamp(&mut self, now: Time) {
        for n in &mut self.nodes {
            let age = n.since.map(|t| (now - t).num_seconds().max(0));
            if n.age_secs != age {
                Arc::make_mut(n).age_secs = age;
            }
        }
    }
}
