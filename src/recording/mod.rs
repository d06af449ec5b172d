//! Recordings: the trimmed watch events the model applied, with their times, as
//! versioned compact NDJSON, so a session can be replayed with no cluster.
//!
//! Line 1 is a [`Header`]; every other line is one [`Entry`]: `{"t":NANOS,"c":CHANGE}`
//! where `t` counts from the header's `started`. Only what the watchers kept after
//! trimming is written (no Secret is ever watched), and free text passes through the
//! same redaction as logs and errors.

pub mod player;
pub mod recorder;
pub mod replay;

use std::io::{BufRead, Write};
use std::path::Path;

use chrono::TimeDelta;
use color_eyre::eyre::{Result, WrapErr, bail, eyre};
use serde::{Deserialize, Serialize};

use crate::model::objects::Time;
use crate::model::{Change, ClusterEvent, ModelConfig, Object, WatchState};
use crate::redact::redact;

/// The name every recording's header carries, so another NDJSON file is refused plainly.
pub const FORMAT: &str = "shardwatch-recording";
/// Format version; bumped on any incompatible change of the header or the entries.
pub const VERSION: u32 = 1;

/// The first line: what the recording is and how the model read the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] of the writer.
    pub version: u32,
    /// The shardwatch that wrote it.
    pub shardwatch: String,
    /// The instant entries' offsets count from.
    pub started: Time,
    /// Where the Flux controllers ran.
    pub flux_namespace: String,
    /// The shard label key.
    pub shard_label: String,
}

impl Header {
    /// A header for a recording starting at `started` of a model read with `config`.
    pub fn new(started: Time, config: &ModelConfig) -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            shardwatch: env!("CARGO_PKG_VERSION").into(),
            started,
            flux_namespace: config.flux_namespace.clone(),
            shard_label: config.shard_label.clone(),
        }
    }

    /// How a model replaying this recording reads it (as the recording model did).
    pub fn model_config(&self) -> ModelConfig {
        ModelConfig {
            flux_namespace: self.flux_namespace.clone(),
            shard_label: self.shard_label.clone(),
            ..ModelConfig::default()
        }
    }
}

/// One recorded event: nanoseconds after the header's `started`, and the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Offset from `started`, in nanoseconds (exact: a replay stamps the same times).
    pub t: i64,
    /// What happened.
    pub c: Change,
}

/// A whole recording in memory: the header and the events with their absolute times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The first line.
    pub header: Header,
    /// The events, in the order the model applied them.
    pub events: Vec<ClusterEvent>,
}

impl Recording {
    /// Reads a recording file; errors name the file and line.
    pub fn read(path: &Path) -> Result<Recording> {
        let file =
            std::fs::File::open(path).wrap_err_with(|| format!("opening recording {}", path.display()))?;
        Recording::parse(std::io::BufReader::new(file))
            .wrap_err_with(|| format!("reading {}", path.display()))
    }

    /// Parses a recording from NDJSON lines.
    pub fn parse(input: impl BufRead) -> Result<Recording> {
        let mut lines = input.lines();
        let first = lines.next().ok_or_else(|| eyre!("empty file: not a shardwatch recording"))??;
        let header: Header =
            serde_json::from_str(&first).map_err(|_| eyre!("line 1 is not a shardwatch recording header"))?;
        if header.format != FORMAT {
            bail!("line 1 names format {:?}, not {FORMAT:?}", header.format);
        }
        if header.version > VERSION {
            bail!("recording version {} is newer than this shardwatch reads ({VERSION})", header.version);
        }
        let mut events = Vec::new();
        for (i, line) in lines.enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let entry: Entry = serde_json::from_str(&line).wrap_err_with(|| format!("line {}", i + 2))?;
            events
                .push(ClusterEvent { at: header.started + TimeDelta::nanoseconds(entry.t), change: entry.c });
        }
        Ok(Recording { header, events })
    }

    /// Where the recorded span starts: the header's instant, or an earlier first event
    /// (the cluster's identity is announced before the recording opens).
    pub fn start(&self) -> Time {
        self.events.first().map_or(self.header.started, |e| e.at.min(self.header.started))
    }

    /// Where the recorded span ends: the last event.
    pub fn end(&self) -> Time {
        self.events.last().map_or(self.start(), |e| e.at.max(self.start()))
    }
}

/// Writes the header line.
pub fn write_header(out: &mut impl Write, header: &Header) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, header)?;
    out.write_all(b"\n")
}

/// Writes one event as an entry line, redacted.
pub fn write_event(out: &mut impl Write, started: Time, event: &ClusterEvent) -> std::io::Result<()> {
    let t = (event.at - started).num_nanoseconds().unwrap_or(i64::MAX);
    let entry = Entry { t, c: redacted(event.change.clone()) };
    serde_json::to_writer(&mut *out, &entry)?;
    out.write_all(b"\n")
}

/// The change with every free-text field (condition and event messages, errors) passed
/// through the redaction logs get, so a token quoted in a message never reaches a file.
pub fn redacted(change: Change) -> Change {
    match change {
        Change::Applied(o) => Change::Applied(redact_object(o)),
        Change::Listed(kind, objects) => {
            Change::Listed(kind, objects.into_iter().map(redact_object).collect())
        }
        Change::Watch(kind, state) => Change::Watch(kind, redact_watch(state)),
        other => other,
    }
}

fn redact_watch(state: WatchState) -> WatchState {
    match state {
        WatchState::Lost { since, error } => WatchState::Lost { since, error: redact(&error) },
        WatchState::Forbidden(why) => WatchState::Forbidden(redact(&why)),
        other => other,
    }
}

fn redact_object(object: Object) -> Object {
    match object {
        Object::Flux(mut f) => {
            for c in &mut f.conditions {
                c.message = redact(&c.message).into();
            }
            Object::Flux(f)
        }
        Object::Event(mut e) => {
            e.note = redact(&e.note);
            Object::Event(e)
        }
        Object::Pod(mut p) => {
            p.unschedulable_message = p.unschedulable_message.map(|m| redact(&m));
            Object::Pod(p)
        }
        Object::PendingPod(mut p) => {
            p.unscheduled_message = p.unscheduled_message.map(|m| redact(&m));
            for w in &mut p.waiting {
                w.message = redact(&w.message);
            }
            Object::PendingPod(p)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests;
