//! Whether a cluster is one a person stood up on this machine to try things out — a local
//! control plane (its apiserver's URL is one of the local clusters' kubeconfigs) or a kind
//! cluster (a `kind-<name>` context on a loopback server) — or somebody's real cluster,
//! where the actions that break things (fail and restore nodes, cordon, drain, scale,
//! delete pods) need an explicit `--allow-remote`.

use std::path::Path;

use kube::config::Kubeconfig;

/// Why actions that change the cluster at `server` (context `context`) are refused, or None
/// when it is a local or kind cluster, or `allow_remote` says to act anyway.
pub fn refusal(server: &str, context: &str, allow_remote: bool) -> Option<String> {
    if allow_remote || is_kind(context, server) || local_servers().iter().any(|s| same_server(s, server)) {
        return None;
    }
    Some(format!(
        "context {context} at {server} is neither a local cluster of this machine nor a kind cluster; \
         pass --allow-remote to change it anyway"
    ))
}

/// kind names its contexts `kind-<cluster>` and serves the API on loopback.
pub fn is_kind(context: &str, server: &str) -> bool {
    context.strip_prefix("kind-").is_some_and(|c| !c.is_empty())
        && crate::bootstrap::up::is_loopback_url(server)
}

/// The apiserver URLs of every local cluster of this machine (their admin kubeconfigs).
fn local_servers() -> Vec<String> {
    let clusters = crate::local::control_plane::kwok_workdir().join("clusters");
    let Ok(dirs) = std::fs::read_dir(clusters) else { return Vec::new() };
    dirs.filter_map(|d| server_of(&d.ok()?.path().join("kubeconfig.yaml"))).collect()
}

/// The server of a kubeconfig's current context.
fn server_of(file: &Path) -> Option<String> {
    let kc = Kubeconfig::read_from(file).ok()?;
    let context = kc.current_context.as_deref()?;
    let cluster = kc.contexts.iter().find(|c| c.name == context)?.context.as_ref()?.cluster.clone();
    kc.clusters.iter().find(|c| c.name == cluster)?.cluster.as_ref()?.server.clone()
}

/// The same URL, whether or not one of them ends in `/` (a parsed URL gains one).
fn same_server(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_is_a_kind_context_on_loopback() {
        assert!(is_kind("kind-shardwatch", "https://127.0.0.1:41234"));
        assert!(!is_kind("kind-prod", "https://k8s.example.com:6443"), "a name is no proof");
        assert!(!is_kind("kind-", "https://127.0.0.1:1"));
        assert!(!is_kind("prod", "https://127.0.0.1:1"));
    }

    #[test]
    fn a_remote_server_is_refused_naming_it_and_the_flag_unless_allowed() {
        let why = refusal("https://k8s.example.com:6443/", "prod", false).expect("refused");
        assert!(why.contains("context prod at https://k8s.example.com:6443/"), "{why}");
        assert!(why.contains("--allow-remote"), "{why}");
        assert_eq!(refusal("https://k8s.example.com:6443/", "prod", true), None);
        assert_eq!(refusal("https://127.0.0.1:5/", "kind-x", false), None);
        assert!(same_server("https://127.0.0.1:5/", "https://127.0.0.1:5"));
        assert!(!same_server("https://localhost:5", "https://127.0.0.1:5"));
    }
}
