//! Why shardwatch could not connect, in one line that names the cause and the fix: a
//! missing or broken kubeconfig, an unknown context, a server that does not answer, a
//! server certificate that does not match, credentials the server refuses.

use std::fmt;

use crate::redact::redact;

/// A connection failure the user can act on; printed as one line, exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    /// What went wrong.
    pub cause: String,
    /// What to do about it.
    pub fix: String,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} — {}", self.cause, self.fix)
    }
}

impl std::error::Error for ConnectError {}

fn err(cause: impl Into<String>, fix: impl Into<String>) -> ConnectError {
    // Errors may quote headers; one line, and never a token.
    let one_line = |s: String| redact(&s.replace(['\n', '\r'], " "));
    ConnectError { cause: one_line(cause.into()), fix: one_line(fix.into()) }
}

/// A kubeconfig file that cannot be read or parsed.
pub fn kubeconfig(path: &str, e: &kube::config::KubeconfigError) -> ConnectError {
    use kube::config::KubeconfigError as K;
    match e {
        K::ReadConfig(io, _) if io.kind() == std::io::ErrorKind::NotFound => err(
            format!("kubeconfig {path} does not exist"),
            "pass --kubeconfig with an existing file, or set KUBECONFIG",
        ),
        K::ReadConfig(io, _) => {
            err(format!("cannot read kubeconfig {path}: {io}"), "check the file's permissions")
        }
        K::Parse(_) => err(
            format!("kubeconfig {path} is not a valid kubeconfig ({e})"),
            "fix the file, or point --kubeconfig at another",
        ),
        other => err(format!("kubeconfig {path}: {other}"), "fix the file, or point --kubeconfig at another"),
    }
}

/// A context that is not in the kubeconfig; `known` lists those that are.
pub fn unknown_context(context: &str, known: &[String]) -> ConnectError {
    if context.is_empty() {
        return err(
            "the kubeconfig has no current context",
            format!("pass --context with one of: {}", known.join(", ")),
        );
    }
    let fix = if known.is_empty() {
        "the kubeconfig has no contexts: get one for your cluster (kind export kubeconfig, shardwatch up)"
            .to_string()
    } else {
        format!("pass --context with one of: {}", known.join(", "))
    };
    err(format!("context {context:?} is not in the kubeconfig"), fix)
}

/// The first request to the server failed; `uses_client_cert`: the user authenticates
/// with a client certificate (then a 401 is about that certificate).
pub fn request(server: &str, e: &kube::Error, uses_client_cert: bool) -> ConnectError {
    let chain = chain_text(e);
    let has = |words: &[&str]| words.iter().any(|w| chain.contains(w));
    if let kube::Error::Api(s) = e {
        return match s.code {
            401 if uses_client_cert => err(
                format!(
                    "the API at {server} refused the client certificate (401 Unauthorized): it has expired or is not signed by this cluster's CA"
                ),
                "renew the certificate in the kubeconfig, or get a fresh kubeconfig for this cluster",
            ),
            401 => err(
                format!("the API at {server} refused the credentials (401 Unauthorized)"),
                "log in again or renew the token in the kubeconfig",
            ),
            403 => err(
                format!("the API at {server} forbids this user to read its version (403): {}", s.message),
                "ask for read access (manifests/rbac has the least-privilege role)",
            ),
            code => err(
                format!("the API at {server} answered {code}: {}", s.message),
                "check the cluster's health",
            ),
        };
    }
    if has(&["notvalidforname", "not valid for name"]) {
        return err(
            format!("the server certificate of {server} is not valid for that address"),
            "check the server (and tls-server-name) of the cluster in the kubeconfig",
        );
    }
    if has(&["unknownissuer", "unknown issuer", "badsignature", "bad signature"]) {
        return err(
            format!(
                "the server certificate of {server} is not signed by the kubeconfig's certificate authority"
            ),
            "check certificate-authority(-data) of the cluster in the kubeconfig, or that the server is the right cluster",
        );
    }
    if has(&["invalid peer certificate", "certificate"]) && has(&["expired"]) {
        return err(
            format!("the server certificate of {server} has expired"),
            "renew the cluster's serving certificate",
        );
    }
    if has(&["connection refused"]) {
        return err(
            format!("nothing answers at {server} (connection refused)"),
            "is the cluster running? check the server in the kubeconfig, or pick another --context",
        );
    }
    if has(&["dns error", "failed to lookup", "name or service not known"]) {
        return err(
            format!("the host of {server} cannot be resolved"),
            "check the server in the kubeconfig, or your DNS",
        );
    }
    if has(&["timed out", "timeout", "deadline"]) {
        return err(
            format!("the API at {server} did not answer in time"),
            "is the cluster running and reachable from here (VPN, firewall)?",
        );
    }
    err(format!("cannot reach the Kubernetes API at {server}: {e}"), "check the cluster and the kubeconfig")
}

/// The error and all its sources, lower case, for classifying.
fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("{e} {e:?}");
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(" | {s} {s:?}"));
        source = s.source();
    }
    text.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_cause_and_fix_and_no_token() {
        let e = err("bad\nthing: Authorization: Bearer abc.def", "do this");
        let line = e.to_string();
        assert_eq!(line.lines().count(), 1);
        assert!(line.contains("bad thing") && line.ends_with("— do this"), "{line}");
        assert!(!line.contains("abc.def"), "{line}");
    }

    #[test]
    fn an_unknown_context_lists_the_known_ones() {
        let e = unknown_context("nope", &["kind-a".into(), "kind-b".into()]);
        assert_eq!(
            e.to_string(),
            "context \"nope\" is not in the kubeconfig — pass --context with one of: kind-a, kind-b"
        );
    }
}
