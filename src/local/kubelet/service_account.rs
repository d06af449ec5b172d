//! The credentials a kubelet gives a pod: a token of the pod's ServiceAccount, bound to
//! the pod (the TokenRequest API), so each controller reaches the API server as
//! `system:serviceaccount:<namespace>:<name>` and Flux's own RBAC applies, as in a cluster.
//! The token goes into a file (mode 0600) that the pod's kubeconfig names (`tokenFile`,
//! which client-go reads again as it changes); it never appears in an argument or a log.
//! Like a kubelet, the token is renewed once 80 % of its lifetime has passed.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};
use serde_json::json;

/// Lifetime asked for (the API server's minimum is 10 min).
const LIFETIME_SECS: i64 = 3600;

/// A pod's credentials on disk.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The kubeconfig the process gets.
    pub kubeconfig: PathBuf,
    /// Renew the token after this.
    pub renew_after: DateTime<Utc>,
}

/// The kubeconfig of a ServiceAccount: the admin kubeconfig's server and CA, a token file.
pub fn kubeconfig_text(server: &str, ca: &serde_json::Value, token_file: &Path) -> String {
    let mut cluster = json!({ "server": server });
    for key in ["certificate-authority", "certificate-authority-data"] {
        if let Some(v) = ca.get(key) {
            cluster[key] = v.clone();
        }
    }
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": "local", "cluster": cluster }],
        "users": [{ "name": "service-account", "user": { "tokenFile": token_file } }],
        "contexts": [{ "name": "local", "context": { "cluster": "local", "user": "service-account" } }],
        "current-context": "local",
    })
    .to_string()
}

/// The server and CA of the admin kubeconfig's current cluster.
fn admin_cluster(admin: &Path) -> Result<(String, serde_json::Value), String> {
    let config = kube::config::Kubeconfig::read_from(admin).map_err(|e| e.to_string())?;
    let context = config.current_context.clone().ok_or("the admin kubeconfig has no current context")?;
    let cluster_name = config
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone())
        .ok_or("the admin kubeconfig's context names no cluster")?;
    let cluster = config
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.cluster.clone())
        .ok_or("the admin kubeconfig lacks its cluster")?;
    let server = cluster.server.clone().ok_or("the admin kubeconfig's cluster has no server")?;
    let mut ca = json!({});
    if let Some(path) = &cluster.certificate_authority {
        ca["certificate-authority"] = json!(path);
    }
    if let Some(data) = &cluster.certificate_authority_data {
        ca["certificate-authority-data"] = json!(data);
    }
    Ok((server, ca))
}

/// Writes `text` to `path` (mode 0600) through a temporary file, so a reader never sees half.
fn write_private(path: &Path, text: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("new");
    let mut file =
        std::fs::OpenOptions::new().create(true).write(true).truncate(true).mode(0o600).open(&tmp)?;
    file.write_all(text)?;
    file.sync_all()?;
    std::fs::rename(tmp, path)
}

/// Requests a token for the pod's ServiceAccount, bound to the pod, and writes it and the
/// pod's kubeconfig into `dir`. Errors name what failed, never the token.
pub async fn issue(
    client: &kube::Client,
    namespace: &str,
    service_account: &str,
    pod: &str,
    uid: &str,
    admin: &Path,
    dir: &Path,
) -> Result<Credentials, String> {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: Vec::new(),
            expiration_seconds: Some(LIFETIME_SECS),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(pod.into()),
                uid: Some(uid.into()),
            }),
        },
        ..Default::default()
    };
    let issued = accounts
        .create_token_request(service_account, &PostParams::default(), &request)
        .await
        .map_err(|e| format!("token request for ServiceAccount {namespace}/{service_account}: {e}"))?;
    let status = issued.status.ok_or("the token request came back without a status")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let token_file = dir.join("token");
    write_private(&token_file, status.token.as_bytes())
        .map_err(|e| format!("writing the token file: {e}"))?;
    let (server, ca) = admin_cluster(admin)?;
    let kubeconfig = dir.join("kubeconfig");
    write_private(&kubeconfig, kubeconfig_text(&server, &ca, &token_file).as_bytes())
        .map_err(|e| format!("writing {}: {e}", kubeconfig.display()))?;
    let issued_at = Utc::now();
    let lifetime =
        chrono::Duration::seconds(status.expiration_timestamp.0.as_second() - issued_at.timestamp());
    Ok(Credentials { kubeconfig, renew_after: issued_at + lifetime * 4 / 5 })
}

/// Whether credentials issued at some point are due for renewal at `now`.
pub fn due(credentials: &Credentials, now: DateTime<Utc>) -> bool {
    now >= credentials.renew_after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubeconfig_names_the_token_file_never_the_token() {
        let text = kubeconfig_text(
            "https://127.0.0.1:6443",
            &json!({ "certificate-authority": "/pki/ca.crt" }),
            Path::new("/run/p/token"),
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["users"][0]["user"]["tokenFile"], "/run/p/token");
        assert!(v["users"][0]["user"].get("token").is_none());
        assert_eq!(v["clusters"][0]["cluster"]["certificate-authority"], "/pki/ca.crt");
        assert_eq!(v["clusters"][0]["cluster"]["server"], "https://127.0.0.1:6443");
    }

    #[test]
    fn private_files_are_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("shardwatch-sa-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        write_private(&path, b"x").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn renewal_is_due_after_four_fifths_of_the_lifetime() {
        let now = Utc::now();
        let lifetime = chrono::Duration::seconds(LIFETIME_SECS);
        let c = Credentials { kubeconfig: PathBuf::new(), renew_after: now + lifetime * 4 / 5 };
        assert!(!due(&c, now));
        assert!(due(&c, now + lifetime));
    }
}
