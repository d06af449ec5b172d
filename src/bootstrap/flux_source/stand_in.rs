//! The notification-controller stand-in that [`assemble`](super::assemble()) adds when no
//! module provides the real one: its ServiceAccount, Service and Deployment.

use serde_json::{Map, Value, json};

use super::flux_labels::{insert_labels, service_account};
use super::{FLUX_NAMESPACE, NOTIFICATION_CONTROLLER, NOTIFICATION_CONTROLLER_VERSION};

/// shardwatch's local stand-in for notification-controller, written by us, not Flux's YAML:
/// the Go module proxy does not serve notification-controller, yet the sharded stack has one
/// (the 13th Deployment, and the target of the other controllers' `--events-addr`).
/// It has no CRDs (Alert, Provider, Receiver) and only its leader election's RBAC, so a real
/// pod of it would not become Ready: it is meant for the local cluster, where the local
/// kubelet runs shardwatch's stand-in process as its pod (`local/notification_stand_in.rs`).
pub(super) fn notification_stand_in() -> [Value; 5] {
    let c = NOTIFICATION_CONTROLLER;
    let mut labels = Map::new();
    insert_labels(&mut labels, Some(c));
    labels.insert("control-plane".into(), json!("controller"));
    let mut pod_labels = labels.clone();
    pod_labels.remove("control-plane");
    pod_labels.insert("app".into(), json!(c));
    let service = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": c, "namespace": FLUX_NAMESPACE, "labels": labels},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": c},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
        },
    });
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": c, "namespace": FLUX_NAMESPACE, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": c}},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "serviceAccountName": c,
                    "terminationGracePeriodSeconds": 10,
                    "containers": [{
                        "name": "manager",
                        "image": format!("ghcr.io/fluxcd/{c}:{NOTIFICATION_CONTROLLER_VERSION}"),
                        "imagePullPolicy": "IfNotPresent",
                        "args": [
                            "--watch-all-namespaces",
                            "--log-level=info",
                            "--log-encoding=json",
                            "--enable-leader-election",
                        ],
                        "env": [{
                            "name": "RUNTIME_NAMESPACE",
                            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                        }],
                        "ports": [
                            {"containerPort": 9090, "name": "http", "protocol": "TCP"},
                            {"containerPort": 9292, "name": "http-webhook", "protocol": "TCP"},
                            {"containerPort": 8080, "name": "http-prom", "protocol": "TCP"},
                            {"containerPort": 9440, "name": "healthz", "protocol": "TCP"},
                        ],
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "healthz"}},
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "healthz"}},
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "runAsNonRoot": true,
                            "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "volumeMounts": [{"name": "temp", "mountPath": "/tmp"}],
                    }],
                    "volumes": [{"name": "temp", "emptyDir": {}}],
                },
            },
        },
    });
    // Its leader election, as each module's `leader_election_role.yaml` grants it.
    let leader = format!("{c}-leader-election");
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": leader, "namespace": FLUX_NAMESPACE, "labels": labels},
        "rules": [
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
             "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
            {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        ],
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": leader, "namespace": FLUX_NAMESPACE, "labels": labels},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": leader},
        "subjects": [{"kind": "ServiceAccount", "name": c, "namespace": FLUX_NAMESPACE}],
    });
    [service_account(c), role, binding, service, deployment]
}
