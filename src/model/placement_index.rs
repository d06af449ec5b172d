//! Placement kept per node, so a Node event redoes that node's row and nothing else.
//!
//! A big cluster's Nodes change all the time (status, taints, labels) while the Flux
//! controller pods are few: rows are redone for the nodes an event names, and for the nodes
//! holding controller pods when pods or Deployments change. Only whether any node carries
//! the shard label at all reaches every row (it decides whether pods are meant to be
//! pinned); when that flips, every row is redone.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::placement::{NodeRow, PlacedPod, PlacementView, Violation, assemble, node_row, pod_groups};
use super::shards::group_shard_nodes;
use super::store::{Model, PlacementChanges};

/// Placement rows per node, the rows with violations, and the view made from them.
#[derive(Debug, Clone, Default)]
pub struct PlacementIndex {
    rows: BTreeMap<String, NodeRow>,
    /// Names of the rows that contribute violations.
    flagged: BTreeSet<String>,
    /// Names of the nodes controller pods are bound to.
    with_pods: BTreeSet<String>,
    unscheduled: Vec<PlacedPod>,
    pending: Vec<Violation>,
    /// Shard label value per labelled node.
    labelled: BTreeMap<String, String>,
    view: Arc<PlacementView>,
}

impl PlacementIndex {
    /// Every row from the model.
    pub fn build(model: &Model) -> PlacementIndex {
        let mut index = PlacementIndex::default();
        index.update(model, &PlacementChanges { rebuild: true, ..Default::default() });
        index
    }

    /// The current view (shared).
    pub fn view(&self) -> Arc<PlacementView> {
        self.view.clone()
    }

    /// Nodes per shard label value, in name order.
    pub fn shard_nodes(&self) -> HashMap<String, Arc<Vec<String>>> {
        group_shard_nodes(self.labelled.iter().map(|(node, shard)| (node.as_str(), shard.as_str())))
    }

    /// Redoes the rows the changes reach; returns whether the labelled nodes changed
    /// (then the nodes per shard are worth recomputing).
    pub fn update(&mut self, model: &Model, changes: &PlacementChanges) -> bool {
        let key = model.config.shard_label.as_str();
        let had_labels = !self.labelled.is_empty();
        let before = changes.rebuild.then(|| self.labelled.clone());
        if changes.rebuild {
            self.labelled = model
                .nodes
                .values()
                .filter_map(|n| n.labels.get(key).map(|s| (n.name.clone(), s.clone())))
                .collect();
        }
        let mut labels_changed = changes.rebuild && before.as_ref() != Some(&self.labelled);
        for name in &changes.nodes {
            let now = model.nodes.get(name).and_then(|n| n.labels.get(key));
            if self.labelled.get(name) != now {
                labels_changed = true;
                match now {
                    Some(shard) => self.labelled.insert(name.clone(), shard.clone()),
                    None => self.labelled.remove(name),
                };
            }
        }
        let any = !self.labelled.is_empty();
        let everything = changes.rebuild || had_labels != any;
        if !everything && changes.nodes.is_empty() && !changes.pods {
            return false;
        }

        let mut groups = pod_groups(model);
        let mut redo: BTreeSet<String> = changes.nodes.clone();
        if everything {
            redo.extend(self.rows.keys().cloned());
            redo.extend(model.nodes.keys().cloned());
        }
        if everything || changes.pods {
            redo.extend(self.with_pods.iter().cloned());
            self.with_pods = groups.by_node.keys().map(|n| n.to_string()).collect();
            redo.extend(self.with_pods.iter().cloned());
            self.unscheduled = std::mem::take(&mut groups.unscheduled);
            self.pending = std::mem::take(&mut groups.pending);
        }
        // Rows that come out the same (a heartbeat, a label nobody reads) leave the view,
        // and so the snapshot and the screen, as they were.
        let mut changed = everything || changes.pods;
        for name in redo {
            let pods = groups.by_node.remove(name.as_str()).unwrap_or_default();
            if !model.nodes.contains_key(&name) && pods.is_empty() {
                changed |= self.rows.remove(&name).is_some();
                self.flagged.remove(&name);
                continue;
            }
            let row = node_row(model, &name, pods, any);
            if row.flagged() {
                self.flagged.insert(name.clone());
            } else {
                self.flagged.remove(&name);
            }
            changed |= self.rows.get(&name).is_none_or(|old| *old != row);
            self.rows.insert(name, row);
        }
        if changed {
            let nodes = self.rows.values().map(|r| r.view.clone()).collect();
            let flagged = self.flagged.iter().filter_map(|n| self.rows.get(n));
            self.view = Arc::new(assemble(nodes, flagged, self.unscheduled.clone(), self.pending.clone()));
        }
        labels_changed
    }
}
