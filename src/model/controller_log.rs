//! Lines of a controller's log: which Flux object a line names (the controllers log JSON
//! with `controllerKind`, `name` and `namespace`), a readable form of it, and a bounded
//! buffer for a view that follows a log. Pure: `cluster/` reads the lines.

use std::collections::VecDeque;

use serde_json::Value;

use super::objects::FluxKey;

/// Lines a log view keeps; older ones are dropped (and counted).
pub const LOG_CAPACITY: usize = 5_000;

/// Whose log to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// One pod in the Flux namespace.
    Pod(String),
    /// Every pod of these controller Deployments in the Flux namespace (one, or a shard's).
    Deployments(Vec<String>),
    /// The controller that owns a Flux object (its shard's, of its kind), lines naming it only.
    Object(FluxKey),
}

impl std::fmt::Display for LogSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogSource::Pod(p) => write!(f, "pod {p}"),
            LogSource::Deployments(d) => write!(f, "deployment {}", d.join(", ")),
            LogSource::Object(k) => write!(f, "{k}"),
        }
    }
}

/// How much of the log, as `kubectl logs` asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogWindow {
    /// Keep reading as lines are written.
    pub follow: bool,
    /// Only lines newer than this many seconds.
    pub since_seconds: Option<i64>,
    /// The previous (crashed) container's log.
    pub previous: bool,
}

impl LogWindow {
    /// What the log view reads first: the last ten minutes, then new lines as they come.
    pub const VIEW: LogWindow = LogWindow { follow: true, since_seconds: Some(600), previous: false };

    /// `last 10m`, `all`, with `· previous container` when so.
    pub fn describe(&self) -> String {
        let since = match self.since_seconds {
            None => "all".to_string(),
            Some(s) if s % 3600 == 0 => format!("last {}h", s / 3600),
            Some(s) if s % 60 == 0 => format!("last {}m", s / 60),
            Some(s) => format!("last {s}s"),
        };
        if self.previous { format!("{since} · previous container") } else { since }
    }

    /// The next time window of the view's `t`: 10 minutes, 1 hour, all, 1 minute.
    pub fn next_since(&self) -> Option<i64> {
        match self.since_seconds {
            Some(600) => Some(3600),
            Some(3600) => None,
            None => Some(60),
            Some(_) => Some(600),
        }
    }
}

/// What a log reader reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogMessage {
    /// A line (already filtered).
    Line(LogLine),
    /// What is read (which Deployment, which pods).
    Note(String),
    /// A pod's log cannot be read, or its stream broke (`pod` empty: nothing can be read).
    Error { pod: String, message: String },
    /// A pod's log ended (not following, or the container stopped).
    Ended { pod: String },
}

/// One line of a pod's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The pod that wrote it.
    pub pod: String,
    /// The line as written (without its newline).
    pub text: String,
}

/// Whether a Flux controller's log line is about `key`: its JSON names the object's kind
/// (`controllerKind`), name and namespace, as `flux logs --kind --name --namespace` reads
/// them, or carries the object under its kind (`"Kustomization":{"name":..,"namespace":..}`).
/// Lines that are not JSON name nothing.
pub fn names_object(text: &str, key: &FluxKey) -> bool {
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    let is = |v: Option<&Value>, want: &str| v.and_then(Value::as_str) == Some(want);
    let kind = key.kind.as_str();
    let top = is(fields.get("controllerKind"), kind)
        && is(fields.get("name"), &key.name)
        && is(fields.get("namespace"), &key.namespace);
    let nested = fields
        .get(kind)
        .is_some_and(|o| is(o.get("name"), &key.name) && is(o.get("namespace"), &key.namespace));
    top || nested
}

/// A JSON line as `time level message` with the error and object after it; other lines as they are.
pub fn readable(text: &str) -> String {
    let Ok(Value::Object(f)) = serde_json::from_str::<Value>(text) else {
        return text.to_string();
    };
    let s = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut out = format!("{} {} {}", s("ts"), s("level"), s("msg"));
    if !s("controllerKind").is_empty() && !s("name").is_empty() {
        out.push_str(&format!(" {}/{}/{}", s("controllerKind"), s("namespace"), s("name")));
    }
    if !s("error").is_empty() {
        out.push_str(&format!(" error: {}", s("error")));
    }
    out.trim().to_string()
}

/// The newest lines of a log, at most `capacity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    capacity: usize,
    /// Lines dropped from the front to stay within capacity.
    pub dropped: usize,
}

impl LogBuffer {
    /// An empty buffer that keeps at most `capacity` lines.
    pub fn new(capacity: usize) -> LogBuffer {
        LogBuffer { lines: VecDeque::new(), capacity: capacity.max(1), dropped: 0 }
    }

    /// Adds a line, dropping the oldest beyond capacity.
    pub fn push(&mut self, line: LogLine) {
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(line);
    }

    /// The lines, oldest first.
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &LogLine> + ExactSizeIterator {
        self.lines.iter()
    }

    /// How many lines it holds.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether it holds no line.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::objects::FluxKind;

    fn key(name: &str) -> FluxKey {
        FluxKey { kind: FluxKind::Kustomization, namespace: "flux-system".into(), name: name.into() }
    }

    const APPLIED: &str = r#"{"level":"info","ts":"2026-11-30T11:00:00.000Z","msg":"server-side apply completed","controller":"kustomization","controllerGroup":"kustomize.toolkit.fluxcd.io","controllerKind":"Kustomization","Kustomization":{"name":"infra-sources","namespace":"flux-system"},"namespace":"flux-system","name":"infra-sources","reconcileID":"1"}"#;

    #[test]
    fn a_line_names_the_object_by_kind_name_and_namespace() {
        assert!(names_object(APPLIED, &key("infra-sources")));
        assert!(!names_object(APPLIED, &key("infra-configs")), "another name");
        let other_ns = FluxKey { namespace: "apps".into(), ..key("infra-sources") };
        assert!(!names_object(APPLIED, &other_ns), "another namespace");
        let other_kind = FluxKey { kind: FluxKind::HelmRelease, ..key("infra-sources") };
        assert!(!names_object(APPLIED, &other_kind), "another kind");
        let nested = r#"{"msg":"x","Kustomization":{"name":"a","namespace":"flux-system"}}"#;
        assert!(names_object(nested, &key("a")));
        assert!(!names_object("starting manager name=infra-sources", &key("infra-sources")), "not JSON");
        let startup = r#"{"level":"info","msg":"Starting Controller","controller":"kustomization"}"#;
        assert!(!names_object(startup, &key("infra-sources")));
    }

    #[test]
    fn readable_lines_lead_with_time_level_and_message() {
        assert_eq!(
            readable(APPLIED),
            "2026-11-30T11:00:00.000Z info server-side apply completed Kustomization/flux-system/infra-sources"
        );
        let failed = r#"{"level":"error","ts":"t","msg":"Reconciler error","error":"boom"}"#;
        assert_eq!(readable(failed), "t error Reconciler error error: boom");
        assert_eq!(readable("plain text"), "plain text");
    }

    #[test]
    fn the_buffer_keeps_the_newest_lines() {
        let mut b = LogBuffer::new(2);
        for i in 0..5 {
            b.push(LogLine { pod: "p".into(), text: i.to_string() });
        }
        let kept: Vec<&str> = b.lines().map(|l| l.text.as_str()).collect();
        assert_eq!(kept, ["3", "4"]);
        assert_eq!(b.dropped, 3);
        assert_eq!(b.len(), 2);
    }
}
