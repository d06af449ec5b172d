//! What a first-use build is doing, in one status that replaces itself: which component
//! compiles, how many are left, how long so far against the expected total, and the
//! current `go` line below it (instead of a scroll of identical `go: downloading` lines).

use std::time::{Duration, Instant};

/// The build scripts' log lines that start a component: `building <name> ...`.
const STARTS: &str = "building ";

/// Meters one build script's output.
#[derive(Debug, Clone)]
pub struct BuildMeter {
    components: &'static [&'static str],
    expected: &'static str,
    started: Option<Instant>,
    current: Option<(usize, String)>,
    go_line: Option<String>,
}

/// What a log line means for the progress shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metered {
    /// A new status (two lines: the component, then the current `go` line).
    Status(String),
    /// Not build output: show the line as it is.
    Plain,
}

impl BuildMeter {
    /// The control plane: kwok and kwokctl, etcd, then four Kubernetes commands.
    pub fn control_plane() -> Self {
        Self::new(
            &["kwok", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"],
            "about 8–12 min in all on 2 cores",
        )
    }

    /// The three Flux controllers.
    pub fn flux() -> Self {
        Self::new(
            &["source-controller", "kustomize-controller", "helm-controller"],
            "about 11 min in all on 2 cores",
        )
    }

    fn new(components: &'static [&'static str], expected: &'static str) -> Self {
        Self { components, expected, started: None, current: None, go_line: None }
    }

    /// Reads one log line of the build at `now`.
    pub fn feed(&mut self, line: &str, now: Instant) -> Metered {
        if let Some(rest) = line.strip_prefix(STARTS) {
            let name = rest.split_whitespace().next().unwrap_or_default();
            if let Some(i) = self.components.iter().position(|c| *c == name) {
                self.started.get_or_insert(now);
                self.current = Some((i + 1, name.to_string()));
                self.go_line = None;
                return Metered::Status(self.status(now));
            }
        }
        if line.starts_with("go: ") && self.current.is_some() {
            self.go_line = Some(line.to_string());
            return Metered::Status(self.status(now));
        }
        Metered::Plain
    }

    /// The status at `now`.
    pub fn status(&self, now: Instant) -> String {
        let Some((i, name)) = &self.current else { return String::new() };
        let so_far = self.started.map_or(Duration::ZERO, |s| now.duration_since(s));
        let minutes = so_far.as_secs() / 60;
        let head = format!(
            "building {name} ({i} of {}) · {minutes} min so far · {}",
            self.components.len(),
            self.expected
        );
        match &self.go_line {
            Some(go) => format!("{head}\n{go}"),
            None => head,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_line_names_it_with_its_place_and_the_time_so_far() {
        let mut m = BuildMeter::control_plane();
        let t0 = Instant::now();
        assert_eq!(m.feed("go: downloading example.com/x v1", t0), Metered::Plain, "before any component");
        assert_eq!(
            m.feed("building kwok and kwokctl v0.8.0", t0),
            Metered::Status(
                "building kwok (1 of 6) · 0 min so far · about 8–12 min in all on 2 cores".into()
            )
        );
        let later = t0 + Duration::from_secs(190);
        let Metered::Status(s) = m.feed("building kube-apiserver v1.34.4 (slow on a cold cache)", later)
        else {
            panic!("a status")
        };
        assert!(s.starts_with("building kube-apiserver (3 of 6) · 3 min so far"), "{s}");
    }

    #[test]
    fn go_lines_replace_each_other_under_the_component() {
        let mut m = BuildMeter::flux();
        let t0 = Instant::now();
        m.feed("building kustomize-controller v1.7.3 (slow on a cold cache)", t0);
        m.feed("go: downloading a v1", t0);
        let Metered::Status(s) = m.feed("go: downloading b v2", t0) else { panic!("a status") };
        assert_eq!(
            s.lines().collect::<Vec<_>>(),
            [
                "building kustomize-controller (2 of 3) · 0 min so far · about 11 min in all on 2 cores",
                "go: downloading b v2",
            ]
        );
        assert_eq!(m.feed("binaries ready in /x", t0), Metered::Plain);
    }
}
