//! `--record FILE`: the events the watchers deliver, written to a recording on their way
//! to the model, in the order the model receives them.

use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::Utc;
use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::mpsc;

use super::{Header, write_event, write_header};
use crate::model::{ClusterEvent, ModelConfig};

/// Creates the recording at `path` (replacing it) and returns the channel the model reads
/// instead of `rx`: every event is written, then forwarded. The file is flushed whenever
/// the stream pauses, so a recording cut short (Ctrl-C, SIGTERM) holds what was shown.
pub fn tee(
    path: &Path,
    config: &ModelConfig,
    mut rx: mpsc::Receiver<ClusterEvent>,
) -> Result<mpsc::Receiver<ClusterEvent>> {
    let file =
        std::fs::File::create(path).wrap_err_with(|| format!("creating recording {}", path.display()))?;
    let mut out = BufWriter::new(file);
    let header = Header::new(Utc::now(), config);
    write_header(&mut out, &header)
        .and_then(|()| out.flush())
        .wrap_err_with(|| format!("writing recording {}", path.display()))?;
    let (tx, model_rx) = mpsc::channel(rx.max_capacity());
    let shown = path.display().to_string();
    tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            // A full disk must not stop the dashboard: say so once in the log and keep going.
            if let Err(e) = write_event(&mut out, header.started, &event) {
                tracing::error!(file = %shown, error = %e, "recording stopped");
                forward(rx, tx, event).await;
                return;
            }
            if rx.is_empty() {
                let _ = out.flush();
            }
            if tx.send(event).await.is_err() {
                break;
            }
        }
        let _ = out.flush();
    });
    Ok(model_rx)
}

/// Passes the rest of the stream through unrecorded.
async fn forward(mut rx: mpsc::Receiver<ClusterEvent>, tx: mpsc::Sender<ClusterEvent>, first: ClusterEvent) {
    let mut next = Some(first);
    while let Some(event) = next {
        if tx.send(event).await.is_err() {
            return;
        }
        next = rx.recv().await;
    }
}
