//! `y` copies a command for the selected object (the `flux` or `kubectl` line one would
//! type next); the UI only words it, `app.rs` hands it to the terminal (OSC 52).

use super::placement_panel::{PlacementRows, Target};
use super::table::Visible;
use super::{Panel, UiState, view};
use crate::model::Snapshot;
use crate::model::objects::{FluxKey, FluxKind};

/// `flux reconcile …` for a Flux object, as the flux CLI names its kinds.
pub fn flux_reconcile(key: &FluxKey) -> String {
    let kind = match key.kind {
        FluxKind::Kustomization => "kustomization",
        FluxKind::HelmRelease => "helmrelease",
        FluxKind::GitRepository => "source git",
        FluxKind::OCIRepository => "source oci",
        FluxKind::HelmRepository => "source helm",
        FluxKind::HelmChart => "source chart",
        FluxKind::Bucket => "source bucket",
    };
    format!("flux reconcile {kind} {} -n {}", key.name, key.namespace)
}

/// The command for the current panel's selected row, or why there is none.
pub fn command_for(state: &UiState, snap: &Snapshot) -> Result<String, String> {
    let panel = view(snap, state.panel);
    let visible = Visible::of(panel.rows(), &state.filter);
    let last = visible.len().checked_sub(1).ok_or("y: nothing selected")?;
    let i = visible.get(state.list().selected.min(last)).ok_or("y: nothing selected")?;
    if let Some(key) = panel.flux_key(i) {
        return Ok(flux_reconcile(&key));
    }
    let ns = &snap.flux_namespace;
    match state.panel {
        Panel::Shards => {
            let shard = snap.shards.get(i).ok_or("y: select a shard")?;
            let deployments: Vec<&str> = shard.controllers.iter().map(|c| c.deployment.as_str()).collect();
            Ok(format!("kubectl -n {ns} get deployments {}", deployments.join(" ")))
        }
        Panel::Placement => match PlacementRows::new(snap).target(i) {
            Some(Target::Node(n)) => Ok(format!("kubectl describe node {}", n.name)),
            Some(Target::Pod(p)) => Ok(format!("kubectl -n {ns} describe pod {}", p.name)),
            None => Err("y: select a node or a pod".into()),
        },
        _ => Err("y: select a Flux object, a node, a pod or a shard".into()),
    }
}

/// `y`: the command goes to `state.copy` and the footer says what was copied.
pub fn copy(state: &mut UiState, snap: &Snapshot) {
    match command_for(state, snap) {
        Ok(command) => {
            state.message = Some(format!("copied: {command}"));
            state.copy = Some(command);
        }
        Err(why) => state.message = Some(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::sample::snapshot;

    fn command_on(panel: Panel, row: usize) -> Result<String, String> {
        let mut state = UiState { panel, ..UiState::new(true) };
        state.list_mut().selected = row;
        command_for(&state, &snapshot())
    }

    #[test]
    fn y_words_the_command_for_what_is_selected() {
        let snap = snapshot();
        let on = |panel: Panel| (0..60).filter_map(|r| command_on(panel, r).ok()).collect::<Vec<_>>();
        let shards = on(Panel::Shards);
        assert!(
            shards
                .iter()
                .any(|c| c.starts_with("kubectl -n flux-system get deployments ") && c.contains("-shard2")),
            "{shards:?}"
        );
        let placement = on(Panel::Placement);
        assert!(placement.iter().any(|c| c.starts_with("kubectl describe node ")), "{placement:?}");
        assert!(
            placement.iter().any(|c| c.starts_with("kubectl -n flux-system describe pod ")),
            "{placement:?}"
        );
        let deps = on(Panel::Dependencies);
        assert!(
            deps.iter()
                .any(|c| c.starts_with("flux reconcile kustomization ") && c.ends_with(" -n flux-system")),
            "{deps:?}"
        );
        assert!(command_on(Panel::Events, 0).is_err());
        assert_eq!(snap.flux_namespace, "flux-system");
        let key = FluxKey { kind: FluxKind::GitRepository, namespace: "apps".into(), name: "infra".into() };
        assert_eq!(flux_reconcile(&key), "flux reconcile source git infra -n apps");
    }
}
