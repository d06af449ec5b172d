//! Redaction of credentials from any text that leaves the process: logs, errors, panics,
//! snapshots, recordings. Every form a kubeconfig, a request or an error can carry: bearer
//! tokens, basic auth (in `Authorization` headers and in `user:pass@` URLs), private keys
//! (PEM blocks, `client-key-data`), tokens in URL queries and exec plugin output
//! (ExecCredential `status.token`), also inside JSON or Debug-escaped JSON.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a credential is replaced with.
pub const REDACTED: &str = "[redacted]";

/// A whole private key in PEM form, up to its END line (or the end of the text if cut).
static PEM_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)")
        .expect("PEM pattern")
});

/// `Authorization: <scheme> <credentials>` as a header, a Debug map or JSON.
static AUTH_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(\b(?:proxy-)?authorization\\?"?\s*[:=]\s*\\?"?\s*(?:[a-z][a-z0-9-]*\s+)?)([^\s"\\,;\[')][^\s"\\,;')]*)"#,
    )
    .expect("authorization pattern")
});

/// `Bearer <token>` anywhere, and `Basic <base64>` when the word after it looks encoded.
static SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(\bbearer\s+)([^\s"\\,;\[)][^\s"\\,;)]*)|(\bbasic\s+)([A-Za-z0-9+/]{6,}={0,2})"#)
        .expect("scheme pattern")
});

/// The user information of a URL (`https://user:pass@host`, `https://token@host`).
static URL_USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(\b[a-z][a-z0-9+.-]*://)([^/\s@"'\\<>\[]+)@"#).expect("userinfo pattern")
});

/// A credential as a key and value: YAML (`token: x`), JSON (`"token":"x"`, also with
/// escaped quotes), a URL query (`?access_token=x`) or a flag (`--password=x`).
static KEY_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(\b(?:access[_-]token|id[_-]token|refresh[_-]token|auth[_-]token|client[_-]secret|client-key-data|token|password|passwd|auth)\\?["']?\s*[:=]\s*\\?["']?)([^\s"\\&,;}\]\[<>')][^\s"\\&,;}\]<>')]*)"#,
    )
    .expect("key-value pattern")
});

/// `s` with every credential it carries replaced by `[redacted]`; the rest unchanged.
pub fn redact(s: &str) -> String {
    // Quick exit: most text (events, log lines) carries none of the markers.
    let lower = s.to_ascii_lowercase();
    let markers = ["private key", "auth", "bearer", "basic", "@", "token", "passw", "secret", "key-data"];
    if !markers.iter().any(|m| lower.contains(m)) {
        return s.to_string();
    }
    let s = PEM_KEY.replace_all(s, "[redacted private key]");
    let s = AUTH_HEADER.replace_all(&s, |c: &Captures| format!("{}{REDACTED}", &c[1]));
    let s = SCHEME.replace_all(&s, |c: &Captures| match (c.get(1), c.get(3), c.get(4)) {
        (Some(word), _, _) => format!("{}{REDACTED}", word.as_str()),
        // A plain word after "basic" ("basic authentication") is prose, not credentials.
        (None, Some(_), Some(value)) if value.as_str().bytes().all(|b| b.is_ascii_lowercase()) => {
            c[0].to_string()
        }
        (None, Some(word), _) => format!("{}{REDACTED}", word.as_str()),
        _ => c[0].to_string(),
    });
    let s = URL_USERINFO.replace_all(&s, |c: &Captures| format!("{}{REDACTED}@", &c[1]));
    let s = KEY_VALUE.replace_all(&s, |c: &Captures| format!("{}{REDACTED}", &c[1]));
    s.into_owned()
}

/// An [`std::io::Write`] that redacts what passes through it (the log file's writer): each
/// write is one formatted log event, so a credential is never split between two writes.
pub struct RedactingWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(redact(&String::from_utf8_lossy(buf)).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests;
