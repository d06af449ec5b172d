//! The shipped recording (assets/failover.ndjson, a shard2 worker failing and coming back
//! on the local cluster with the real Flux controllers) played through the real replay
//! loop on a TestBackend, with tokio's clock paused so 1× takes no real time: it reaches
//! the same screens at 1× and 100×, and the keys pause, step and seek.

use std::path::Path;
use std::time::Duration;

use chrono::TimeDelta;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use shardwatch::recording::Recording;
use shardwatch::recording::player::Player;
use shardwatch::recording::replay::{self, snapshot_at};
use shardwatch::ui::UiState;
use shardwatch::ui::position_bar::ReplayPosition;

const WIDTH: u16 = 120;
const HEIGHT: u16 = 34;

fn recording() -> Recording {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/failover.ndjson");
    Recording::read(&path).expect("the shipped recording reads")
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    (0..area.height)
        .map(|y| (0..area.width).map(|x| buf[(x, y)].symbol()).collect::<String>().trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// One screen the replay drew, with where the player was.
struct Frame {
    elapsed: Duration,
    applied: usize,
    text: String,
}

/// Plays the whole recording at `speed` (paused tokio time) with `keys`; the screens drawn
/// until `stop` says so (default: the end of the recording).
async fn play(
    recording: &Recording,
    speed: f64,
    keys: mpsc::UnboundedReceiver<std::io::Result<TermEvent>>,
    mut stop: impl FnMut(&Player) -> bool,
) -> Vec<Frame> {
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let mut frames = Vec::new();
    replay::play(
        &mut terminal,
        recording,
        speed,
        shardwatch::ui::theme::Theme::new(true),
        keys,
        |player, buf| {
            frames.push(Frame { elapsed: player.elapsed(), applied: player.applied(), text: text(buf) });
            !stop(player)
        },
    )
    .await
    .expect("the replay plays");
    frames
}

fn no_keys() -> mpsc::UnboundedReceiver<std::io::Result<TermEvent>> {
    let (tx, rx) = mpsc::unbounded();
    // Kept open: a closed key stream would only stop reading keys, but this mirrors a terminal.
    std::mem::forget(tx);
    rx
}

fn key(code: KeyCode) -> std::io::Result<TermEvent> {
    Ok(TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// The header's verdict word on a screen.
fn verdict(screen: &str) -> &'static str {
    ["HEALTHY", "DEGRADED", "FAILING", "UNKNOWN"].into_iter().find(|v| screen.contains(v)).unwrap_or("none")
}

/// The verdicts a run went through, repeats folded.
fn phases(frames: &[Frame]) -> Vec<&'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    for f in frames {
        let v = verdict(&f.text);
        if seen.last() != Some(&v) {
            seen.push(v);
        }
    }
    seen
}

/// The screen at `secs` into the recording, drawn the way the replay draws it, paused.
fn screen_at(recording: &Recording, secs: i64) -> String {
    let at = recording.start() + TimeDelta::seconds(secs);
    let snap = snapshot_at(recording, at);
    let applied = recording.events.iter().take_while(|e| e.at <= at).count();
    let position = ReplayPosition {
        elapsed: Duration::from_secs(secs.unsigned_abs()),
        length: (recording.end() - recording.start()).to_std().unwrap(),
        at,
        applied,
        events: recording.events.len(),
        speed: 1.0,
        paused: true,
        ended: false,
    };
    let area = Rect::new(0, 0, WIDTH, HEIGHT);
    let mut buf = Buffer::empty(area);
    replay::draw(&mut buf, area, &snap, &UiState::new(true), &position);
    text(&buf)
}

#[tokio::test(start_paused = true)]
async fn the_failover_replays_through_the_same_screens_at_1x_and_100x() {
    let recording = recording();
    let slow = play(&recording, 1.0, no_keys(), Player::ended).await;
    let fast = play(&recording, 100.0, no_keys(), Player::ended).await;
    // Unknown while the lists arrive, healthy; shardwatch-worker2 stops heartbeating (its
    // node Unknown: degraded), its controllers lose their ready replicas (failing); the node
    // is back but the new pods wait out their predecessors' Leases (degraded); all well.
    let expected = ["UNKNOWN", "HEALTHY", "DEGRADED", "FAILING", "DEGRADED", "HEALTHY"];
    assert_eq!(phases(&slow), expected, "1× draws every change");
    assert!(slow.iter().any(|f| f.text.contains("○ shard2   0/1 ○")), "shard2 shown down");
    // 100× draws far fewer frames, yet shows the failure and ends on the same screen.
    assert!(fast.len() < slow.len(), "{} frames at 100×, {} at 1×", fast.len(), slow.len());
    let seen = phases(&fast);
    assert!(seen.contains(&"FAILING") && seen.last() == Some(&"HEALTHY"), "100×: {seen:?}");
    let mut in_order = expected.iter();
    assert!(seen.iter().all(|v| in_order.any(|e| e == v)), "100× passes the verdicts in order: {seen:?}");
    let (end_slow, end_fast) = (slow.last().unwrap(), fast.last().unwrap());
    // The same screen; on the bar only the speed differs (and the bar's width with it).
    let (slow_body, slow_bar) = end_slow.text.rsplit_once('\n').unwrap();
    let (fast_body, fast_bar) = end_fast.text.rsplit_once('\n').unwrap();
    assert_eq!(slow_body, fast_body, "both speeds end on the same screen");
    let after_bar = |bar: &str| bar.rsplit_once('━').map(|(_, rest)| rest.to_string());
    assert_eq!(after_bar(slow_bar), after_bar(fast_bar));
    assert!(fast_bar.starts_with(" ■ end 100× "), "{fast_bar}");
    assert_eq!(end_slow.elapsed, (recording.end() - recording.start()).to_std().unwrap());
    assert!(end_slow.text.contains("■ end 1×"), "{}", end_slow.text);
    insta::assert_snapshot!("replay_end_120x34", end_slow.text);
}

#[test]
fn the_screens_at_fixed_points_of_the_recording() {
    let recording = recording();
    for (name, secs) in FIXED_POINTS {
        insta::assert_snapshot!(format!("replay_{name}_120x34"), screen_at(&recording, secs));
    }
}

/// Seconds into the recording worth a picture: before, during and after the failure.
const FIXED_POINTS: [(&str, i64); 3] = [("healthy", 5), ("shard2_down", 40), ("recovered", 110)];

#[tokio::test(start_paused = true)]
async fn keys_pause_step_and_seek() {
    let recording = recording();
    // Pause at once, step three events.
    let (tx, rx) = mpsc::unbounded();
    for code in [KeyCode::Char(' '), KeyCode::Char('.'), KeyCode::Char('.'), KeyCode::Char('.')] {
        tx.unbounded_send(key(code)).unwrap();
    }
    let mut first = None;
    let stepped = play(&recording, 1.0, rx, |p| {
        let at_start = *first.get_or_insert(p.applied());
        p.paused && p.applied() >= at_start + 3
    })
    .await;
    // Events at the very start (the cluster's identity) are shown with the first screen.
    let at_start = stepped[0].applied;
    let stepped = stepped.last().unwrap();
    assert!(stepped.text.contains("‖ paused 1×"), "{}", stepped.text);
    let shown = format!("event {}/{}", at_start + 3, recording.events.len());
    assert!(stepped.text.contains(&shown), "{shown}: {}", stepped.text);
    // Forward 10 s and back again: the model is rebuilt to the very same screen.
    let (tx, rx) = mpsc::unbounded();
    for code in
        [KeyCode::Char(' '), KeyCode::Char('.'), KeyCode::Char('.'), KeyCode::Char('.'), KeyCode::Right]
    {
        tx.unbounded_send(key(code)).unwrap();
    }
    let mut sent_back = false;
    let back = play(&recording, 1.0, rx, |p| {
        if p.paused && p.elapsed() > stepped.elapsed && !sent_back {
            sent_back = true;
            tx.unbounded_send(key(KeyCode::Left)).unwrap();
        }
        sent_back && p.elapsed() == stepped.elapsed && p.applied() == stepped.applied
    })
    .await;
    assert_eq!(back.last().unwrap().text, stepped.text, "seeking back rebuilds the same screen");
    // Speed keys: faster twice shows 4×.
    let (tx, rx) = mpsc::unbounded();
    for code in [KeyCode::Char(' '), KeyCode::Char('+'), KeyCode::Char('+')] {
        tx.unbounded_send(key(code)).unwrap();
    }
    let fast = play(&recording, 1.0, rx, |p| p.speed == 4.0 && p.paused).await;
    assert!(fast.last().unwrap().text.contains("‖ paused 4×"), "{}", fast.last().unwrap().text);
}
