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

use crate::bootstrap::steps::{Progress, Steps};
use crate::bootstrap::up::{self, UpOptions};
use crate::cli::Cli;
use crate::cluster;
use crate::cluster::actions::{Action, Outcome};
use crate::model::{ClusterEvent, ClusterInfo, Model, Snapshot};
use crate::ui::progress::{self, ProgressView};
use crate::ui::{self, KeyOutcome, Request, UiState};

/// At most this many frames per second, however fast events arrive.
const MAX_FPS: u64 = 30;

/// Connects, then runs the dashboard until the user quits.
pub async fn run(cli: &Cli) -> Result<()> {
    // Connect before taking the terminal over, so a bad kubeconfig prints plainly.
    let (client, info) = cluster::connect(&cli.target()).await?;
    // ratatui::init installs a panic hook that restores the terminal first.
    let mut terminal = ratatui::init();
    let result = dashboard(&mut terminal, cli, client, info).await;
    ratatui::restore();
    result
}

/// `shardwatch up` with its progress on screen, then the dashboard on the same screen.
pub async fn up_then_dashboard(cli: &Cli, opts: &UpOptions) -> Result<()> {
    let mut terminal = ratatui::init();
    let result = async {
        let Some(kubeconfig) = progress_screen(&mut terminal, cli, opts).await? else {
            return Ok(());
        };
        let mut target = cli.target();
        if kubeconfig.is_some() {
            (target.kubeconfig, target.context) = (kubeconfig, None);
        }
        let (client, info) = cluster::connect(&target).await?;
        let dash =
            Cli { kubeconfig: target.kubeconfig, context: target.context, command: None, ..cli.clone() };
        dashboard(&mut terminal, &dash, client, info).await
    }
    .await;
    ratatui::restore();
    result
}

/// Runs `up` while drawing its steps. `Ok(None)` when the user stopped it.
async fn progress_screen(
    terminal: &mut DefaultTerminal,
    cli: &Cli,
    opts: &UpOptions,
) -> Result<Option<Option<std::path::PathBuf>>> {
    let no_color = no_color();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut steps = Steps::to_channel(tx);
    let start = std::time::Instant::now();
    let mut view = ProgressView::default();
    let mut keys = EventStream::new();
    let mut spinner = tokio::time::interval(Duration::from_millis(100));
    spinner.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut tick = 0usize;
    let target = cli.target();
    let work = up::up(opts, &target, &mut steps);
    tokio::pin!(work);
    let result = loop {
        tokio::select! {
            r = &mut work => break r,
            Some((at, p)) = rx.recv() => apply_progress(&mut view, at, p),
            _ = spinner.tick() => {
                tick += 1;
                terminal.draw(|f| progress::draw(f, &view, start.elapsed(), tick, no_color))?;
            }
            key = keys.next() => if let Some(Ok(TermEvent::Key(k))) = key {
                // Dropping the work stops it; child processes are killed with it.
                if k.kind == KeyEventKind::Press && is_quit(&k) {
                    return Ok(None);
                }
            },
        }
    };
    while let Ok((at, p)) = rx.try_recv() {
        apply_progress(&mut view, at, p);
    }
    match result {
        Ok(kubeconfig) => {
            view.finish(start.elapsed());
            terminal.draw(|f| progress::draw(f, &view, start.elapsed(), tick, no_color))?;
            Ok(Some(kubeconfig))
        }
        Err(e) => {
            view.failed = Some(format!("{e:#}"));
            terminal.draw(|f| progress::draw(f, &view, start.elapsed(), tick, no_color))?;
            // Leave the failure on screen until it has been read.
            while let Some(Ok(ev)) = keys.next().await {
                if matches!(ev, TermEvent::Key(k) if k.kind == KeyEventKind::Press) {
                    break;
                }
            }
            Err(e)
        }
    }
}

fn apply_progress(view: &mut ProgressView, at: Duration, p: Progress) {
    match p {
        Progress::Step(s) => view.step(at, &s),
        Progress::Detail(d) => view.detail(&d),
    }
}

fn is_quit(k: &crossterm::event::KeyEvent) -> bool {
    use crossterm::event::{KeyCode, KeyModifiers};
    matches!(k.code, KeyCode::Char('q'))
        || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL))
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Watches the cluster and runs the dashboard on `terminal` until the user quits.
async fn dashboard(
    terminal: &mut DefaultTerminal,
    cli: &Cli,
    client: kube::Client,
    info: ClusterInfo,
) -> Result<()> {
    let mut model = Model::new(cli.model_config());
    let (tx, rx) = mpsc::channel(4096);
    cluster::announce(info, &tx).await;
    let tasks = cluster::spawn_watchers(&client, &cli.target(), &model.config, &tx);
    drop(tx);
    // The command channel: confirmed actions go to what cluster/ serves, outcomes come back.
    // Served alongside the loop on this task (perform's futures need not be Send); it ends
    // only when the loop drops its ends, so the loop decides when the dashboard stops.
    let (action_tx, action_rx) = mpsc::channel(8);
    let (outcome_tx, outcome_rx) = mpsc::channel(8);
    let serve = async {
        cluster::actions::serve(client.clone(), cli.flux_namespace.clone(), action_rx, outcome_tx).await;
        std::future::pending::<()>().await;
    };
    let actions = Actions { tx: action_tx, rx: outcome_rx };
    let result = tokio::select! {
        r = event_loop(terminal, &mut model, rx, actions, no_color(), cli.read_only) => r,
        () = serve => Ok(()),
    };
    for t in tasks {
        t.abort();
    }
    result
}

/// Both ends of the command channel, as the event loop holds them.
struct Actions {
    tx: mpsc::Sender<Action>,
    rx: mpsc::Receiver<Outcome>,
}

/// The cluster action a confirmed dashboard request stands for.
fn action_of(request: Request) -> Action {
    match request {
        Request::Cordon(node) => Action::Cordon { node },
        Request::Uncordon(node) => Action::Uncordon { node },
        Request::DeletePod(pod) => Action::DeletePod { pod },
    }
}

/// The footer line for an outcome: the last line of what was done, or the error.
fn outcome_message(outcome: &Outcome) -> String {
    match &outcome.result {
        Ok(done) => done.lines().last().unwrap_or("done").to_string(),
        Err(e) => format!("failed: {e}"),
    }
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    model: &mut Model,
    mut rx: mpsc::Receiver<ClusterEvent>,
    mut actions: Actions,
    no_color: bool,
    read_only: bool,
) -> Result<()> {
    let mut keys = EventStream::new();
    let mut state = UiState { read_only, ..UiState::new(no_color) };
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
                        KeyOutcome::Request(request) => {
                            dirty = true;
                            let action = action_of(request);
                            tracing::info!(action = ?action, "confirmed in the dashboard");
                            if actions.tx.try_send(action).is_err() {
                                state.message = Some("busy: the previous actions are still running".into());
                            }
                        }
                    }
                }
                Some(Ok(TermEvent::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal"),
                None => return Ok(()),
            },
            Some(outcome) = actions.rx.recv() => {
                state.message = Some(outcome_message(&outcome));
                dirty = true;
            }
            _ = clock.tick() => {
                stale_snapshot = true;
                dirty = true;
            }
            _ = frame_due, if dirty => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_map_to_actions_and_outcomes_to_one_line() {
        assert_eq!(action_of(Request::Cordon("w3".into())), Action::Cordon { node: "w3".into() });
        assert_eq!(action_of(Request::Uncordon("w3".into())), Action::Uncordon { node: "w3".into() });
        assert_eq!(action_of(Request::DeletePod("p".into())), Action::DeletePod { pod: "p".into() });
        let done =
            Outcome { action: Action::Cordon { node: "w3".into() }, result: Ok("node w3 cordoned".into()) };
        assert_eq!(outcome_message(&done), "node w3 cordoned");
        let failed =
            Outcome { action: Action::DeletePod { pod: "p".into() }, result: Err("not found".into()) };
        assert_eq!(outcome_message(&failed), "failed: not found");
    }
}
