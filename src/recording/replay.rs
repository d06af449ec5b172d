//! `shardwatch replay FILE`: the dashboard driven by a recording instead of a cluster,
//! with pause, step, seek and a position bar; or, with `-o`, the snapshot at one point.

use std::path::PathBuf;
use std::time::Duration;

use chrono::TimeDelta;
use color_eyre::eyre::{Result, WrapErr, eyre};
use crossterm::event::{Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio::time::Instant;

use super::Recording;
use super::player::{Move, Player};
use crate::headless::{self, Format};
use crate::model::objects::Time;
use crate::model::{Model, Snapshot, Views};
use crate::ui::position_bar::{self, ReplayPosition};
use crate::ui::theme::Theme;
use crate::ui::{self, Input, KeyOutcome, UiState};

/// At most this many frames per second, however fast the recording plays.
const MAX_FPS: u64 = 30;
/// How far ←/→ move, in recorded time.
const SEEK_STEP: TimeDelta = TimeDelta::seconds(10);

/// What `replay` needs to know.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// The recording.
    pub file: PathBuf,
    /// Recorded seconds per real second.
    pub speed: f64,
    /// Print the snapshot at `at` (default: the end) in this format instead of playing.
    pub output: Option<Format>,
    /// Seconds from the recording's start for `output`.
    pub at: Option<f64>,
    /// The theme, or no colours (`NO_COLOR`).
    pub theme: Theme,
    /// Do not capture the mouse (`--no-mouse`).
    pub no_mouse: bool,
}

/// Plays the recording on the terminal, or prints one snapshot of it; returns the exit code.
pub async fn run(opts: &ReplayOptions) -> Result<i32> {
    if !(opts.speed.is_finite() && opts.speed > 0.0) {
        return Err(eyre!("--speed must be a positive number, not {}", opts.speed));
    }
    let recording = Recording::read(&opts.file)?;
    if let Some(format) = opts.output {
        let at = match opts.at {
            Some(s) => {
                let offset = TimeDelta::from_std(Duration::try_from_secs_f64(s).wrap_err("--at")?)?;
                recording.start() + offset
            }
            None => recording.end(),
        };
        let snap = snapshot_at(&recording, at);
        match format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&snap)?),
            Format::Text => print!("{}", headless::text::render(&snap)),
        }
        return Ok(0);
    }
    let mut terminal = ratatui::init();
    if !opts.no_mouse {
        crate::terminal::mouse_on();
    }
    let result =
        play(&mut terminal, &recording, opts.speed, opts.theme, EventStream::new(), |_, _| true).await;
    crate::terminal::mouse_off();
    ratatui::restore();
    result.map(|()| 0)
}

/// The model after every event recorded at or before `at`, as a snapshot taken at `at`.
pub fn snapshot_at(recording: &Recording, at: Time) -> Snapshot {
    let mut model = Model::new(recording.header.model_config());
    for event in recording.events.iter().take_while(|e| e.at <= at) {
        model.apply(event.clone());
    }
    Snapshot::of(&model, at)
}

/// The model, its views and the player, together so a seek back can rebuild them.
struct Replayed<'r> {
    recording: &'r Recording,
    model: Model,
    views: Views,
    player: Player,
}

impl Replayed<'_> {
    fn perform(&mut self, step: Move) {
        let range = match step {
            Move::Apply(range) => range,
            Move::Rebuild(range) => {
                self.model = Model::new(self.recording.header.model_config());
                self.views = Views::new();
                range
            }
        };
        for event in &self.recording.events[range] {
            self.model.apply(event.clone());
        }
    }

    /// The snapshot at the player's position: ages count from the recorded clock.
    fn snapshot(&mut self) -> Snapshot {
        let at = self.player.position();
        // The recorded clock moves by leaps (a seek, 100×): every time-dependent part is redone.
        self.views.tick();
        let mut snap = self.views.refresh(&mut self.model, at);
        snap.taken_at = at;
        snap
    }

    fn position(&self) -> ReplayPosition {
        let p = &self.player;
        ReplayPosition {
            elapsed: p.elapsed(),
            length: p.length(),
            at: p.position(),
            applied: p.applied(),
            events: p.events(),
            speed: p.speed,
            paused: p.paused,
            ended: p.ended(),
        }
    }
}

/// A replay control key.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Control {
    Pause,
    Step,
    Seek(TimeDelta),
    Speed { faster: bool },
}

/// The replay's own keys, only while no prompt or overlay takes keys.
fn control(state: &UiState, key: &KeyEvent) -> Option<Control> {
    let free = state.input == Input::Normal
        && !state.help
        && !state.details
        && state.explain.is_none()
        && state.confirm.is_none();
    if !free {
        return None;
    }
    Some(match key.code {
        KeyCode::Char(' ') => Control::Pause,
        KeyCode::Char('.') => Control::Step,
        KeyCode::Left => Control::Seek(-SEEK_STEP),
        KeyCode::Right => Control::Seek(SEEK_STEP),
        KeyCode::Char('+' | '=') => Control::Speed { faster: true },
        KeyCode::Char('-') => Control::Speed { faster: false },
        _ => return None,
    })
}

/// Plays `recording` on `terminal` at `speed` with keys from `keys`, until `q` or until
/// `frame_drawn` (shown the player and each drawn screen) returns false. Time is tokio's,
/// so a test with paused time plays an hour-long recording at 1× in an instant.
pub async fn play<B, K>(
    terminal: &mut Terminal<B>,
    recording: &Recording,
    speed: f64,
    theme: Theme,
    mut keys: K,
    mut frame_drawn: impl FnMut(&Player, &Buffer) -> bool,
) -> Result<()>
where
    B: Backend,
    B::Error: std::error::Error + Send + Sync + 'static,
    K: Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    let mut replay = Replayed {
        recording,
        model: Model::new(recording.header.model_config()),
        views: Views::new(),
        player: Player::new(&recording.events, recording.start(), speed),
    };
    let mut state = UiState {
        read_only: true,
        cannot_fail_nodes: Some("a replay changes nothing: there is no cluster behind it".into()),
        palette: theme.palette,
        ..UiState::new(theme.no_color)
    };
    let mut snap = replay.snapshot();
    let mut last = Instant::now();
    let mut next_frame = last;
    let mut dirty = true;
    let mut keys_open = true;
    loop {
        let now = Instant::now();
        let before = replay.player.position();
        let due = replay.player.advance(now - last);
        last = now;
        if !due.is_empty() || replay.player.position() != before {
            replay.perform(Move::Apply(due));
            dirty = true;
        }
        if dirty && now >= next_frame {
            snap = replay.snapshot();
            ui::follow_selection(&mut state, &snap);
            let position = replay.position();
            let frame = terminal
                .draw(|f| {
                    let area = f.area();
                    draw(f.buffer_mut(), area, &snap, &state, &position);
                })
                .wrap_err("drawing the replay")?;
            if !frame_drawn(&replay.player, frame.buffer) {
                return Ok(());
            }
            next_frame = now + Duration::from_millis(1000 / MAX_FPS);
            dirty = false;
        }
        // Wake for the next event, else once a second while playing (the bar and the ages
        // move); a frame held back by the frame rate is drawn when it is allowed.
        let mut wake = match (replay.player.until_next(), replay.player.paused || replay.player.ended()) {
            (Some(d), _) => Some(now + (d + Duration::from_micros(1)).min(Duration::from_secs(1))),
            (None, false) => Some(now + Duration::from_secs(1)),
            (None, true) => None,
        };
        if dirty {
            wake = Some(wake.map_or(next_frame, |w| w.min(next_frame)));
        }
        let sleep = async {
            match wake {
                Some(w) => tokio::time::sleep_until(w).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            key = keys.next(), if keys_open => match key {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => {
                    if let Some(c) = control(&state, &k) {
                        // The clock does not move under a key: what is due now is applied first.
                        let now = Instant::now();
                        let due = replay.player.advance(now - last);
                        last = now;
                        replay.perform(Move::Apply(due));
                        let step = match c {
                            Control::Pause => {
                                replay.player.paused = !replay.player.paused;
                                Move::Apply(0..0)
                            }
                            Control::Step => Move::Apply(replay.player.step()),
                            Control::Seek(by) => replay.player.seek_by(by),
                            Control::Speed { faster } => {
                                replay.player.change_speed(faster);
                                Move::Apply(0..0)
                            }
                        };
                        replay.perform(step);
                        dirty = true;
                    } else {
                        let outcome = ui::handle_key(&mut state, k, &snap);
                        ui::remember_selection(&mut state, &snap);
                        crate::app::copy_asked(&mut state);
                        match outcome {
                            KeyOutcome::Quit => return Ok(()),
                            KeyOutcome::Changed | KeyOutcome::Request(_) => dirty = true,
                            KeyOutcome::Ignored => {}
                        }
                    }
                }
                Some(Ok(TermEvent::Mouse(m))) => {
                    let size = terminal.size().map_err(|e| eyre!("reading the terminal size: {e}"))?;
                    let area = dashboard_area(Rect::new(0, 0, size.width, size.height));
                    dirty |= ui::handle_mouse(&mut state, m, &snap, area) != KeyOutcome::Ignored;
                    ui::remember_selection(&mut state, &snap);
                }
                Some(Ok(TermEvent::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal"),
                None => keys_open = false,
            },
        }
    }
}

/// Where the dashboard goes: all but the last line, which the position bar takes.
fn dashboard_area(area: Rect) -> Rect {
    Rect { height: area.height - u16::from(area.height >= 4), ..area }
}

/// The dashboard above, the position bar on the last line.
pub fn draw(buf: &mut Buffer, area: Rect, snap: &Snapshot, state: &UiState, position: &ReplayPosition) {
    let dashboard = dashboard_area(area);
    ui::render(buf, dashboard, snap, state);
    let bar = Rect { y: area.y + dashboard.height, height: area.height - dashboard.height, ..area };
    let theme = Theme::with(state.no_color, state.palette);
    position_bar::render(buf, bar, position, theme);
    theme.paint_defaults(buf, bar);
}
