//! The notification-controller stand-in that [`assemble`](super::assemble()) adds when no
//! module provides the real one.

use serde_json::{Map, json};

use super::assemble::{Install, insert_labels, service_account};
use super::{FLUX_NAMESPACE, NOTIFICATION_CONTROLLER, NOTIFICATION_CONTROLLER_VERSION};

/// shardwatch's local stand-in for notification-controller, written by us, not Flux's YAML:
/// the Go module proxy does not serve notification-controller, yet the sharded stack has one
/// (the 13th Deployment, and the target of the other controllers' `--events-addr`).
/// It has no CRDs (Alert, Provider, Receiver) and no RBAC, so a real pod of it would not
/// become Ready: it is meant for the local cluster, whose kwok pods run nothing.
pub(super) fn add_notification_stand_in(out: &mut Install) {
    let c = NOTIFICATION_CONTROLLER;
    let mut labels = Map::new();
    insert_labels(&mut labels, Some(c));
    labels.insert("control-plane".into(), json!("controller"));
    let mut pod_labels = labels.clone();
    pod_labels.remove("control-plane");
    pod_labels.insert("app".into(), json!(c));
    out.service_accounts.push(service_account(c));
    out.services.push(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": c, "namespace": FLUX_NAMESPACE, "labels": labels},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": c},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
        },
    }));
    out.deployments.push(json!({
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
    }));
}
