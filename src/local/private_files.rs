//! The local cluster's files that hold keys. kwokctl writes its kubeconfig 0640 and its
//! private keys 0644; shardwatch narrows them to the owner, as it writes its own
//! kubeconfigs, and removes the controllers' ServiceAccount tokens when the cluster stops.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Sets mode 0600 on the cluster's kubeconfig and every `pki/*.key` under `cluster_dir`;
/// returns how many files were narrowed (already private files are left alone).
pub fn restrict(cluster_dir: &Path) -> std::io::Result<usize> {
    let mut files = vec![cluster_dir.join("kubeconfig.yaml")];
    if let Ok(entries) = std::fs::read_dir(cluster_dir.join("pki")) {
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "key") {
                files.push(path);
            }
        }
    }
    let mut narrowed = 0;
    for file in files {
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            narrowed += 1;
        }
    }
    Ok(narrowed)
}

/// Removes the tokens the local kubelet wrote for the controllers' ServiceAccounts
/// (`credentials/` under its run folder); its logs stay for reading after a failure.
pub fn forget_tokens(kubelet_run_dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(kubelet_run_dir.join("credentials")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn keys_and_the_kubeconfig_become_owner_only_and_certificates_stay_readable() {
        let dir = std::env::temp_dir().join(format!("sw-private-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pki")).unwrap();
        for (file, m) in [
            ("kubeconfig.yaml", 0o640),
            ("pki/admin.key", 0o644),
            ("pki/ca.key", 0o600),
            ("pki/ca.crt", 0o644),
        ] {
            std::fs::write(dir.join(file), "x").unwrap();
            std::fs::set_permissions(dir.join(file), std::fs::Permissions::from_mode(m)).unwrap();
        }
        assert_eq!(restrict(&dir).unwrap(), 2);
        assert_eq!(mode(&dir.join("kubeconfig.yaml")), 0o600);
        assert_eq!(mode(&dir.join("pki/admin.key")), 0o600);
        assert_eq!(mode(&dir.join("pki/ca.key")), 0o600);
        assert_eq!(mode(&dir.join("pki/ca.crt")), 0o644);
        assert_eq!(restrict(&dir).unwrap(), 0, "a second pass changes nothing");
        std::fs::create_dir_all(dir.join("run/credentials/pod")).unwrap();
        std::fs::write(dir.join("run/credentials/pod/token"), "t").unwrap();
        forget_tokens(&dir.join("run")).unwrap();
        assert!(!dir.join("run/credentials").exists());
        forget_tokens(&dir.join("run")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
