//! The Events a kubelet records about a pod's container, so `kubectl describe pod` and
//! `kubectl get events` show a restart as on a real node: `Started` when the process
//! starts, `BackOff` (Warning) when it exited and waits to be restarted, `Killing` when it
//! is stopped. Written as core/v1 Events from the `kubelet` component of the pod's node.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::pod_choice::ChosenPod;

/// What happened to the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerEvent {
    /// Its process started.
    Started,
    /// It exited; restarted after this many seconds.
    BackOff(u64),
    /// It is being stopped, for this reason.
    Killing(String),
}

impl ContainerEvent {
    fn reason(&self) -> &'static str {
        match self {
            Self::Started => "Started",
            Self::BackOff(_) => "BackOff",
            Self::Killing(_) => "Killing",
        }
    }

    fn kind(&self) -> &'static str {
        if matches!(self, Self::BackOff(_)) { "Warning" } else { "Normal" }
    }

    fn message(&self, pod: &ChosenPod, namespace: &str) -> String {
        match self {
            Self::Started => format!("Started container {}", pod.container),
            Self::BackOff(secs) => format!(
                "Back-off {secs}s restarting failed container {} in pod {}_{namespace}({})",
                pod.container, pod.name, pod.uid
            ),
            Self::Killing(why) => format!("Stopping container {}: {why}", pod.container),
        }
    }
}

/// The core/v1 Event recording `event` on `pod` at `now`.
pub fn event_object(event: &ContainerEvent, pod: &ChosenPod, namespace: &str, now: DateTime<Utc>) -> Value {
    let at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let nanos = now.timestamp_nanos_opt().unwrap_or_default();
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        // The kubelet's naming: the object's name and a unique hexadecimal suffix.
        "metadata": { "name": format!("{}.{nanos:x}", pod.name), "namespace": namespace },
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "namespace": namespace,
            "name": pod.name,
            "uid": pod.uid,
            "fieldPath": format!("spec.containers{{{}}}", pod.container),
        },
        "reason": event.reason(),
        "message": event.message(pod, namespace),
        "type": event.kind(),
        "source": { "component": "kubelet", "host": pod.node },
        "reportingComponent": "kubelet",
        "reportingInstance": pod.node,
        "firstTimestamp": at,
        "lastTimestamp": at,
        "count": 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> ChosenPod {
        ChosenPod {
            name: "kustomize-controller-shard2-abc".into(),
            uid: "u-1".into(),
            node: "shardwatch-worker2".into(),
            container: "manager".into(),
            image: "img".into(),
            service_account: "kustomize-controller".into(),
            restarts: 0,
        }
    }

    #[test]
    fn a_back_off_is_a_warning_from_the_kubelet_of_the_pods_node() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z").unwrap().with_timezone(&Utc);
        let e = event_object(&ContainerEvent::BackOff(10), &pod(), "flux-system", now);
        assert_eq!(e["type"], "Warning");
        assert_eq!(e["reason"], "BackOff");
        assert_eq!(
            e["message"],
            "Back-off 10s restarting failed container manager in pod kustomize-controller-shard2-abc_flux-system(u-1)"
        );
        assert_eq!(e["involvedObject"]["fieldPath"], "spec.containers{manager}");
        assert_eq!(e["involvedObject"]["uid"], "u-1");
        assert_eq!(e["source"], json!({ "component": "kubelet", "host": "shardwatch-worker2" }));
        assert_eq!(e["lastTimestamp"], "2026-11-30T12:00:00Z");
        assert!(e["metadata"]["name"].as_str().unwrap().starts_with("kustomize-controller-shard2-abc."));
        assert!(e.get("eventTime").is_none(), "no null fields: {e}");
        let started = event_object(&ContainerEvent::Started, &pod(), "flux-system", now);
        assert_eq!((started["type"].as_str(), started["reason"].as_str()), (Some("Normal"), Some("Started")));
        assert_eq!(started["message"], "Started container manager");
    }
}
