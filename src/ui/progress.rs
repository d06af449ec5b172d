//! The progress screen `shardwatch up` shows before the dashboard: numbered steps, a
//! spinner on the running one, elapsed times, and the latest detail lines.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::theme::{Theme, Tone};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/// Detail lines kept per step: enough to see what a long step is doing, bounded so a
/// chatty build log cannot grow memory.
const DETAILS_KEPT: usize = 200;

/// One step as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepView {
    /// What the step does.
    pub title: String,
    /// When it began, since the start.
    pub started: Duration,
    /// When it ended, if it did.
    pub finished: Option<Duration>,
    /// Its detail lines, oldest first (bounded).
    pub details: Vec<String>,
    /// Its current status (replaced as it changes, shown below the details while it runs).
    pub status: Vec<String>,
}

/// Everything the progress screen shows: plain values fed by the bootstrap's messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgressView {
    /// Steps so far.
    pub steps: Vec<StepView>,
    /// Set when the work failed, with the error.
    pub failed: Option<String>,
    /// Set when everything finished.
    pub done: Option<Duration>,
    /// A yes/no question waiting for its answer (`up --target current`'s confirmation).
    pub question: Option<String>,
}

impl ProgressView {
    /// A new step begins (and the previous one ends) at `at`.
    pub fn step(&mut self, at: Duration, title: &str) {
        if let Some(last) = self.steps.last_mut() {
            last.finished.get_or_insert(at);
        }
        self.steps.push(StepView {
            title: title.to_string(),
            started: at,
            finished: None,
            details: Vec::new(),
            status: Vec::new(),
        });
    }

    /// The current step's status, replacing the previous one.
    pub fn status(&mut self, text: &str) {
        if let Some(last) = self.steps.last_mut() {
            last.status = text.lines().map(str::to_string).collect();
        }
    }

    /// A detail line of the current step.
    pub fn detail(&mut self, line: &str) {
        if let Some(last) = self.steps.last_mut() {
            if last.details.len() == DETAILS_KEPT {
                last.details.remove(0);
            }
            last.details.push(line.to_string());
        }
    }

    /// Shows `question` until it is answered.
    pub fn ask(&mut self, question: &str) {
        self.question = Some(question.to_string());
    }

    /// Everything finished at `at`.
    pub fn finish(&mut self, at: Duration) {
        if let Some(last) = self.steps.last_mut() {
            last.finished.get_or_insert(at);
        }
        self.done = Some(at);
    }
}

/// Draws the progress screen on a terminal frame.
pub fn draw(frame: &mut ratatui::Frame, view: &ProgressView, now: Duration, tick: usize, no_color: bool) {
    let area = frame.area();
    render(frame.buffer_mut(), area, view, now, tick, no_color);
}

/// Draws the progress screen at time `now` (since the start); `tick` turns the spinner.
pub fn render(buf: &mut Buffer, area: Rect, view: &ProgressView, now: Duration, tick: usize, no_color: bool) {
    let theme = Theme::new(no_color);
    let total = view.done.unwrap_or(now);
    let title = format!(" shardwatch up — the sharded Flux stack · {:.1}s ", total.as_secs_f32());
    let block = Block::default().borders(Borders::ALL).border_style(theme.border()).title(title);
    let inner = block.inner(area);
    block.render(area, buf);
    let mut lines: Vec<Line> = Vec::new();
    for (i, s) in view.steps.iter().enumerate() {
        let running = s.finished.is_none() && view.failed.is_none();
        let (glyph, tone) = match (s.finished, &view.failed) {
            (None, Some(_)) => ("✕", Tone::Bad),
            (None, None) => (SPINNER[tick % SPINNER.len()], Tone::Warn),
            (Some(_), _) => ("✓", Tone::Good),
        };
        let took = s.finished.unwrap_or(now).saturating_sub(s.started);
        lines.push(Line::from(vec![
            Span::styled(format!(" {glyph} "), theme.tone(tone)),
            Span::styled(
                format!("{}. {}", i + 1, s.title),
                if running { theme.heading() } else { theme.tone(Tone::Plain) },
            ),
            Span::styled(format!("  {:.1}s", took.as_secs_f32()), theme.dim()),
        ]));
        // Finished steps keep their last line (the outcome); the running one shows more, and
        // all of what a question asks about (the newest lines win on a small screen).
        let last = i + 1 == view.steps.len();
        let shown = match (last, &view.question) {
            (true, Some(_)) => usize::MAX,
            _ if running || last => 8,
            _ => 1,
        };
        for d in s.details.iter().skip(s.details.len().saturating_sub(shown)) {
            lines.push(Line::styled(format!("      {d}"), theme.dim()));
        }
        if running {
            for (j, st) in s.status.iter().enumerate() {
                let style = if j == 0 { theme.tone(Tone::Warn) } else { theme.dim() };
                lines.push(Line::styled(format!("      {st}"), style));
            }
        }
    }
    if let Some(err) = &view.failed {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!(" failed: {err}"), theme.tone(Tone::Bad)));
    }
    if let Some(q) = &view.question {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!(" {q}"), theme.tone(Tone::Warn)));
    }
    let hint = match (&view.failed, &view.question) {
        (Some(_), _) => " press any key to exit",
        (None, Some(_)) => " y: apply · n / Esc / q: refuse (nothing is applied)",
        (None, None) => " q / Ctrl-C: stop waiting",
    };
    let hint = Line::styled(hint, theme.dim());
    // Keep the newest lines in view when the list outgrows the screen, counting the rows a
    // wrapped line takes, so the question and the hint at the bottom are never cut off.
    let rows = |l: &Line| l.width().max(1).div_ceil(usize::from(inner.width.max(1)));
    let mut room = usize::from(inner.height).saturating_sub(rows(&hint));
    let mut keep = 0;
    for l in lines.iter().rev() {
        if rows(l) > room {
            break;
        }
        room -= rows(l);
        keep += 1;
    }
    let mut shown: Vec<Line> = lines.split_off(lines.len() - keep);
    shown.push(hint);
    Paragraph::new(shown).wrap(Wrap { trim: false }).render(inner, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(buf: &Buffer) -> String {
        let a = buf.area;
        (0..a.height)
            .map(|y| (0..a.width).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn sample() -> ProgressView {
        let mut v = ProgressView::default();
        v.step(Duration::from_millis(0), "cluster (Local)");
        v.detail("cluster shardwatch already running");
        v.step(Duration::from_millis(1700), "waiting for 13 Deployments to be Available");
        v.detail("7/13 Deployments available (2.1s)");
        v
    }

    #[test]
    fn shows_done_steps_with_times_and_the_running_step_with_its_details() {
        let area = Rect::new(0, 0, 80, 12);
        let mut buf = Buffer::empty(area);
        render(&mut buf, area, &sample(), Duration::from_millis(3800), 0, true);
        let t = text(&buf);
        assert!(t.contains("✓ 1. cluster (Local)  1.7s"), "{t}");
        assert!(t.contains("⠋ 2. waiting for 13 Deployments to be Available  2.1s"), "{t}");
        assert!(t.contains("7/13 Deployments available"), "{t}");
        assert!(t.contains("3.8s"), "total time in the title: {t}");
    }

    #[test]
    fn a_failure_marks_the_running_step_and_says_why() {
        let mut v = sample();
        v.failed = Some("timed out after 300s".into());
        let area = Rect::new(0, 0, 80, 12);
        let mut buf = Buffer::empty(area);
        render(&mut buf, area, &v, Duration::from_secs(5), 3, true);
        let t = text(&buf);
        assert!(t.contains("✕ 2. waiting"), "{t}");
        assert!(t.contains("failed: timed out after 300s"), "{t}");
        assert!(t.contains("press any key to exit"), "{t}");
    }

    #[test]
    fn a_question_shows_every_line_it_asks_about_and_how_to_answer() {
        let mut v = ProgressView::default();
        v.step(Duration::ZERO, "what the apply would do (server-side dry run, nothing written)");
        for i in 0..12 {
            v.detail(&format!("  create Deployment/flux-system/d{i}"));
        }
        v.ask("Apply this to context kwok-x at https://127.0.0.1:6443?");
        let area = Rect::new(0, 0, 90, 24);
        let mut buf = Buffer::empty(area);
        render(&mut buf, area, &v, Duration::from_secs(2), 0, true);
        let t = text(&buf);
        assert!(t.contains("create Deployment/flux-system/d0"), "all the dry run's lines: {t}");
        assert!(t.contains("Apply this to context kwok-x at https://127.0.0.1:6443?"), "{t}");
        assert!(t.contains("y: apply · n / Esc / q: refuse (nothing is applied)"), "{t}");
        assert!(!t.contains("stop waiting"), "{t}");
    }

    #[test]
    fn details_are_bounded_and_tiny_screens_do_not_panic() {
        let mut v = sample();
        for i in 0..1000 {
            v.detail(&format!("go: downloading module {i}"));
        }
        assert_eq!(v.steps[1].details.len(), DETAILS_KEPT);
        for (w, h) in [(0, 0), (1, 1), (10, 3), (200, 60)] {
            let area = Rect::new(0, 0, w, h);
            let mut buf = Buffer::empty(area);
            render(&mut buf, area, &v, Duration::from_secs(9), 7, false);
        }
    }

    #[test]
    fn a_build_status_replaces_itself_below_the_running_step() {
        let mut v = ProgressView::default();
        v.step(Duration::ZERO, "cluster (Local)");
        v.status(
            "building etcd (2 of 6) · 1 min so far · about 8–12 min in all on 2 cores\ngo: downloading a v1",
        );
        v.status("building kube-apiserver (3 of 6) · 2 min so far · about 8–12 min in all on 2 cores\ngo: downloading b v2");
        let area = Rect::new(0, 0, 100, 10);
        let mut buf = Buffer::empty(area);
        render(&mut buf, area, &v, Duration::from_secs(130), 0, true);
        let t = text(&buf);
        assert!(t.contains("building kube-apiserver (3 of 6) · 2 min so far"), "{t}");
        assert!(t.contains("go: downloading b v2"), "{t}");
        assert!(!t.contains("building etcd") && !t.contains("downloading a v1"), "replaced: {t}");
    }
}
