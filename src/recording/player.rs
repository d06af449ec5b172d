//! Where a replay is: a virtual clock over the recorded events that runs at a speed,
//! pauses, steps one event and seeks. Pure: the caller says how much real time passed
//! and applies the events it is handed (rebuilding the model when seeking back).

use std::ops::Range;
use std::time::Duration;

use chrono::TimeDelta;

use crate::model::ClusterEvent;
use crate::model::objects::Time;

/// The fastest and slowest speeds `+`/`-` reach.
const SPEEDS: Range<f64> = 0.125..1024.0;

/// A virtual clock over a recording's events.
#[derive(Debug, Clone, PartialEq)]
pub struct Player {
    start: Time,
    end: Time,
    clock: Time,
    next: usize,
    times: Vec<Time>,
    /// How many recorded seconds pass per real second.
    pub speed: f64,
    /// Paused: real time moves nothing.
    pub paused: bool,
}

/// What the caller must do to show the new position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Move {
    /// Apply these events (by index) to the model as it is.
    Apply(Range<usize>),
    /// Start from an empty model and apply these events (a seek backwards).
    Rebuild(Range<usize>),
}

impl Player {
    /// A player at the start of `events` (sorted by time as recorded), from `start`.
    pub fn new(events: &[ClusterEvent], start: Time, speed: f64) -> Player {
        let times: Vec<Time> = events.iter().map(|e| e.at).collect();
        let end = times.iter().copied().fold(start, Time::max);
        Player { start, end, clock: start, next: 0, times, speed, paused: false }
    }

    /// The recorded instant shown now.
    pub fn position(&self) -> Time {
        self.clock
    }

    /// Recorded time from the start to the position.
    pub fn elapsed(&self) -> Duration {
        (self.clock - self.start).to_std().unwrap_or_default()
    }

    /// The whole recorded span.
    pub fn length(&self) -> Duration {
        (self.end - self.start).to_std().unwrap_or_default()
    }

    /// Events applied so far.
    pub fn applied(&self) -> usize {
        self.next
    }

    /// Events in the recording.
    pub fn events(&self) -> usize {
        self.times.len()
    }

    /// Whether every event is applied and the clock is at the end.
    pub fn ended(&self) -> bool {
        self.next == self.times.len() && self.clock >= self.end
    }

    /// Real time that passed: the clock moves by it times the speed (unless paused),
    /// never past the end; returns the events now due.
    pub fn advance(&mut self, real: Duration) -> Range<usize> {
        if !self.paused {
            let recorded = TimeDelta::from_std(real.mul_f64(self.speed)).unwrap_or(TimeDelta::MAX);
            self.clock = self.clock.checked_add_signed(recorded).unwrap_or(self.end).min(self.end);
        }
        self.catch_up()
    }

    /// Real time until the next event is due at this speed (`None`: paused or none left).
    pub fn until_next(&self) -> Option<Duration> {
        if self.paused {
            return None;
        }
        let due = *self.times.get(self.next)?;
        let recorded = (due - self.clock).to_std().unwrap_or_default();
        Some(recorded.div_f64(self.speed))
    }

    /// Pauses and applies exactly the next event, moving the clock to its time.
    pub fn step(&mut self) -> Range<usize> {
        self.paused = true;
        match self.times.get(self.next) {
            Some(at) => {
                self.clock = self.clock.max(*at);
                self.next += 1;
                self.next - 1..self.next
            }
            None => {
                self.clock = self.end;
                self.next..self.next
            }
        }
    }

    /// Moves the clock by `by` recorded time (backwards when negative), within the recording.
    pub fn seek_by(&mut self, by: TimeDelta) -> Move {
        let to = self.clock.checked_add_signed(by).unwrap_or(self.end);
        self.seek(to)
    }

    /// Moves the clock to `to`, within the recording.
    pub fn seek(&mut self, to: Time) -> Move {
        let to = to.clamp(self.start, self.end);
        if to >= self.clock {
            self.clock = to;
            return Move::Apply(self.catch_up());
        }
        self.clock = to;
        self.next = 0;
        Move::Rebuild(self.catch_up())
    }

    /// Twice as fast (`faster`) or half as fast, within bounds.
    pub fn change_speed(&mut self, faster: bool) {
        let speed = if faster { self.speed * 2.0 } else { self.speed / 2.0 };
        self.speed = speed.clamp(SPEEDS.start, SPEEDS.end);
    }

    /// The events at or before the clock that are not applied yet.
    fn catch_up(&mut self) -> Range<usize> {
        let from = self.next;
        while self.times.get(self.next).is_some_and(|at| *at <= self.clock) {
            self.next += 1;
        }
        from..self.next
    }
}
