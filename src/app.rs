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
use crate::cluster::actions::{Action, ActionReport, Outcome};
use crate::cluster::{self, WatchOptions};
use crate::latency::Latency;
use crate::log_feed::{LogFeed, Reader};
use crate::model::{ClusterEvent, ClusterInfo, Model, Snapshot, Views};
use crate::node_host::{HostKind, NodeHost};
use crate::ui::progress::{self, ProgressView};
use crate::ui::{self, FluxVerb, KeyOutcome, Request, UiState};

/// At most this many frames per second, however fast events arrive.
const MAX_FPS: u64 = 30;

/// What the dashboard needs to know, decided by the command line.
#[derive(Debug, Clone)]
pub struct DashboardOptions {
    /// The cluster and what to watch in it.
    pub watch: WatchOptions,
    /// Refuse every action that changes the cluster (`--read-only`).
    pub read_only: bool,
    /// Allow node, pod and scale actions on a cluster neither local nor kind (`--allow-remote`,
    /// or `allow_remote` in the config file).
    pub allow_remote: bool,
    /// Where the nodes run, when the command that opened the dashboard said so (or `up` resolved it).
    pub node_host: Option<HostKind>,
    /// Write event-to-screen latency to this file at exit (`--stats`).
    pub stats: Option<std::path::PathBuf>,
    /// Record the watch events to this file (`--record`).
    pub record: Option<std::path::PathBuf>,
    /// The colours (`--theme`); `NO_COLOR` still wins.
    pub palette: crate::ui::theme::Palette,
    /// The user's key bindings (config file `[keys]`).
    pub keys: crate::ui::KeyBindings,
    /// Do not capture the mouse (`--no-mouse`).
    pub no_mouse: bool,
}

impl DashboardOptions {
    /// The theme to draw with: the palette, or none under `NO_COLOR`.
    pub fn theme(&self) -> crate::ui::theme::Theme {
        crate::ui::theme::Theme::with(no_color(), self.palette)
    }

    /// The UI state the dashboard starts from: theme, key bindings, read-only.
    fn first_state(&self) -> UiState {
        let theme = self.theme();
        UiState {
            read_only: self.read_only,
            palette: theme.palette,
            keys: self.keys.clone(),
            ..UiState::new(theme.no_color)
        }
    }
}

/// Connects, then runs the dashboard until the user quits.
pub async fn run(opts: &DashboardOptions) -> Result<()> {
    // Connect before taking the terminal over, so a bad kubeconfig prints plainly.
    let (client, info) = cluster::connect(&opts.watch.connect).await?;
    // ratatui::init installs a panic hook that restores the terminal first.
    let mut terminal = ratatui::init();
    if !opts.no_mouse {
        crate::terminal::mouse_on();
    }
    let result = dashboard(&mut terminal, opts, client, info).await;
    crate::terminal::mouse_off();
    ratatui::restore();
    result
}

/// `shardwatch up` with its progress on screen, then the dashboard on the same screen,
/// connected to the cluster `up` stood up (or the current one, for `--target current`).
pub async fn up_then_dashboard(up_opts: &UpOptions, dash: &DashboardOptions) -> Result<()> {
    let mut terminal = ratatui::init();
    let result = async {
        let Some(stood) = progress_screen(&mut terminal, up_opts).await? else {
            return Ok(());
        };
        let mut dash = dash.clone();
        if let Some(path) = stood.kubeconfig {
            dash.watch.connect = cluster::ConnectOptions { kubeconfig: Some(path), context: None };
        }
        // The target `up` resolved, so f/r work on kind also when kind was picked automatically.
        dash.node_host = dash.node_host.or(match stood.target {
            up::UpTarget::Kind => Some(HostKind::Kind),
            up::UpTarget::Local => Some(HostKind::Local),
            up::UpTarget::Current => None,
        });
        let (client, info) = cluster::connect(&dash.watch.connect).await?;
        if !dash.no_mouse {
            crate::terminal::mouse_on();
        }
        dashboard(&mut terminal, &dash, client, info).await
    }
    .await;
    crate::terminal::mouse_off();
    ratatui::restore();
    result
}

/// Runs `up` while drawing its steps. `Ok(None)` when the user stopped it.
async fn progress_screen(terminal: &mut DefaultTerminal, opts: &UpOptions) -> Result<Option<up::Stood>> {
    let no_color = no_color();
    let (tx, mut rx) = mpsc::unbounded_channel();
    // `up --target current` asks on this screen; the keys below answer.
    let (answer, answers) = mpsc::unbounded_channel();
    let mut steps = Steps::to_screen(tx, answers);
    let start = std::time::Instant::now();
    let mut view = ProgressView::default();
    let mut keys = EventStream::new();
    let mut spinner = tokio::time::interval(Duration::from_millis(100));
    spinner.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut tick = 0usize;
    let work = up::up(opts, &mut steps);
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
                if k.kind != KeyEventKind::Press {
                    continue;
                }
                if view.question.is_some() {
                    // Only y applies; every other key (Ctrl-C too) refuses, and `up` ends
                    // with nothing applied. The screen says so at the next tick.
                    view.question = None;
                    let _ = answer.send(is_yes(&k));
                } else if is_quit(&k) {
                    // Dropping the work stops it; child processes are killed with it.
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
        // Refused on this screen: nothing to read here, the caller prints why.
        Err(e) if e.downcast_ref::<up::NotConfirmed>().is_some() => Err(e),
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
        Progress::Status(s) => view.status(&s),
        Progress::Question(q) => view.ask(&q),
    }
}

/// Whether a key answers yes to the progress screen's question.
fn is_yes(k: &crossterm::event::KeyEvent) -> bool {
    use crossterm::event::{KeyCode, KeyModifiers};
    matches!(k.code, KeyCode::Char('y' | 'Y')) && !k.modifiers.contains(KeyModifiers::CONTROL)
}

fn is_quit(k: &crossterm::event::KeyEvent) -> bool {
    use crossterm::event::{KeyCode, KeyModifiers};
    matches!(k.code, KeyCode::Char('q'))
        || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL))
}

/// Whether `NO_COLOR` asks for a screen without colours.
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Watches the cluster and runs the dashboard on `terminal` until the user quits.
async fn dashboard(
    terminal: &mut DefaultTerminal,
    opts: &DashboardOptions,
    client: kube::Client,
    info: ClusterInfo,
) -> Result<()> {
    let watch = &opts.watch;
    let mut model = Model::new(watch.model_config());
    let (tx, rx) = mpsc::channel(4096);
    let remote = crate::remote_guard::refusal(&info.server, &info.context, opts.allow_remote);
    cluster::announce(info, &tx).await;
    let tasks = cluster::spawn_watchers(&client, watch.objects_namespace.as_deref(), &model.config, &tx);
    drop(tx);
    let rx = match &opts.record {
        Some(path) => crate::recording::recorder::tee(path, &model.config, rx)?,
        None => rx,
    };
    // The command channel: confirmed actions go to what cluster/ serves, outcomes come back.
    // Served alongside the loop on this task (perform's futures need not be Send); it ends
    // only when the loop drops its ends, so the loop decides when the dashboard stops.
    let (action_tx, action_rx) = mpsc::channel(8);
    let (outcome_tx, outcome_rx) = mpsc::channel(8);
    let serve = async {
        cluster::actions::serve(client.clone(), watch.flux_namespace.clone(), action_rx, outcome_tx).await;
        std::future::pending::<()>().await;
    };
    // Decided once, the way `shardwatch chaos fail-node` decides without --target.
    let (kubeconfig, context) = (watch.connect.kubeconfig.as_deref(), watch.connect.context.as_deref());
    let node_host = crate::node_host::node_host(opts.node_host, kubeconfig, context).await;
    let context = ActionContext { shard_label: watch.shard_label.clone(), node_host, remote };
    let reader = Reader {
        client: client.clone(),
        flux_namespace: watch.flux_namespace.clone(),
        shard_label: watch.shard_label.clone(),
    };
    let actions = Actions { tx: action_tx, rx: outcome_rx, context, logs: LogFeed::new(Some(reader)) };
    let mut latency = Latency::new(opts.stats.as_deref());
    let result = tokio::select! {
        r = event_loop(terminal, &mut model, rx, actions, opts.first_state(), &mut latency) => r,
        () = serve => Ok(()),
    };
    latency.write()?;
    for t in tasks {
        t.abort();
    }
    result
}

/// Both ends of the command channel, as the event loop holds them, and what turning a
/// request into an action needs beyond the request.
struct Actions {
    tx: mpsc::Sender<Action>,
    rx: mpsc::Receiver<ActionReport>,
    context: ActionContext,
    /// Reads the lines of the log view `l` opens.
    logs: LogFeed,
}

/// What the cluster actions need that the UI's plain requests do not carry.
struct ActionContext {
    /// The node label naming a node's shard (`--shard-label`), which also finds a shard's Deployments.
    shard_label: String,
    /// Where the nodes run, or why that is not known (no node failure then).
    node_host: Result<NodeHost, String>,
    /// Why node, pod and scale actions are refused on this cluster (`--allow-remote`), if they are.
    remote: Option<String>,
}

impl ActionContext {
    /// Why `f`/`r` are refused here, for the UI (`None`: where the nodes run is known).
    fn cannot_fail_nodes(&self) -> Option<String> {
        self.node_host.as_ref().err().map(|why| {
            format!(
                "cannot fail or restore nodes: {why} (on kind: shardwatch chaos fail-node NODE --target kind)"
            )
        })
    }
}

/// The cluster action a confirmed dashboard request stands for, or why it cannot be done.
fn action_of(request: Request, context: &ActionContext) -> Result<Action, String> {
    let host = || context.node_host.clone().map_err(|_| context.cannot_fail_nodes().unwrap_or_default());
    Ok(match request {
        Request::Cordon(node) => Action::Cordon { node },
        Request::Uncordon(node) => Action::Uncordon { node },
        Request::DeletePod(pod) => Action::DeletePod { pod },
        Request::FailNode(node) => Action::FailNode { node, host: host()? },
        Request::RestoreNode(node) => Action::RestoreNode { node, host: host()? },
        Request::Drain(node) => Action::Drain { node },
        Request::ScaleShard { shard, replicas, .. } => {
            Action::ScaleShard { shard, replicas, shard_label: context.shard_label.clone() }
        }
        Request::Flux(r) => match r.verb {
            FluxVerb::Reconcile => Action::Reconcile { key: r.key, with_source: true },
            FluxVerb::Suspend => Action::Suspend { key: r.key, suspend: true },
            FluxVerb::Resume => Action::Suspend { key: r.key, suspend: false },
        },
    })
}

/// A hidden test hook: with `SHARDWATCH_TEST_PANIC_IN_DRAW=N` the Nth frame panics inside
/// the draw, so a test can see the terminal restored and the process gone after a panic
/// (tests/terminal_restore.rs); `SHARDWATCH_TEST_PANIC_TEXT` is added to its message, so a
/// test can see a credential in a panic redacted (tests/credential_redaction.rs). Unset, it
/// does nothing.
struct PanicInDraw {
    frames_left: Option<u32>,
    text: String,
}

impl PanicInDraw {
    fn from_env() -> Self {
        let frames_left = std::env::var("SHARDWATCH_TEST_PANIC_IN_DRAW").ok().map(|n| n.parse().unwrap_or(1));
        PanicInDraw { frames_left, text: std::env::var("SHARDWATCH_TEST_PANIC_TEXT").unwrap_or_default() }
    }

    fn frame(&mut self) {
        if let Some(n) = self.frames_left.as_mut() {
            *n = n.saturating_sub(1);
            assert!(*n > 0, "SHARDWATCH_TEST_PANIC_IN_DRAW: a panic in a draw, on purpose{}", self.text);
        }
    }
}

/// The footer line for an action's report: what was done in one line, or the error.
fn outcome_message(report: &ActionReport) -> String {
    let done = match &report.result {
        Ok(done) => done,
        Err(e) => return format!("failed: {e}"),
    };
    match (&report.action, done) {
        // Several Deployments: say how many.
        (Action::ScaleShard { shard, .. }, Outcome::Scaled { deployments, replicas }) => {
            let each = count(usize::try_from(*replicas).unwrap_or_default(), "replica");
            format!("shard {shard}: {} scaled to {each}", count(deployments.len(), "Deployment"))
        }
        (_, Outcome::Drained { node, pods_deleted, .. }) => {
            format!("node {node} drained: cordoned, {} deleted", count(pods_deleted.len(), "pod"))
        }
        _ => done.lines().pop().unwrap_or_else(|| "done".to_string()),
    }
}

/// `1 pod`, `2 pods`.
fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    model: &mut Model,
    mut rx: mpsc::Receiver<ClusterEvent>,
    mut actions: Actions,
    first: UiState,
    latency: &mut Latency,
) -> Result<()> {
    let mut keys = EventStream::new();
    let cannot_fail_nodes = actions.context.cannot_fail_nodes();
    let remote_refusal = actions.context.remote.clone();
    let mut state = UiState { cannot_fail_nodes, remote_refusal, ..first };
    let mut views = Views::new();
    let mut snap = views.refresh(model, Utc::now());
    // `dirty`: the model changed (redraw only if the snapshot did); `redraw`: the screen
    // must be drawn again (a key, a resize, an outcome, the clock moving the ages).
    let mut dirty = true;
    let mut redraw = true;
    let mut next_frame = Instant::now();
    // Ages on screen move once a second: the clock only marks the few time-dependent
    // sections stale and redraws what is visible; nothing is recomputed per object.
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut cluster_open = true;
    // A supervisor's stop (SIGTERM) or a closed terminal (SIGHUP) ends the dashboard like
    // `q`, so the caller restores the terminal and the watchers stop.
    let mut stop = Stops::new();
    let mut panic_in_draw = PanicInDraw::from_env();
    loop {
        if (dirty || redraw) && Instant::now() >= next_frame {
            let started = std::time::Instant::now();
            let now = Utc::now();
            if views.stale(model) {
                let fresh = views.refresh(model, now);
                // Most Node updates on a big cluster (heartbeats, labels nobody reads)
                // change nothing shown: the sections stay shared and the frame is skipped.
                redraw |= !same_content(&fresh, &snap);
                snap = fresh;
                ui::follow_selection(&mut state, &snap);
            }
            snap.taken_at = now;
            if redraw {
                terminal
                    .draw(|f| {
                        panic_in_draw.frame();
                        ui::draw(f, &snap, &state)
                    })
                    .wrap_err("drawing the dashboard")?;
            }
            latency.shown();
            // A frame that took long (a rebuild of 20,000 objects) spaces out the next ones,
            // so a storm of shape changes cannot take more than about a third of a core.
            if redraw {
                next_frame =
                    Instant::now() + Duration::from_millis(1000 / MAX_FPS).max(started.elapsed() * 2);
            }
            dirty = false;
            redraw = false;
        }
        let frame_due = tokio::time::sleep_until(next_frame);
        tokio::select! {
            ev = rx.recv(), if cluster_open => match ev {
                Some(ev) => {
                    latency.received(ev.at);
                    model.apply(ev);
                    // Fold a burst into one redraw.
                    while let Ok(ev) = rx.try_recv() {
                        latency.received(ev.at);
                        model.apply(ev);
                    }
                    dirty = true;
                }
                None => cluster_open = false,
            },
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => {
                    let outcome = ui::handle_key(&mut state, k, &snap);
                    ui::remember_selection(&mut state, &snap);
                    copy_asked(&mut state);
                    match outcome {
                        KeyOutcome::Quit => return Ok(()),
                        KeyOutcome::Changed => redraw = true,
                        KeyOutcome::Ignored => {}
                        KeyOutcome::Request(request) => {
                            redraw = true;
                            match action_of(request, &actions.context) {
                                Ok(action) => {
                                    tracing::info!(action = ?action, "confirmed in the dashboard");
                                    if actions.tx.try_send(action).is_err() {
                                        state.message =
                                            Some("busy: the previous actions are still running".into());
                                    }
                                }
                                Err(why) => state.message = Some(why),
                            }
                        }
                    }
                }
                Some(Ok(TermEvent::Mouse(m))) => {
                    let size = terminal.size().wrap_err("reading the terminal size")?;
                    let area = ratatui::layout::Rect::new(0, 0, size.width, size.height);
                    redraw |= ui::handle_mouse(&mut state, m, &snap, area) != KeyOutcome::Ignored;
                    ui::remember_selection(&mut state, &snap);
                }
                Some(Ok(TermEvent::Resize(..))) => redraw = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal"),
                None => return Ok(()),
            },
            m = actions.logs.recv(), if actions.logs.is_open() => {
                if let Some(view) = state.reading_log() {
                    view.apply(m);
                    // Fold a burst of lines into one redraw.
                    while let Some(m) = actions.logs.try_recv() {
                        view.apply(m);
                    }
                }
                redraw = true;
            }
            Some(outcome) = actions.rx.recv() => {
                state.message = Some(outcome_message(&outcome));
                redraw = true;
            }
            _ = clock.tick() => {
                views.tick();
                redraw = true;
            }
            _ = frame_due, if dirty || redraw => {}
            () = stop.recv() => return Ok(()),
        }
        // Read the log the screen shows (`l`'s view, or the explain view's last lines), if any.
        actions.logs.follow(state.wanted_log());
    }
}

/// Hands a command `y` copied to the terminal's clipboard (OSC 52).
pub fn copy_asked(state: &mut UiState) {
    if let Some(text) = state.copy.take() {
        if let Err(e) = crate::terminal::copy(&text) {
            state.message = Some(format!("cannot copy: {e}"));
        }
    }
}

/// SIGTERM and SIGHUP as streams registered once (none where there are no such signals).
struct Stops(#[cfg(unix)] Vec<tokio::signal::unix::Signal>);

impl Stops {
    fn new() -> Stops {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Stops(
                [SignalKind::terminate(), SignalKind::hangup()]
                    .into_iter()
                    .filter_map(|k| signal(k).ok())
                    .collect(),
            )
        }
        #[cfg(not(unix))]
        Stops()
    }

    /// Resolves when one of the signals arrives.
    async fn recv(&mut self) {
        #[cfg(unix)]
        if !self.0.is_empty() {
            let waits = self.0.iter_mut().map(|s| Box::pin(s.recv()));
            futures::future::select_all(waits).await;
            return;
        }
        std::future::pending::<()>().await;
    }
}

/// Whether two snapshots show the same, whenever they were taken. Sections the views
/// did not redo are the same `Arc`, which compares by pointer first.
fn same_content(a: &Snapshot, b: &Snapshot) -> bool {
    let mut a = a.clone();
    a.taken_at = b.taken_at;
    a == *b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(node_host: Result<NodeHost, String>) -> ActionContext {
        ActionContext { shard_label: "sharding.fluxcd.io/key".into(), node_host, remote: None }
    }

    #[test]
    fn requests_map_to_actions_and_outcomes_to_one_line() {
        let local = context(Ok(NodeHost::Local));
        let map = |r: Request| action_of(r, &local).unwrap();
        assert_eq!(map(Request::Cordon("w3".into())), Action::Cordon { node: "w3".into() });
        assert_eq!(map(Request::Uncordon("w3".into())), Action::Uncordon { node: "w3".into() });
        assert_eq!(map(Request::DeletePod("p".into())), Action::DeletePod { pod: "p".into() });
        assert_eq!(map(Request::Drain("w3".into())), Action::Drain { node: "w3".into() });
        assert_eq!(
            map(Request::FailNode("w2".into())),
            Action::FailNode { node: "w2".into(), host: NodeHost::Local }
        );
        assert_eq!(
            map(Request::RestoreNode("w2".into())),
            Action::RestoreNode { node: "w2".into(), host: NodeHost::Local }
        );
        assert_eq!(
            map(Request::ScaleShard { shard: "shard3".into(), replicas: 0, deployments: 3 }),
            Action::ScaleShard {
                shard: "shard3".into(),
                replicas: 0,
                shard_label: "sharding.fluxcd.io/key".into()
            }
        );
        let done = ActionReport {
            action: Action::Cordon { node: "w3".into() },
            result: Ok(Outcome::Cordoned { node: "w3".into(), unschedulable: true }),
        };
        assert_eq!(outcome_message(&done), "node w3 cordoned");
        let failed =
            ActionReport { action: Action::DeletePod { pod: "p".into() }, result: Err("not found".into()) };
        assert_eq!(outcome_message(&failed), "failed: not found");
    }

    #[test]
    fn node_failure_needs_to_know_where_the_node_runs() {
        let unknown = context(Err("the kubeconfig in use (/k) is not the local cluster's".into()));
        let why = unknown.cannot_fail_nodes().expect("a reason");
        assert!(why.contains("(/k) is not the local cluster's"), "{why}");
        assert_eq!(action_of(Request::FailNode("w2".into()), &unknown), Err(why.clone()));
        assert_eq!(action_of(Request::RestoreNode("w2".into()), &unknown), Err(why));
        // Other actions do not depend on it.
        assert!(action_of(Request::Drain("w2".into()), &unknown).is_ok());
        assert_eq!(context(Ok(NodeHost::Kind { cluster: "shardwatch".into() })).cannot_fail_nodes(), None);
    }

    #[test]
    fn many_line_outcomes_are_summed_up() {
        let scaled = ActionReport {
            action: Action::ScaleShard { shard: "shard3".into(), replicas: 0, shard_label: "k".into() },
            result: Ok(Outcome::Scaled { deployments: vec!["f/a".into(), "f/b".into()], replicas: 0 }),
        };
        assert_eq!(outcome_message(&scaled), "shard shard3: 2 Deployments scaled to 0 replicas");
        let back = ActionReport {
            action: Action::ScaleShard { shard: "main".into(), replicas: 1, shard_label: "k".into() },
            result: Ok(Outcome::Scaled { deployments: vec!["f/a".into()], replicas: 1 }),
        };
        assert_eq!(outcome_message(&back), "shard main: 1 Deployment scaled to 1 replica");
        let drained = |pods_deleted: Vec<String>| ActionReport {
            action: Action::Drain { node: "w3".into() },
            result: Ok(Outcome::Drained { node: "w3".into(), namespace: "f".into(), pods_deleted }),
        };
        assert_eq!(outcome_message(&drained(vec!["f/a".into()])), "node w3 drained: cordoned, 1 pod deleted");
        assert_eq!(outcome_message(&drained(vec![])), "node w3 drained: cordoned, 0 pods deleted");
        let failed_node = ActionReport {
            action: Action::FailNode { node: "w2".into(), host: NodeHost::Local },
            result: Ok(Outcome::NodeFailed { node: "w2".into(), host: NodeHost::Local }),
        };
        assert_eq!(
            outcome_message(&failed_node),
            "node w2 failed (heartbeats stopped; NotReady once the node monitor grace period passes)"
        );
    }
}
