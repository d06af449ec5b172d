//! The labels Flux's own overlays put on its install objects, and the ServiceAccount each
//! controller runs as: shared by the assembled install and the notification-controller
//! stand-in.

use serde_json::{Map, Value, json};

use super::{FLUX_NAMESPACE, FLUX_VERSION};

/// Labels Flux's overlays put on everything; `component` only on a controller's own objects.
fn flux_labels(component: Option<&str>) -> Vec<(&'static str, String)> {
    let mut labels = vec![
        ("app.kubernetes.io/part-of", "flux".to_string()),
        ("app.kubernetes.io/instance", FLUX_NAMESPACE.to_string()),
        ("app.kubernetes.io/version", FLUX_VERSION.to_string()),
    ];
    if let Some(c) = component {
        labels.push(("app.kubernetes.io/component", c.to_string()));
    }
    labels
}

/// Adds Flux's labels to a label map.
pub(super) fn insert_labels(labels: &mut Map<String, Value>, component: Option<&str>) {
    for (k, v) in flux_labels(component) {
        labels.insert(k.to_string(), json!(v));
    }
}

/// The ServiceAccount a controller's pods run as, named after the controller.
pub(super) fn service_account(controller: &str) -> Value {
    let mut labels = Map::new();
    insert_labels(&mut labels, Some(controller));
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": controller, "namespace": FLUX_NAMESPACE, "labels": labels},
    })
}
