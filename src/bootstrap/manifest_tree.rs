//! The repository's `manifests/` folder, compiled in: the local Git server publishes it,
//! so an installed `shardwatch up --target local` reconciles the same layer as a checkout.
//!
//! A plain list rather than a build script: adding a file under `manifests/` means adding
//! a line here, and the unit test below fails until that is done.

use std::path::Path;

use color_eyre::eyre::{Result, WrapErr};

/// Every file under `manifests/`, by its path relative to that folder.
pub const FILES: &[(&str, &[u8])] = &[
    ("README.md", include_bytes!("../../manifests/README.md")),
    (
        "charts/standin-operator/Chart.yaml",
        include_bytes!("../../manifests/charts/standin-operator/Chart.yaml"),
    ),
    (
        "charts/standin-operator/templates/crd.yaml",
        include_bytes!("../../manifests/charts/standin-operator/templates/crd.yaml"),
    ),
    (
        "charts/standin-operator/templates/deployment.yaml",
        include_bytes!("../../manifests/charts/standin-operator/templates/deployment.yaml"),
    ),
    (
        "charts/standin-operator/values.yaml",
        include_bytes!("../../manifests/charts/standin-operator/values.yaml"),
    ),
    ("clusters/demo/missing-crd.yaml", include_bytes!("../../manifests/clusters/demo/missing-crd.yaml")),
    ("clusters/demo/stuck.yaml", include_bytes!("../../manifests/clusters/demo/stuck.yaml")),
    (
        "clusters/local/infrastructure.yaml",
        include_bytes!("../../manifests/clusters/local/infrastructure.yaml"),
    ),
    (
        "clusters/offline/infrastructure.yaml",
        include_bytes!("../../manifests/clusters/offline/infrastructure.yaml"),
    ),
    ("demo/after-stuck/configmap.yaml", include_bytes!("../../manifests/demo/after-stuck/configmap.yaml")),
    (
        "demo/after-stuck/kustomization.yaml",
        include_bytes!("../../manifests/demo/after-stuck/kustomization.yaml"),
    ),
    (
        "demo/missing-crd/kustomization.yaml",
        include_bytes!("../../manifests/demo/missing-crd/kustomization.yaml"),
    ),
    ("demo/missing-crd/widget.yaml", include_bytes!("../../manifests/demo/missing-crd/widget.yaml")),
    ("demo/stuck/kustomization.yaml", include_bytes!("../../manifests/demo/stuck/kustomization.yaml")),
    ("demo/stuck/namespace.yaml", include_bytes!("../../manifests/demo/stuck/namespace.yaml")),
    ("demo/stuck/never-scheduled.yaml", include_bytes!("../../manifests/demo/stuck/never-scheduled.yaml")),
    (
        "infrastructure/configs/cluster-issuer.yaml",
        include_bytes!("../../manifests/infrastructure/configs/cluster-issuer.yaml"),
    ),
    (
        "infrastructure/configs/kustomization.yaml",
        include_bytes!("../../manifests/infrastructure/configs/kustomization.yaml"),
    ),
    (
        "infrastructure/controllers/cert-manager.yaml",
        include_bytes!("../../manifests/infrastructure/controllers/cert-manager.yaml"),
    ),
    (
        "infrastructure/controllers/kustomization.yaml",
        include_bytes!("../../manifests/infrastructure/controllers/kustomization.yaml"),
    ),
    (
        "infrastructure/controllers/postgres-operator.yaml",
        include_bytes!("../../manifests/infrastructure/controllers/postgres-operator.yaml"),
    ),
    (
        "infrastructure/sources/jetstack.yaml",
        include_bytes!("../../manifests/infrastructure/sources/jetstack.yaml"),
    ),
    (
        "infrastructure/sources/kustomization.yaml",
        include_bytes!("../../manifests/infrastructure/sources/kustomization.yaml"),
    ),
    (
        "infrastructure/sources/zalando.yaml",
        include_bytes!("../../manifests/infrastructure/sources/zalando.yaml"),
    ),
    (
        "offline/controllers/cert-manager.yaml",
        include_bytes!("../../manifests/offline/controllers/cert-manager.yaml"),
    ),
    (
        "offline/controllers/kustomization.yaml",
        include_bytes!("../../manifests/offline/controllers/kustomization.yaml"),
    ),
    (
        "offline/controllers/postgres-operator.yaml",
        include_bytes!("../../manifests/offline/controllers/postgres-operator.yaml"),
    ),
    (
        "offline/sources/charts-shard2.yaml",
        include_bytes!("../../manifests/offline/sources/charts-shard2.yaml"),
    ),
    (
        "offline/sources/charts-shard3.yaml",
        include_bytes!("../../manifests/offline/sources/charts-shard3.yaml"),
    ),
    (
        "offline/sources/kustomization.yaml",
        include_bytes!("../../manifests/offline/sources/kustomization.yaml"),
    ),
    ("rbac/clusterrole.yaml", include_bytes!("../../manifests/rbac/clusterrole.yaml")),
    ("rbac/role.yaml", include_bytes!("../../manifests/rbac/role.yaml")),
];

/// The text of the embedded file at `path` (relative to `manifests/`), if there is one.
pub fn text(path: &str) -> Option<&'static str> {
    FILES.iter().find(|(p, _)| *p == path).and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
}

/// Writes the tree as `dir` (replacing what was there), via a sibling folder renamed into
/// place, so a reader never sees half a tree and files dropped from `manifests/` vanish.
pub fn write_to(dir: &Path) -> Result<()> {
    let fresh = dir.with_extension("new");
    let _ = std::fs::remove_dir_all(&fresh);
    for (path, bytes) in FILES {
        let file = fresh.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).wrap_err_with(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&file, bytes).wrap_err_with(|| format!("writing {}", file.display()))?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).wrap_err_with(|| format!("replacing {}", dir.display()))?;
    }
    std::fs::rename(&fresh, dir).wrap_err_with(|| format!("moving {} into place", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn files_under(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files_under(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }

    #[test]
    fn every_file_under_manifests_is_embedded_as_it_is_on_disk() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("manifests");
        let mut on_disk = BTreeMap::new();
        files_under(&root, &root, &mut on_disk);
        let embedded: BTreeMap<String, Vec<u8>> =
            FILES.iter().map(|(p, b)| (p.to_string(), b.to_vec())).collect();
        let missing: Vec<&String> = on_disk.keys().filter(|p| !embedded.contains_key(*p)).collect();
        assert!(missing.is_empty(), "add these to src/bootstrap/manifest_tree.rs FILES: {missing:?}");
        assert_eq!(embedded.keys().collect::<Vec<_>>(), on_disk.keys().collect::<Vec<_>>());
        for (path, bytes) in &on_disk {
            assert!(embedded[path] == *bytes, "manifests/{path} changed since the build; rebuild");
        }
    }

    #[test]
    fn the_tree_written_out_is_the_embedded_one_and_replaces_stale_files() {
        let dir = std::env::temp_dir().join(format!("shardwatch-tree-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("stale")).unwrap();
        std::fs::write(dir.join("stale/old.yaml"), "x").unwrap();
        write_to(&dir).unwrap();
        assert!(!dir.join("stale").exists());
        for (path, bytes) in FILES {
            assert_eq!(std::fs::read(dir.join(path)).unwrap(), *bytes, "{path}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_offline_layer_is_embedded() {
        let layer = text("clusters/offline/infrastructure.yaml").expect("offline layer embedded");
        assert!(layer.contains("SHARDWATCH_GIT_URL"));
        assert!(text("charts/standin-operator/Chart.yaml").is_some());
    }
}
