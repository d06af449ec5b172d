//! `snapshot --follow --stats FILE` ends on Ctrl-C (SIGINT) and on a supervisor's
//! SIGTERM, also when the signal arrives while it waits out the gap between two lines,
//! and writes its event-to-screen latency on the way out.
//! Needs `tests/localcluster/cluster.sh start`.

#[path = "support/follow.rs"]
mod follow;
mod support;

use std::time::Duration;

use follow::Follow;

#[test]
fn follow_writes_its_stats_when_stopped_by_sigint_or_sigterm() {
    let Some(cluster) = support::cluster() else { return };
    let dir = std::env::temp_dir().join(format!("shardwatch-follow-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp folder");
    for signal in ["INT", "TERM"] {
        let stats = dir.join(format!("{signal}.json"));
        let _ = std::fs::remove_file(&stats);
        let path = stats.display().to_string();
        let mut follow = Follow::start(&cluster, &["--stats", &path]);
        follow.wait_for(Duration::from_secs(60), "a first snapshot", |s| {
            if s.is_null() { Err("none yet".to_string()) } else { Ok(()) }
        });
        // One change after the start, so there is a latency to report.
        let label = format!("shardwatch.io/follow-stats={signal}");
        cluster
            .kubectl(&["label", "node", "shardwatch-worker3", &label, "--overwrite"])
            .expect("label a node");
        let mut lines = 0;
        follow.wait_for(Duration::from_secs(60), "a line after the change", |_| {
            lines += 1;
            if lines > 1 { Ok(()) } else { Err("only the first line".to_string()) }
        });
        // Right after a line the loop waits out its gap: the signal must not be lost there.
        std::thread::sleep(Duration::from_millis(300));
        let status = follow.stop_with(signal, Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "SIG{signal}: {status:?}, expected a clean exit within 10 s"
        );
        let text =
            std::fs::read_to_string(&stats).unwrap_or_else(|e| panic!("SIG{signal}: no stats file: {e}"));
        let json: serde_json::Value = serde_json::from_str(&text).expect("stats are JSON");
        assert!(json["count"].as_u64().is_some_and(|n| n >= 1), "SIG{signal}: {json}");
    }
    let _ = cluster.kubectl(&["label", "node", "shardwatch-worker3", "shardwatch.io/follow-stats-"]);
    let _ = std::fs::remove_dir_all(&dir);
}
