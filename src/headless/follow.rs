//! `snapshot --follow`: the snapshot again each time the cluster changes, one JSON document
//! per line (JSON Lines), for scripts that watch a failover or wait for a state.

use std::io::Write;
use std::time::Duration;

use chrono::Utc;
use color_eyre::eyre::Result;

use super::{Feed, Format, SnapshotOptions, text};
use crate::latency::Latency;
use crate::model::{Snapshot, Views};

/// At most one line per this interval: a burst of events (a relist, a node failing with
/// all its pods) becomes one line, and Lease renewals cannot flood the output.
const MIN_GAP: Duration = Duration::from_secs(1);

/// Prints a snapshot once the lists are in, then after every change (at most one a second)
/// until the cluster connection ends, the reader goes away, or Ctrl-C. Exit 0, or 2 when
/// the cluster cannot be reached.
pub async fn follow(opts: &SnapshotOptions) -> Result<i32> {
    let format = opts.format;
    let mut feed = match Feed::open(&opts.watch).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("shardwatch: {}", crate::redact::redact(&format!("{e:#}")));
            return Ok(2);
        }
    };
    if let Some(path) = &opts.record {
        // Recorded on the way in, so the file holds what this model applied, in order.
        let rx = std::mem::replace(&mut feed.rx, tokio::sync::mpsc::channel(1).1);
        feed.rx = crate::recording::recorder::tee(path, &feed.model.config, rx)?;
    }
    let mut live = feed.settle(opts.timeout).await;
    let mut out = std::io::stdout().lock();
    // The same incremental views as the dashboard: a line costs what changed plus printing.
    let mut views = Views::new();
    let mut term = Terminate::new();
    let mut latency = Latency::new(opts.stats.as_deref());
    let result = loop {
        views.tick();
        let now = Utc::now();
        let mut snap = views.refresh(&mut feed.model, now);
        snap.stamp(now);
        if !print(&mut out, &snap, format) {
            break Ok(0); // the reader closed the pipe: nothing left to do
        }
        latency.shown();
        if !live {
            eprintln!("shardwatch: the watches ended");
            break Ok(2);
        }
        // Wait for the next change, then let the burst it starts arrive before printing.
        tokio::select! {
            event = feed.rx.recv() => match event {
                Some(e) => {
                    latency.received(e.at);
                    feed.model.apply(e);
                }
                None => live = false,
            },
            // Ctrl-C, or a supervisor's SIGTERM: the stats still get written.
            _ = term.recv() => break Ok(0),
        }
        tokio::select! {
            _ = tokio::time::sleep(MIN_GAP) => {}
            _ = term.recv() => break Ok(0),
        }
        feed.drain_with(|e| latency.received(e.at));
    };
    latency.write()?;
    result
}

/// Writes one snapshot; false when stdout is closed.
fn print(out: &mut impl Write, snap: &Snapshot, format: Format) -> bool {
    let written = match format {
        Format::Json => serde_json::to_string(snap)
            .map_err(std::io::Error::other)
            .and_then(|line| writeln!(out, "{line}")),
        // Text blocks are separated by a form feed, as `watch`-style tools expect.
        Format::Text => writeln!(out, "{}\u{c}", text::render(snap)),
    };
    written.and_then(|()| out.flush()).is_ok()
}

/// SIGTERM and SIGINT as streams registered once, so a signal that arrives between two
/// waits is not lost (Ctrl-C alone where there are no such signals).
struct Terminate(#[cfg(unix)] Vec<tokio::signal::unix::Signal>);

impl Terminate {
    fn new() -> Terminate {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            // Registered once for the whole run: a signal that arrives while the loop
            // waits out the gap between lines is kept, not lost.
            let kinds = [SignalKind::terminate(), SignalKind::interrupt()];
            Terminate(kinds.into_iter().filter_map(|k| signal(k).ok()).collect())
        }
        #[cfg(not(unix))]
        return Terminate();
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            if self.0.is_empty() {
                return std::future::pending().await;
            }
            futures::future::select_all(self.0.iter_mut().map(|s| Box::pin(s.recv()))).await;
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
