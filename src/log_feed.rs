//! The dashboard's log reader: the log view `l` opens gets its lines from one reading
//! task at a time, through `cluster::controller_logs`. A newer view replaces the reader,
//! and lines still queued from the old one are told apart by a generation number.

use kube::Client;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cluster::controller_logs::{self, LogMessage, LogWindow};
use crate::model::controller_log::LogSource;

/// Reads the open log view's lines.
pub struct LogFeed {
    /// Where to read from (None: no cluster, say a replay).
    reader: Option<Reader>,
    tx: mpsc::Sender<(u64, LogMessage)>,
    rx: mpsc::Receiver<(u64, LogMessage)>,
    task: Option<JoinHandle<()>>,
    generation: u64,
    open: bool,
    /// What is being read, and how much of it.
    source: Option<(LogSource, LogWindow)>,
}

/// The cluster and how its controllers are found.
#[derive(Clone)]
pub struct Reader {
    /// The client.
    pub client: Client,
    /// Where the Flux controllers run.
    pub flux_namespace: String,
    /// The label key that assigns Flux objects to shards.
    pub shard_label: String,
}

impl LogFeed {
    /// A feed reading from `reader`, or telling each view there is nothing to read from.
    pub fn new(reader: Option<Reader>) -> LogFeed {
        let (tx, rx) = mpsc::channel(1024);
        LogFeed { reader, tx, rx, task: None, generation: 0, open: false, source: None }
    }

    /// Starts reading `window` of `source`, replacing any reader.
    pub fn open(&mut self, source: LogSource, window: LogWindow) {
        self.close();
        self.open = true;
        self.source = Some((source.clone(), window));
        self.generation += 1;
        let (generation, tx) = (self.generation, self.tx.clone());
        let Some(reader) = self.reader.clone() else {
            let message = "no cluster to read logs from".to_string();
            let _ = tx.try_send((generation, LogMessage::Error { pod: String::new(), message }));
            return;
        };
        self.task = Some(tokio::spawn(async move {
            let Reader { client, flux_namespace: ns, shard_label } = reader;
            let resolved = match controller_logs::resolve(&client, &ns, &shard_label, &source).await {
                Ok(r) => r,
                Err(e) => {
                    let message = format!("cannot read the log of {source}: {e:#}");
                    let _ = tx.send((generation, LogMessage::Error { pod: String::new(), message })).await;
                    return;
                }
            };
            let (line_tx, mut line_rx) = mpsc::channel(256);
            let note = match (&resolved.deployment, resolved.pods.is_empty()) {
                (Some(d), true) => format!("deployment {d} has no pod: no log to read"),
                (_, true) => "no pod: no log to read".to_string(),
                (Some(d), false) => format!("{d}: pods {}", resolved.pods.join(", ")),
                (None, false) => String::new(),
            };
            if !note.is_empty() {
                let _ = tx.send((generation, LogMessage::Note(note))).await;
            }
            let read = controller_logs::stream(&client, &ns, &resolved, window, line_tx);
            let forward = async {
                while let Some(m) = line_rx.recv().await {
                    if tx.send((generation, m)).await.is_err() {
                        return;
                    }
                }
            };
            tokio::join!(read, forward);
        }));
    }

    /// Stops the reader, if any.
    pub fn close(&mut self) {
        self.open = false;
        self.source = None;
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }

    /// Reads `wanted` (starting a reader when it changed), or nothing.
    pub fn follow(&mut self, wanted: Option<(LogSource, LogWindow)>) {
        if wanted == self.source {
            return;
        }
        match wanted {
            Some((source, window)) => self.open(source, window),
            None => self.close(),
        }
    }

    /// Whether a view is open (its reader may have ended).
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// A message of the current reader already queued, if any.
    pub fn try_recv(&mut self) -> Option<LogMessage> {
        while let Ok((g, m)) = self.rx.try_recv() {
            if g == self.generation {
                return Some(m);
            }
        }
        None
    }

    /// The next message of the current reader (older readers' are dropped).
    pub async fn recv(&mut self) -> LogMessage {
        loop {
            match self.rx.recv().await {
                Some((g, m)) if g == self.generation => return m,
                Some(_) => {}
                // Never: the feed holds a sender.
                None => std::future::pending::<()>().await,
            }
        }
    }
}

impl Drop for LogFeed {
    fn drop(&mut self) {
        self.close();
    }
}
