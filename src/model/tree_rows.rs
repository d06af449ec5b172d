//! The Dependencies panel's rows: each tree node, and a root-cause line under the nodes
//! blocked by something else. Kept as a Fenwick tree of those lines over tree positions,
//! so row `r` is found in O(log n) and a status change moves one count: a frame reads only
//! the rows it draws, whatever the size of the graph.

/// Which tree positions carry a root-cause line under their node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TreeRows {
    /// Fenwick sums, 1-based: `sums[i]` counts the marks in positions `(i - lowbit(i), i]`.
    sums: Vec<u32>,
    marked: Vec<bool>,
    total: usize,
}

/// One row of the tree: the node at a tree position, or the root-cause line under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeRow {
    /// The node at this tree position.
    Node(usize),
    /// The root-cause line under the node at this tree position.
    Cause(usize),
}

impl TreeRows {
    /// Rows for tree positions `0..marked.len()`, those marked with a line under them.
    pub fn new(marked: Vec<bool>) -> TreeRows {
        let n = marked.len();
        let mut sums = vec![0u32; n + 1];
        for (i, &m) in marked.iter().enumerate() {
            sums[i + 1] += u32::from(m);
            let up = (i + 1) + lowbit(i + 1);
            if up <= n {
                sums[up] += sums[i + 1];
            }
        }
        let total = marked.iter().filter(|&&m| m).count();
        TreeRows { sums, marked, total }
    }

    /// How many rows: every node plus every root-cause line.
    pub fn len(&self) -> usize {
        self.marked.len() + self.total
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.marked.is_empty()
    }

    /// Sets whether position `pos` has a root-cause line under it.
    pub fn set(&mut self, pos: usize, on: bool) {
        let Some(m) = self.marked.get_mut(pos) else { return };
        if *m == on {
            return;
        }
        *m = on;
        self.total = if on { self.total + 1 } else { self.total - 1 };
        let mut i = pos + 1;
        while i < self.sums.len() {
            self.sums[i] = if on { self.sums[i] + 1 } else { self.sums[i] - 1 };
            i += lowbit(i);
        }
    }

    /// Row `row`: the largest position `t` whose first row `t + marks before t` is at most
    /// `row`, found by one descent of the Fenwick tree (that first row grows with `t`).
    pub fn row(&self, row: usize) -> Option<TreeRow> {
        let n = self.marked.len();
        let mut pos = 0;
        let mut before = 0usize;
        let mut step = if n == 0 { 0 } else { 1 << (usize::BITS - 1 - n.leading_zeros()) };
        while step > 0 {
            let next = pos + step;
            if next <= n && next + before + self.sums[next] as usize <= row {
                pos = next;
                before += self.sums[next] as usize;
            }
            step >>= 1;
        }
        match row - (pos + before) {
            _ if pos >= n => None,
            0 => Some(TreeRow::Node(pos)),
            1 if self.marked[pos] => Some(TreeRow::Cause(pos)),
            _ => None,
        }
    }
}

fn lowbit(i: usize) -> usize {
    i & i.wrapping_neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rows spelled out one by one, to compare the index with.
    fn spelled(marked: &[bool]) -> Vec<TreeRow> {
        let mut rows = Vec::new();
        for (t, &m) in marked.iter().enumerate() {
            rows.push(TreeRow::Node(t));
            if m {
                rows.push(TreeRow::Cause(t));
            }
        }
        rows
    }

    fn all_rows(rows: &TreeRows) -> Vec<TreeRow> {
        (0..rows.len()).map(|r| rows.row(r).expect("a row below len")).collect()
    }

    #[test]
    fn empty_and_past_the_end_have_no_row() {
        assert_eq!(TreeRows::new(Vec::new()).row(0), None);
        let rows = TreeRows::new(vec![false, true]);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows.row(3), None);
    }

    proptest! {
        #[test]
        fn rows_equal_the_spelled_out_list_after_any_changes(
            start in proptest::collection::vec(any::<bool>(), 0..200),
            flips in proptest::collection::vec((any::<usize>(), any::<bool>()), 0..50),
        ) {
            let mut marked = start.clone();
            let mut rows = TreeRows::new(start);
            prop_assert_eq!(all_rows(&rows), spelled(&marked));
            for (at, on) in flips {
                if marked.is_empty() { break; }
                let at = at % marked.len();
                marked[at] = on;
                rows.set(at, on);
                prop_assert_eq!(all_rows(&rows), spelled(&marked));
                prop_assert_eq!(&rows, &TreeRows::new(marked.clone()));
            }
        }
    }
}
