//! The dependency graph kept up to date incrementally: a status change recomputes the
//! object's row and the root causes of the objects that (transitively) depend on it or
//! read it as their source; only a change of shape (an object added or removed, a
//! `dependsOn` edited, a relist) rebuilds the whole graph.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::flux_state::{StateDetail, object_state};
use super::graph::{
    DependencyGraph, GraphNode, Tree, Walker, blocks, chart_of, cycle_order, read_source, source_key,
    state_since, strongly_connected,
};
use super::objects::{DependencyRef, FluxKey, FluxKind, FluxObject};
use super::store::Model;

/// Whether a kind takes part in the `dependsOn` graph.
pub fn in_graph(kind: FluxKind) -> bool {
    matches!(kind, FluxKind::Kustomization | FluxKind::HelmRelease)
}

/// The graph's arrays, kept between changes. Positions index `keys`, `states`, `rows`.
#[derive(Debug, Clone, Default)]
pub struct GraphIndex {
    keys: Vec<FluxKey>,
    index: HashMap<FluxKey, usize>,
    states: Vec<StateDetail>,
    /// Who depends on each object (reverse edges), to find whose root cause may change.
    dependents: Vec<Vec<usize>>,
    /// Who reads each source (`spec.sourceRef`): an unreconciled reader names its source's state.
    readers: HashMap<FluxKey, Vec<usize>>,
    /// Position of each object in the view's order (depth, then key).
    slot: Vec<usize>,
    view: Arc<DependencyGraph>,
}

impl GraphIndex {
    /// Builds everything from the model's objects: linear in objects plus edges.
    pub fn build(model: &Model) -> GraphIndex {
        let objs: Vec<&FluxObject> = model.flux.values().filter(|o| in_graph(o.key.kind)).collect();
        let keys: Vec<FluxKey> = objs.iter().map(|o| o.key.clone()).collect();
        let index: HashMap<FluxKey, usize> = keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
        let states: Vec<StateDetail> = objs.iter().map(|o| object_state(o)).collect();
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); objs.len()];
        let mut missing: Vec<Vec<DependencyRef>> = vec![Vec::new(); objs.len()];
        let mut readers: HashMap<FluxKey, Vec<usize>> = HashMap::new();
        for (i, obj) in objs.iter().enumerate() {
            for d in &obj.depends_on {
                let key =
                    FluxKey { kind: obj.key.kind, namespace: d.namespace.clone(), name: d.name.clone() };
                match index.get(&key) {
                    Some(&j) if !edges[i].contains(&j) => edges[i].push(j),
                    Some(_) => {}
                    None if !missing[i].contains(d) => missing[i].push(d.clone()),
                    None => {}
                }
            }
            // Every source on the way to its artifact: a HelmRelease reads its HelmChart
            // (when it exists: added or removed, the graph is rebuilt) and the chart's source.
            if let Some(chart) = source_key(obj).and_then(|src| chart_of(obj, &src)) {
                readers.entry(chart).or_default().push(i);
            }
            let mut cur = read_source(&model.flux, obj);
            for _ in 0..4 {
                let Some(src) = cur.take() else { break };
                cur = model.flux.get(&src).and_then(|o| read_source(&model.flux, o)).filter(|k| *k != src);
                let list = readers.entry(src).or_default();
                // The chart was registered above already.
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); objs.len()];
        for (i, es) in edges.iter().enumerate() {
            for &j in es {
                dependents[j].push(i);
            }
        }

        let key_refs: Vec<&FluxKey> = keys.iter().collect();
        let mut depth = vec![0usize; objs.len()];
        let mut cycles = Vec::new();
        for component in strongly_connected(&edges) {
            let cyclic = match component.as_slice() {
                [v] => edges[*v].contains(v),
                _ => true,
            };
            if cyclic {
                let order = cycle_order(&component, &edges, &key_refs);
                cycles.push(order.into_iter().map(|i| keys[i].clone()).collect::<Vec<_>>());
            } else if let [v] = component.as_slice() {
                depth[*v] = edges[*v].iter().map(|&d| depth[d].saturating_add(1)).max().unwrap_or(0);
            }
        }
        cycles.sort();

        let mut walker =
            Walker { keys: &keys, states: &states, index: &index, memo: HashMap::new(), all: &model.flux };
        let mut rows: Vec<(usize, GraphNode)> = (0..objs.len())
            .map(|i| {
                let mut row = row(objs[i], &states[i], &mut walker);
                row.depends_on = edges[i].iter().map(|&j| keys[j].clone()).collect();
                row.missing = std::mem::take(&mut missing[i]);
                row.depth = depth[i];
                (i, row)
            })
            .collect();
        rows.sort_by(|(_, a), (_, b)| a.depth.cmp(&b.depth).then_with(|| a.key.cmp(&b.key)));
        let mut slot = vec![0; objs.len()];
        for (pos, (i, _)) in rows.iter().enumerate() {
            slot[*i] = pos;
        }
        let nodes: Vec<Arc<GraphNode>> = rows.into_iter().map(|(_, r)| Arc::new(r)).collect();
        let view = Arc::new(DependencyGraph::of(nodes, cycles));
        GraphIndex { keys, index, states, dependents, readers, slot, view }
    }

    /// The graph as of the last build or update; cheap to clone.
    pub fn view(&self) -> Arc<DependencyGraph> {
        self.view.clone()
    }

    /// Applies status changes of `changed` objects (any Flux kind) whose shape is unchanged:
    /// their rows, and the root causes of every object that reaches them through
    /// `dependsOn` or reads one as its source. Work is proportional to that region.
    pub fn update(&mut self, model: &Model, changed: &BTreeSet<FluxKey>) {
        let mut affected: Vec<usize> = Vec::new();
        for key in changed {
            if let Some(&i) = self.index.get(key) {
                if let Some(obj) = model.flux.get(key) {
                    self.states[i] = object_state(obj);
                }
                affected.push(i);
            }
            affected.extend(self.readers.get(key).into_iter().flatten().copied());
        }
        if affected.is_empty() {
            return;
        }
        // Everything that depends on an affected object may now be blocked by something else.
        let mut seen = vec![false; self.keys.len()];
        let mut todo = affected;
        let mut region = Vec::new();
        while let Some(i) = todo.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            region.push(i);
            todo.extend(self.dependents[i].iter().copied().filter(|&j| !seen[j]));
        }
        let view = Arc::make_mut(&mut self.view);
        let mut walker = Walker {
            keys: &self.keys,
            states: &self.states,
            index: &self.index,
            memo: HashMap::new(),
            all: &model.flux,
        };
        for i in region {
            let Some(obj) = model.flux.get(&self.keys[i]) else { continue };
            let node = &mut view.nodes[self.slot[i]];
            let fresh = row(obj, &self.states[i], &mut walker);
            let unchanged = node.state == fresh.state
                && node.since == fresh.since
                && node.revision == fresh.revision
                && node.root_cause == fresh.root_cause;
            if !unchanged {
                let was = blocks(node.state.state);
                let had_line = node.cause_elsewhere().is_some();
                let n = Arc::make_mut(node);
                (n.state, n.since, n.revision, n.root_cause) =
                    (fresh.state, fresh.since, fresh.revision, fresh.root_cause);
                n.age_secs = None;
                let is = blocks(n.state.state);
                view.blocked = view.blocked + usize::from(is) - usize::from(was);
                let has_line = n.cause_elsewhere().is_some();
                if has_line != had_line {
                    let rank = view.tree.rank[self.slot[i]];
                    Arc::make_mut(&mut view.rows).set(rank, has_line);
                }
            }
        }
    }
}

/// A node's own part: state, revision, since, root cause (edges and depth are the caller's).
fn row(obj: &FluxObject, state: &StateDetail, walker: &mut Walker<'_>) -> GraphNode {
    let blocked = blocks(state.state);
    let i = walker.index[&obj.key];
    GraphNode {
        key: obj.key.clone(),
        state: state.clone(),
        age_secs: None,
        since: state_since(obj, state),
        revision: obj.revision.clone(),
        depends_on: Vec::new(),
        missing: Vec::new(),
        depth: 0,
        root_cause: blocked.then(|| walker.root_cause(i)),
    }
}

/// Tree order (depth-first, graph order among siblings), parents and last-child flags.
///
/// A node hangs under a dependency one level shallower: the graph's depth is a longest
/// path, so one exists unless the node sits in a cycle, and then it becomes a root. Since
/// a parent is always shallower, the tree cannot loop whatever the input.
pub fn tree(nodes: &[Arc<GraphNode>]) -> Tree {
    let index: HashMap<&FluxKey, usize> = nodes.iter().enumerate().map(|(i, n)| (&n.key, i)).collect();
    let parent: Vec<Option<usize>> = nodes
        .iter()
        .map(|n| {
            n.depends_on
                .iter()
                .filter_map(|d| index.get(d).copied())
                .find(|&p| n.depth > 0 && nodes[p].depth + 1 == n.depth)
        })
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut roots = Vec::new();
    for (i, p) in parent.iter().enumerate() {
        match p {
            Some(p) => children[*p].push(i),
            None => roots.push(i),
        }
    }
    let mut last = vec![false; nodes.len()];
    for list in children.iter().chain(std::iter::once(&roots)) {
        if let Some(&l) = list.last() {
            last[l] = true;
        }
    }
    let mut order = Vec::with_capacity(nodes.len());
    let mut stack: Vec<usize> = roots.into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        order.push(i);
        stack.extend(children[i].iter().rev());
    }
    let mut rank = vec![0; nodes.len()];
    for (t, &i) in order.iter().enumerate() {
        rank[i] = t;
    }
    Tree { order, parent, last, rank }
}
