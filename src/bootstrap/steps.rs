//! Progress of a long bootstrap: numbered steps with detail lines and elapsed times,
//! printed as plain lines or sent to the TUI's progress screen.

use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// One progress message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A new step begins.
    Step(String),
    /// A detail of the current step.
    Detail(String),
    /// The current step's status, replacing the previous one (a build's progress).
    Status(String),
    /// A yes/no question for the screen, answered through the channel [`Steps::to_screen`] was given.
    Question(String),
}

/// Where progress goes.
enum Sink {
    Stderr,
    Channel(UnboundedSender<(Duration, Progress)>),
}

/// Announces steps and details with the time since the start.
pub struct Steps {
    start: Instant,
    n: usize,
    sink: Sink,
    /// The screen's answers to [`Progress::Question`]s (None: nothing answers here).
    answers: Option<UnboundedReceiver<bool>>,
    /// The last status printed on stderr, so only its changed lines are printed again.
    printed_status: std::cell::RefCell<Vec<String>>,
}

impl Steps {
    /// Plain lines on stderr, so stdout stays clean for scripts.
    pub fn new() -> Self {
        Steps {
            start: Instant::now(),
            n: 0,
            sink: Sink::Stderr,
            answers: None,
            printed_status: Default::default(),
        }
    }

    /// Messages to a receiver (the TUI's progress screen), stamped with elapsed time.
    pub fn to_channel(tx: UnboundedSender<(Duration, Progress)>) -> Self {
        Steps {
            start: Instant::now(),
            n: 0,
            sink: Sink::Channel(tx),
            answers: None,
            printed_status: Default::default(),
        }
    }

    /// [`Steps::to_channel`] to a screen that answers questions through `answers`.
    pub fn to_screen(tx: UnboundedSender<(Duration, Progress)>, answers: UnboundedReceiver<bool>) -> Self {
        Steps { answers: Some(answers), ..Self::to_channel(tx) }
    }

    /// Asks the screen `question`; None when no screen answers (plain output, or the screen is gone).
    pub async fn ask(&mut self, question: &str) -> Option<bool> {
        self.answers.as_ref()?;
        self.emit(Progress::Question(question.to_string()));
        self.answers.as_mut()?.recv().await
    }

    /// Announces the next step.
    pub fn step(&mut self, what: &str) {
        self.n += 1;
        self.emit(Progress::Step(what.to_string()));
    }

    /// A detail line under the current step.
    pub fn detail(&self, what: &str) {
        self.emit(Progress::Detail(what.to_string()));
    }

    /// The current step's status; the screen replaces the previous one, plain output prints
    /// it when it changed.
    pub fn status(&self, what: &str) {
        self.emit(Progress::Status(what.to_string()));
    }

    fn emit(&self, p: Progress) {
        let elapsed = self.start.elapsed();
        match &self.sink {
            Sink::Stderr => {
                let secs = elapsed.as_secs_f32();
                match p {
                    Progress::Step(s) => eprintln!("[{secs:>6.1}s] {}. {s}", self.n),
                    Progress::Detail(d) | Progress::Question(d) => eprintln!("[{secs:>6.1}s]      {d}"),
                    Progress::Status(d) => {
                        let mut printed = self.printed_status.borrow_mut();
                        let lines: Vec<String> = d.lines().map(str::to_string).collect();
                        for (i, line) in lines.iter().enumerate() {
                            if printed.get(i) != Some(line) {
                                eprintln!("[{secs:>6.1}s]      {line}");
                            }
                        }
                        *printed = lines;
                    }
                }
            }
            // A closed receiver means the screen is gone; the work still finishes.
            Sink::Channel(tx) => {
                let _ = tx.send((elapsed, p));
            }
        }
    }
}

impl Default for Steps {
    fn default() -> Self {
        Self::new()
    }
}
