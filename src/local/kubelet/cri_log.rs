//! Container log files in the CRI format the kubelet writes and kwok reads back for
//! `kubectl logs`: one `<RFC 3339 time> <stream> F <line>` per line.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

/// Which output a line came from.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One log line as the file holds it (a full line: tag `F`).
pub fn line(at: DateTime<Utc>, stream: Stream, text: &str) -> String {
    let stream = match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    };
    format!("{} {stream} F {text}\n", at.to_rfc3339_opts(SecondsFormat::Nanos, true))
}

/// The file of a container's run `run` (0 for the first, one more per restart), as the
/// kubelet lays them out: `<dir>/<namespace>_<pod>_<uid>/<container>/<run>.log`.
pub fn path(dir: &Path, namespace: &str, pod: &str, uid: &str, container: &str, run: u32) -> PathBuf {
    dir.join(format!("{namespace}_{pod}_{uid}")).join(container).join(format!("{run}.log"))
}

/// Copies `from` line by line into the log file `to` until `from` ends.
pub async fn pump(from: impl AsyncRead + Unpin, stream: Stream, to: PathBuf) {
    let Ok(mut file) = tokio::fs::OpenOptions::new().create(true).append(true).open(&to).await else {
        return;
    };
    let mut lines = BufReader::new(from).lines();
    while let Ok(Some(text)) = lines.next_line().await {
        // One write per line: stdout's and stderr's pumps append to the same file.
        if file.write_all(line(Utc::now(), stream, &text).as_bytes()).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_carries_time_stream_and_the_full_tag() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T08:00:01.5Z").unwrap().with_timezone(&Utc);
        assert_eq!(line(at, Stream::Stderr, "hello"), "2026-11-30T08:00:01.500000000Z stderr F hello\n");
    }

    #[test]
    fn files_are_laid_out_per_pod_container_and_run() {
        let p = path(Path::new("/l"), "flux-system", "kc-1", "u1", "manager", 2);
        assert_eq!(p, Path::new("/l/flux-system_kc-1_u1/manager/2.log"));
    }
}
