//! `snapshot` and `check`: the same model the dashboard shows, printed once; and `chaos`,
//! the failover actions run from the command line.

pub mod chaos;
pub mod explain;
pub mod flux_action;
pub mod follow;
pub mod logs;
pub mod text;

use std::time::Duration;

use chrono::Utc;
use color_eyre::eyre::Result;
use tokio::sync::mpsc;

use crate::cluster::{self, WatchOptions};
use crate::model::verdict::Verdict;
use crate::model::{ClusterEvent, Model, ResourceKind, Snapshot, WatchState};

/// How a snapshot or an explanation is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The stable JSON documented in the README.
    Json,
    /// A human summary.
    Text,
}

/// What `snapshot` (once or `--follow`) needs to know.
#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    /// The cluster and what to watch in it.
    pub watch: WatchOptions,
    /// How to print.
    pub format: Format,
    /// How long to wait for the initial lists.
    pub timeout: Duration,
    /// `--follow`: write event-to-screen latency to this file at exit (`--stats`).
    pub stats: Option<std::path::PathBuf>,
    /// `--follow`: record the watch events to this file (`--record`).
    pub record: Option<std::path::PathBuf>,
}

/// A kind is settled once its list arrived, or the API said it cannot be listed.
fn settled(state: &WatchState) -> bool {
    matches!(state, WatchState::Live | WatchState::Forbidden(_) | WatchState::NotInstalled)
}

/// A live feed of cluster events into a model: the watchers, and the channel they fill.
pub struct Feed {
    /// The model the events are applied to.
    pub model: Model,
    /// Events from the watchers.
    pub rx: mpsc::Receiver<crate::model::ClusterEvent>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Feed {
    /// Connects and starts every watcher.
    pub async fn open(watch: &WatchOptions) -> Result<Feed> {
        let (client, info) = cluster::connect(&watch.connect).await?;
        let model = Model::new(watch.model_config());
        let (tx, rx) = mpsc::channel(1024);
        cluster::announce(info, &tx).await;
        let tasks = cluster::spawn_watchers(&client, watch.objects_namespace.as_deref(), &model.config, &tx);
        Ok(Feed { model, rx, tasks })
    }

    /// Applies events until every kind is listed (or `timeout`); false when the feed ended.
    pub async fn settle(&mut self, timeout: Duration) -> bool {
        let kinds = ResourceKind::all();
        let deadline = tokio::time::Instant::now() + timeout;
        while !kinds.iter().all(|k| settled(&self.model.watch(*k))) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(event)) => self.model.apply(event),
                Ok(None) => return false,
                Err(_) => break,
            }
        }
        self.drain();
        true
    }

    /// Applies what already arrived, so what is shown is as fresh as the moment allows;
    /// returns how many events that was.
    pub fn drain(&mut self) -> usize {
        self.drain_with(|_| {})
    }

    /// Stops the watchers: the channel ends once what they sent is read.
    pub fn stop_watchers(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }

    /// `drain`, showing each event to `seen` first.
    pub fn drain_with(&mut self, mut seen: impl FnMut(&ClusterEvent)) -> usize {
        let mut n = 0;
        while let Ok(event) = self.rx.try_recv() {
            seen(&event);
            self.model.apply(event);
            n += 1;
        }
        n
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Connects, waits until every kind is listed (or `timeout`), and returns the model.
pub async fn collect(watch: &WatchOptions, timeout: Duration) -> Result<Model> {
    let mut feed = Feed::open(watch).await?;
    feed.settle(timeout).await;
    Ok(std::mem::replace(&mut feed.model, Model::new(watch.model_config())))
}

/// `shardwatch snapshot`: prints the snapshot; exit 0, or 2 when the cluster cannot be reached.
pub async fn snapshot(opts: &SnapshotOptions) -> Result<i32> {
    let model = match collect(&opts.watch, opts.timeout).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("shardwatch: {}", crate::redact::redact(&format!("{e:#}")));
            return Ok(2);
        }
    };
    let snap = Snapshot::of(&model, Utc::now());
    match opts.format {
        // Not redacted as a whole: the snapshot's own fields (a reconcile request's "token")
        // are data; watch errors and the server URL are redacted where they are made.
        Format::Json => println!("{}", serde_json::to_string_pretty(&snap)?),
        Format::Text => print!("{}", text::render(&snap)),
    }
    Ok(0)
}

/// `shardwatch check`: 0 healthy, 1 degraded or failing (reasons printed), 2 cannot tell.
pub async fn check(watch: &WatchOptions, timeout: Duration) -> Result<i32> {
    let model = match collect(watch, timeout).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("shardwatch: cannot tell: {}", crate::redact::redact(&format!("{e:#}")));
            return Ok(2);
        }
    };
    let snap = Snapshot::of(&model, Utc::now());
    let code = exit_code(snap.overall.verdict);
    println!("{}", verdict_word(snap.overall.verdict));
    for reason in &snap.overall.reasons {
        println!("  - {}", crate::redact::redact(reason));
    }
    Ok(code)
}

/// The exit code `check` returns for a verdict.
pub fn exit_code(verdict: Verdict) -> i32 {
    match verdict {
        Verdict::Healthy => 0,
        Verdict::Degraded | Verdict::Failing => 1,
        Verdict::Unknown => 2,
    }
}

/// The word printed for a verdict.
pub fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Healthy => "healthy",
        Verdict::Degraded => "degraded",
        Verdict::Failing => "failing",
        Verdict::Unknown => "unknown",
    }
}
