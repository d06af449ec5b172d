//! Which pod a controller process runs as: of its Deployment's pods (label `app=<name>`),
//! the newest that kwok reports Running, that is not being deleted, and whose node's kubelet
//! is alive (kwok manages it: annotation `kwok.x-k8s.io/node=fake`; `fail-node` changes it).
//! One process per Deployment, since its ports are the Deployment's.

use std::collections::HashSet;

use k8s_openapi::api::core::v1::{Node, Pod};

/// The annotation kwok selects the nodes it plays the kubelet of by, and its value then.
pub const MANAGED: (&str, &str) = ("kwok.x-k8s.io/node", "fake");

/// The pod a process runs as.
#[derive(Debug, Clone, PartialEq)]
pub struct ChosenPod {
    /// Pod name (also the process's hostname, hence its Lease holder identity).
    pub name: String,
    /// Pod uid (owner of its Logs object).
    pub uid: String,
    /// Its node.
    pub node: String,
    /// Its first container's name and image.
    pub container: String,
    /// Its first container's image.
    pub image: String,
    /// Its ServiceAccount (`default` when the spec names none).
    pub service_account: String,
    /// The restart count the API already shows (a restarted kubelet counts on from there).
    pub restarts: u32,
}

/// Names of the nodes whose kubelet (kwok) is alive.
pub fn alive_nodes(nodes: &[Node]) -> HashSet<String> {
    nodes
        .iter()
        .filter(|n| {
            n.metadata.annotations.as_ref().and_then(|a| a.get(MANAGED.0)).is_some_and(|v| v == MANAGED.1)
        })
        .filter_map(|n| n.metadata.name.clone())
        .collect()
}

/// The pod Deployment `app`'s process should run as, if any.
pub fn choose(pods: &[Pod], alive: &HashSet<String>, app: &str) -> Option<ChosenPod> {
    pods.iter()
        .filter(|p| p.metadata.labels.as_ref().and_then(|l| l.get("app")).is_some_and(|a| a == app))
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some_and(|n| alive.contains(n)))
        .max_by_key(|p| (p.metadata.creation_timestamp.clone().map(|t| t.0), p.metadata.name.clone()))
        .and_then(|p| {
            let spec = p.spec.as_ref()?;
            let container = spec.containers.first()?;
            let restarts = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.name == container.name))
                .map_or(0, |c| c.restart_count.max(0) as u32);
            Some(ChosenPod {
                name: p.metadata.name.clone()?,
                uid: p.metadata.uid.clone().unwrap_or_default(),
                node: spec.node_name.clone()?,
                container: container.name.clone(),
                image: container.image.clone().unwrap_or_default(),
                service_account: spec.service_account_name.clone().unwrap_or_else(|| "default".into()),
                restarts,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: &str, created: &str, phase: &str, deleting: bool) -> Pod {
        let mut p = json!({
            "metadata": { "name": name, "uid": format!("uid-{name}"), "labels": { "app": "kc-shard2" },
                          "creationTimestamp": created },
            "spec": { "nodeName": node, "serviceAccountName": "kc", "containers": [{ "name": "manager", "image": "img" }] },
            "status": { "phase": phase,
                        "containerStatuses": [{ "name": "manager", "image": "img", "imageID": "", "ready": true,
                                                "restartCount": 4, "state": {} }] },
        });
        if deleting {
            p["metadata"]["deletionTimestamp"] = json!("2026-11-30T08:00:00Z");
        }
        serde_json::from_value(p).unwrap()
    }

    fn node(name: &str, managed: &str) -> Node {
        serde_json::from_value(json!({ "metadata": { "name": name, "annotations": { MANAGED.0: managed } } }))
            .unwrap()
    }

    #[test]
    fn the_newest_running_pod_on_a_live_node_wins() {
        let alive = alive_nodes(&[node("w1", "fake"), node("w2", "fake"), node("w3", "shardwatch-failed")]);
        let pods = [
            pod("old", "w1", "2026-11-30T07:00:00Z", "Running", false),
            pod("new", "w2", "2026-11-30T08:00:00Z", "Running", false),
            pod("pending", "w1", "2026-11-30T09:00:00Z", "Pending", false),
            pod("terminating", "w1", "2026-11-30T09:00:00Z", "Running", true),
            pod("dead-node", "w3", "2026-11-30T09:00:00Z", "Running", false),
        ];
        let chosen = choose(&pods, &alive, "kc-shard2").unwrap();
        assert_eq!(chosen.name, "new");
        assert_eq!(chosen.restarts, 4);
        assert_eq!(chosen.uid, "uid-new");
        assert_eq!(chosen.service_account, "kc");
    }

    #[test]
    fn no_pod_when_its_node_died() {
        let alive = alive_nodes(&[node("w3", "shardwatch-failed")]);
        let pods = [pod("p", "w3", "2026-11-30T07:00:00Z", "Running", false)];
        assert_eq!(choose(&pods, &alive, "kc-shard2"), None);
        assert_eq!(choose(&pods, &alive_nodes(&[node("w3", "fake")]), "other-app"), None);
    }
}
