//! Event-to-screen latency: from the moment a watch event reached shardwatch (its `at`
//! stamp, set by `cluster/` on receipt) to the frame or `--follow` line that first shows
//! it. Kept only with `--stats FILE`, written there as JSON at exit.

use std::path::{Path, PathBuf};

use chrono::Utc;
use color_eyre::eyre::{Result, WrapErr};
use serde::Serialize;

use crate::model::objects::Time;

/// Latencies seen so far, when asked for.
#[derive(Debug, Default)]
pub struct Latency {
    /// Where to write the summary; `None`: record nothing.
    path: Option<PathBuf>,
    /// Receipt times of the events not shown yet.
    waiting: Vec<Time>,
    /// Every latency, in microseconds.
    samples: Vec<u64>,
}

/// The summary written at exit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Events shown.
    pub count: usize,
    /// Median, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// Largest, milliseconds.
    pub max_ms: f64,
}

impl Latency {
    /// Records into `path` when given, else does nothing at all.
    pub fn new(path: Option<&Path>) -> Latency {
        Latency { path: path.map(Path::to_path_buf), ..Latency::default() }
    }

    /// An event received at `at` is waiting to be shown.
    pub fn received(&mut self, at: Time) {
        if self.path.is_some() {
            self.waiting.push(at);
        }
    }

    /// Everything received so far is on screen (or printed) now.
    pub fn shown(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let now = Utc::now();
        for at in self.waiting.drain(..) {
            self.samples.push((now - at).num_microseconds().unwrap_or(i64::MAX).max(0) as u64);
        }
    }

    /// The percentiles of what was recorded.
    pub fn summary(&self) -> Summary {
        let mut s = self.samples.clone();
        s.sort_unstable();
        let at = |q: f64| {
            let i = ((s.len() as f64 - 1.0) * q).round() as usize;
            s.get(i).map_or(0.0, |us| *us as f64 / 1000.0)
        };
        Summary { count: s.len(), p50_ms: at(0.5), p99_ms: at(0.99), max_ms: at(1.0) }
    }

    /// Writes the summary as JSON, when recording.
    pub fn write(&self) -> Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let json = serde_json::to_string_pretty(&self.summary())?;
        std::fs::write(path, json + "\n").wrap_err_with(|| format!("writing stats to {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_recorded_latencies() {
        let mut l = Latency::new(Some(Path::new("/nonexistent/stats.json")));
        l.samples = (1..=100).map(|ms| ms * 1000).collect();
        let s = l.summary();
        assert_eq!((s.count, s.p50_ms, s.p99_ms, s.max_ms), (100, 51.0, 99.0, 100.0));
        // Nothing is kept without a file.
        let mut off = Latency::new(None);
        off.received(Utc::now());
        off.shown();
        assert_eq!(off.summary().count, 0);
    }
}
