//! The dashboard's event loop (The Elm Architecture): cluster events, keys and a clock
//! tick are messages; the model and UI state are updated; a dirty flag decides drawing.

use std::time::Duration;

use chrono::Utc;
use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use crate::cli::Cli;
use crate::cluster;
use crate::model::{ClusterEvent, Model, Snapshot};
use crate::ui::{self, KeyOutcome, UiState};

/// At most this many frames per second, however fast events arrive.
const MAX_FPS: u64 = 30;

/// Connects, then runs the dashboard until the user quits.
pub async fn run(cli: &Cli) -> Result<()> {
    // Connect before taking the terminal over, so a bad kubeconfig prints plainly.
    let (client, info) = cluster::connect(&cli.target()).await?;
    let mut model = Model::new(cli.model_config());
    let (tx, rx) = mpsc::channel(4096);
    cluster::announce(info, &tx).await;
    let tasks = cluster::spawn_watchers(&client, &cli.target(), &model.config, &tx);
    drop(tx);
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    // ratatui::init installs a panic hook that restores the terminal first.
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut model, rx, no_color).await;
    ratatui::restore();
    for t in tasks {
        t.abort();
    }
    result
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    model: &mut Model,
    mut rx: mpsc::Receiver<ClusterEvent>,
    no_color: bool,
) -> Result<()> {
    let mut keys = EventStream::new();
    let mut state = UiState::new(no_color);
    let mut snap = Snapshot::of(model, Utc::now());
    let (mut stale_snapshot, mut dirty) = (false, true);
    let frame = Duration::from_millis(1000 / MAX_FPS);
    let mut next_frame = Instant::now();
    // Ages on screen move once a second; nothing else redraws without a change.
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut cluster_open = true;
    loop {
        if dirty && Instant::now() >= next_frame {
            if stale_snapshot {
                snap = Snapshot::of(model, Utc::now());
                stale_snapshot = false;
            }
            terminal.draw(|f| ui::draw(f, &snap, &state)).wrap_err("drawing the dashboard")?;
            dirty = false;
            next_frame = Instant::now() + frame;
        }
        let frame_due = tokio::time::sleep_until(next_frame);
        tokio::select! {
            ev = rx.recv(), if cluster_open => match ev {
                Some(ev) => {
                    model.apply(ev);
                    // Fold a burst into one redraw.
                    while let Ok(ev) = rx.try_recv() {
                        model.apply(ev);
                    }
                    stale_snapshot = true;
                    dirty = true;
                }
                None => cluster_open = false,
            },
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => {
                    match ui::handle_key(&mut state, k, &snap) {
                        KeyOutcome::Quit => return Ok(()),
                        KeyOutcome::Changed => dirty = true,
                        KeyOutcome::Ignored => {}
                    }
                }
                Some(Ok(TermEvent::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal"),
                None => return Ok(()),
            },
            _ = clock.tick() => {
                stale_snapshot = true;
                dirty = true;
            }
            _ = frame_due, if dirty => {}
        }
    }
}
