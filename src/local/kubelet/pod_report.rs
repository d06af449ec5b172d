//! What the kubelet tells the API about a pod's container, as a real kubelet does: the
//! container's state, its restart count and how its last run ended (a status patch), and
//! where its log files are (kwok's `Logs` object, which `kubectl logs` reads through).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// How a run of the process ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Terminated {
    /// Exit code (128 + signal when killed by one, as a container runtime reports).
    pub exit_code: i32,
    /// The signal that killed it, if any.
    pub signal: Option<i32>,
    /// When that run started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
}

/// The container's state to report.
#[derive(Debug, Clone, PartialEq)]
pub enum ContainerState {
    /// Running since the time given.
    Running(DateTime<Utc>),
    /// Exited; restarted after the back-off delay (seconds).
    BackOff(u64),
}

/// One report on a pod's single container.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Container name (from the pod's spec).
    pub container: String,
    /// Its image (from the pod's spec).
    pub image: String,
    /// Current state.
    pub state: ContainerState,
    /// How many times it was restarted in this pod.
    pub restarts: u32,
    /// How its previous run ended, if there was one.
    pub last: Option<Terminated>,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Report {
    /// The strategic-merge patch of the pod's status subresource: container status, and the
    /// Ready/ContainersReady conditions (merged by type, the others kept).
    pub fn status_patch(&self, pod: &str, now: DateTime<Utc>) -> Value {
        let ready = matches!(self.state, ContainerState::Running(_));
        let state = match &self.state {
            ContainerState::Running(since) => json!({ "running": { "startedAt": time(*since) } }),
            ContainerState::BackOff(secs) => json!({ "waiting": {
                "reason": "CrashLoopBackOff",
                "message": format!("back-off {secs}s restarting failed container={} pod={pod}", self.container),
            }}),
        };
        let last = match &self.last {
            Some(t) => json!({ "terminated": {
                "exitCode": t.exit_code,
                "signal": t.signal,
                "reason": if t.exit_code == 0 { "Completed" } else { "Error" },
                "startedAt": time(t.started_at),
                "finishedAt": time(t.finished_at),
            }}),
            None => json!({}),
        };
        let status = if ready { "True" } else { "False" };
        let reason = if ready { Value::Null } else { json!("ContainersNotReady") };
        let condition = |kind: &str| json!({ "type": kind, "status": status, "reason": reason, "lastTransitionTime": time(now) });
        json!({ "status": {
            "conditions": [condition("Ready"), condition("ContainersReady")],
            "containerStatuses": [{
                "name": self.container,
                "image": self.image,
                "imageID": "",
                "ready": ready,
                "started": ready,
                "restartCount": self.restarts,
                "state": state,
                "lastState": last,
            }],
        }})
    }
}

/// kwok's `Logs` object for a pod: `kubectl logs` of its container reads `current`
/// (following it), `--previous` reads `previous`. Owned by the pod, so it goes with it.
pub fn logs_object(
    namespace: &str,
    pod: &str,
    uid: &str,
    container: &str,
    current: &str,
    previous: Option<&str>,
) -> Value {
    let mut log = json!({ "containers": [container], "logsFile": current, "follow": true });
    if let Some(previous) = previous {
        log["previousLogsFile"] = json!(previous);
    }
    json!({
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Logs",
        "metadata": {
            "name": pod,
            "namespace": namespace,
            "ownerReferences": [{ "apiVersion": "v1", "kind": "Pod", "name": pod, "uid": uid }],
        },
        "spec": { "logs": [log] },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_crashed_container_waits_in_back_off_not_ready_with_its_last_run() {
        let report = Report {
            container: "manager".into(),
            image: "ghcr.io/fluxcd/kustomize-controller:v1".into(),
            state: ContainerState::BackOff(20),
            restarts: 2,
            last: Some(Terminated {
                exit_code: 137,
                signal: Some(9),
                started_at: at("2026-11-30T08:00:00Z"),
                finished_at: at("2026-11-30T08:01:00Z"),
            }),
        };
        let patch = report.status_patch("kc-1", at("2026-11-30T08:01:01Z"));
        let c = &patch["status"]["containerStatuses"][0];
        assert_eq!(c["restartCount"], 2);
        assert_eq!(c["ready"], false);
        assert_eq!(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(c["lastState"]["terminated"]["exitCode"], 137);
        assert_eq!(c["lastState"]["terminated"]["reason"], "Error");
        assert_eq!(patch["status"]["conditions"][0]["type"], "Ready");
        assert_eq!(patch["status"]["conditions"][0]["status"], "False");
    }

    #[test]
    fn a_running_container_is_ready_and_keeps_counting() {
        let report = Report {
            container: "manager".into(),
            image: "i".into(),
            state: ContainerState::Running(at("2026-11-30T08:02:00Z")),
            restarts: 3,
            last: None,
        };
        let patch = report.status_patch("kc-1", at("2026-11-30T08:02:00Z"));
        let c = &patch["status"]["containerStatuses"][0];
        assert_eq!(c["state"]["running"]["startedAt"], "2026-11-30T08:02:00Z");
        assert_eq!(c["restartCount"], 3);
        assert_eq!(patch["status"]["conditions"][1]["status"], "True");
    }

    #[test]
    fn the_logs_object_names_the_pod_and_both_files() {
        let logs = logs_object("flux-system", "kc-1", "u1", "manager", "/l/1.log", Some("/l/0.log"));
        assert_eq!(logs["metadata"]["ownerReferences"][0]["uid"], "u1");
        assert_eq!(logs["spec"]["logs"][0]["logsFile"], "/l/1.log");
        assert_eq!(logs["spec"]["logs"][0]["previousLogsFile"], "/l/0.log");
        let first = logs_object("flux-system", "kc-1", "u1", "manager", "/l/0.log", None);
        assert!(first["spec"]["logs"][0].get("previousLogsFile").is_none());
    }
}
