//! The kubelet's restart back-off: 10 s after a crash, doubling up to 5 min, back to 10 s
//! once a run lasted 10 min.

use std::time::Duration;

/// First delay after a crash.
pub const INITIAL: Duration = Duration::from_secs(10);
/// The delay never grows past this.
pub const MAX: Duration = Duration::from_secs(300);
/// A run at least this long forgets earlier crashes (the kubelet's back-off entries expire too).
pub const RESET_AFTER: Duration = Duration::from_secs(600);

/// Back-off state of one container.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    last: Option<Duration>,
}

impl Backoff {
    /// The delay before restarting a process that just exited after running `ran_for`.
    pub fn next(&mut self, ran_for: Duration) -> Duration {
        let delay = match self.last {
            Some(last) if ran_for < RESET_AFTER => (last * 2).min(MAX),
            _ => INITIAL,
        };
        self.last = Some(delay);
        delay
    }

    /// Forgets earlier crashes (a new pod starts afresh).
    pub fn reset(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_ten_seconds_to_five_minutes() {
        let mut b = Backoff::default();
        let short = Duration::from_secs(1);
        let delays: Vec<u64> = (0..8).map(|_| b.next(short).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn a_long_run_or_a_reset_starts_again_at_ten_seconds() {
        let mut b = Backoff::default();
        b.next(Duration::ZERO);
        b.next(Duration::ZERO);
        assert_eq!(b.next(RESET_AFTER), INITIAL);
        b.next(Duration::ZERO);
        b.reset();
        assert_eq!(b.next(Duration::ZERO), INITIAL);
    }
}
