//! One test per credential form, and that text without credentials passes unchanged.

use std::io::Write;

use super::{RedactingWriter, redact};

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl";

fn assert_hidden(text: &str, secret: &str) -> String {
    let out = redact(text);
    assert!(!out.contains(secret), "{secret:?} survives in {out:?}");
    assert!(out.contains("[redacted"), "nothing marked as redacted in {out:?}");
    out
}

#[test]
fn bearer_tokens() {
    assert_eq!(
        redact("401: Authorization: Bearer abc.def.ghi denied"),
        "401: Authorization: Bearer [redacted] denied"
    );
    assert_eq!(redact(&format!("sent bearer {TOKEN}")), "sent bearer [redacted]");
    assert_hidden(&format!("headers: {{\"authorization\": \"Bearer {TOKEN}\"}}"), TOKEN);
    assert_hidden(&format!("bearer\t{TOKEN}, retrying"), TOKEN);
    // Punctuation after a token stays.
    assert_eq!(
        redact(&format!("(sent Authorization: Bearer {TOKEN})")),
        "(sent Authorization: Bearer [redacted])"
    );
    assert_eq!(redact(&format!("(token={TOKEN})")), "(token=[redacted])");
}

#[test]
fn basic_auth_in_headers_and_urls() {
    // "admin:s3cr3t-pass" in base64.
    let basic = "YWRtaW46czNjcjN0LXBhc3M=";
    assert_eq!(redact(&format!("Authorization: Basic {basic}")), "Authorization: Basic [redacted]");
    assert_hidden(&format!("proxy-authorization=Basic {basic}"), basic);
    assert_hidden(&format!("header basic {basic} sent"), basic);
    let out = assert_hidden("GET https://admin:s3cr3t-pass@10.0.0.1:6443/api failed", "s3cr3t-pass");
    assert_eq!(out, "GET https://[redacted]@10.0.0.1:6443/api failed");
    assert_hidden(&format!("error trying to connect: http://{TOKEN}@proxy.local:3128"), TOKEN);
    assert_hidden("password: s3cr3t-pass", "s3cr3t-pass");
    assert_hidden("{\"username\":\"admin\",\"password\":\"s3cr3t-pass\"}", "s3cr3t-pass");
}

#[test]
fn private_keys_as_pem_and_as_kubeconfig_data() {
    let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
    for label in ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"] {
        let pem = format!("-----BEGIN {label}-----\n{body}\nQUJD\n-----END {label}-----\n");
        let out = assert_hidden(&format!("bad key: {pem}trailing"), body);
        assert!(out.ends_with("\ntrailing"), "{out:?}");
        // Cut short (a truncated message): everything after BEGIN goes.
        assert_hidden(&format!("bad key: -----BEGIN {label}-----\n{body}"), body);
        // Inside JSON, newlines are escaped.
        assert_hidden(&serde_json::json!({ "key": pem }).to_string(), body);
    }
    let data = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVND";
    assert_hidden(&format!("users:\n- user:\n    client-key-data: {data}\n"), data);
    assert_hidden(&format!("{{\"client-key-data\":\"{data}\"}}"), data);
    // Certificates are public: they stay.
    let cert = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----";
    assert_eq!(redact(cert), cert);
}

#[test]
fn tokens_in_url_queries() {
    let out = assert_hidden(&format!("GET https://api.example/watch?token={TOKEN}&limit=5"), TOKEN);
    assert!(out.ends_with("?token=[redacted]&limit=5"), "{out}");
    assert_hidden(&format!("https://h/cb#access_token={TOKEN}"), TOKEN);
    assert_hidden(&format!("/oauth?id_token={TOKEN}&refresh_token=r3fr3sh"), "r3fr3sh");
    assert_hidden(&format!("--token={TOKEN}"), TOKEN);
}

#[test]
fn exec_plugin_output() {
    let credential = format!(
        "{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{TOKEN}\"}}}}"
    );
    assert_hidden(&credential, TOKEN);
    // As kube quotes a failed plugin's output: Debug of the process output, quotes escaped.
    let debug = format!("auth exec command 'x' failed: Output {{ stdout: {credential:?} }}");
    let out = assert_hidden(&debug, TOKEN);
    assert!(out.contains("ExecCredential"), "{out}");
    // As YAML, and with a client key in the status.
    assert_hidden(&format!("status:\n  token: {TOKEN}\n"), TOKEN);
    assert_hidden(&format!("status:\n  token: '{TOKEN}'\n"), TOKEN);
    assert_hidden(
        "{\"status\":{\"clientKeyData\":\"-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEE\"}}",
        "MHcCAQEE",
    );
}

#[test]
fn text_without_credentials_is_unchanged() {
    for text in [
        "connection refused",
        "Kustomization flux-system/app: artifact not found (tokenFile /var/run/token)",
        "nodes is forbidden: User \"system:serviceaccount:ns:viewer\" cannot list resource \"nodes\"",
        "basic authentication is not enabled",
        "git@github.com: host key verification failed",
        "already [redacted] text: token=[redacted]",
        "",
    ] {
        assert_eq!(redact(text), text);
    }
    // Redacting twice changes nothing more.
    let once = redact(&format!("token={TOKEN} Bearer {TOKEN} https://u:p@h"));
    assert_eq!(redact(&once), once);
}

#[test]
fn the_log_writer_redacts_each_event() {
    // tracing's formatter hands each event over in one write_all, as here.
    let mut w = RedactingWriter(Vec::new());
    w.write_all(format!("DEBUG request headers: authorization: Bearer {TOKEN}\n").as_bytes()).unwrap();
    let text = String::from_utf8(w.0).unwrap();
    assert_eq!(text, "DEBUG request headers: authorization: Bearer [redacted]\n");
}
