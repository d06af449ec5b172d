//! No credential leaves shardwatch: runs every command that talks to the cluster (the
//! dashboard in a pseudo-terminal, `snapshot -o json`, `snapshot --follow --record`,
//! `explain`, `logs`) as a token-authenticated ServiceAccount, through an exec plugin, and
//! with credential forms that fail (an exec plugin that fails after printing its
//! credential, basic auth and a token in the server URL, a client key), all at
//! `RUST_LOG=debug` with a log file, with a panic that quotes a credential; then looks for
//! every secret in stdout, stderr, the screen, the log files, the recording and every file
//! the runs wrote in the cache: none appears.

#[path = "support/flux_stack.rs"]
mod flux_stack;
#[path = "support/pty.rs"]
mod pty;
mod support;
#[path = "support/viewer.rs"]
mod viewer;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use viewer::{Viewer, flux_namespace, private_file, shipped};

/// What the runs left behind to search: (what, text).
#[derive(Default)]
struct Evidence(Vec<(String, String)>);

impl Evidence {
    fn add(&mut self, what: impl Into<String>, text: impl Into<String>) {
        self.0.push((what.into(), text.into()));
    }

    /// Every file under `dir` written since `since` (small enough to be text we wrote).
    fn files_written(&mut self, dir: &Path, since: SystemTime) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                self.files_written(&path, since);
            } else if meta.modified().is_ok_and(|m| m >= since) && meta.len() < 16 << 20 {
                let bytes = std::fs::read(&path).unwrap_or_default();
                self.add(path.display().to_string(), String::from_utf8_lossy(&bytes));
            }
        }
    }

    fn assert_none_of(&self, secrets: &[(&str, &str)]) {
        for (name, secret) in secrets {
            assert!(secret.len() >= 8, "secret {name} too short to search for");
            for (what, text) in &self.0 {
                assert!(!text.contains(secret), "{name} appears in {what}");
            }
        }
    }
}

/// A kubeconfig for `server` (with the admin's CA) authenticating as `user`, at `path`.
fn kubeconfig(path: &Path, cluster: &Value, server: &str, user: Value) -> PathBuf {
    let mut cluster = cluster.clone();
    cluster["server"] = server.into();
    let config = json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    });
    private_file(path, &config.to_string());
    path.to_path_buf()
}

/// An exec credential plugin printing an ExecCredential with `token`, exiting `code`.
fn exec_plugin(path: &Path, token: &str, code: i32) -> Value {
    let credential = json!({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                            "status": {"token": token}});
    private_file(path, &format!("#!/bin/sh\necho '{credential}'\nexit {code}\n"));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
    json!({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": path, "interactiveMode": "Never"}})
}

impl Evidence {
    /// Runs shardwatch with `kubeconfig` at debug level, a log file of its own and `home` as
    /// its state folder, keeping stdout, stderr and the log; (exit code, stdout, stderr, log).
    fn run(
        &mut self,
        what: &str,
        kubeconfig: &Path,
        home: &Path,
        args: &[&str],
    ) -> (i32, String, String, String) {
        let log = home.join(support::unique_name("log"));
        let out = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--log-file")
            .arg(&log)
            .args(args)
            .env("RUST_LOG", "debug")
            .env("XDG_STATE_HOME", home.join("state"))
            .stdin(Stdio::null())
            .output()
            .expect("run shardwatch");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        self.add(format!("stdout of {what}"), stdout.clone());
        self.add(format!("stderr of {what}"), stderr.clone());
        self.add(format!("the log of {what}"), logged.clone());
        (out.status.code().unwrap_or(-1), stdout, stderr, logged)
    }
}

#[test]
fn no_credential_appears_in_any_output() {
    let Some(admin) = support::cluster() else { return };
    let started = SystemTime::now() - Duration::from_secs(1);
    let ns = flux_namespace(&admin);
    let viewer = Viewer::bound_to(&admin, &ns.name, shipped("clusterrole.yaml"));
    // What shardwatch writes goes to `home` (searched); what the test writes (kubeconfigs,
    // plugins) to `inputs` (not searched: the secrets are there on purpose).
    let home = viewer.dir.join("home");
    let inputs = viewer.dir.join("inputs");
    for dir in [&home, &inputs] {
        std::fs::create_dir_all(dir).expect("create the test's folders");
    }
    let admin_config =
        admin.get_json(&["config", "view", "--raw", "--minify", "--flatten"]).expect("the admin kubeconfig");
    let cluster = admin_config["clusters"][0]["cluster"].clone();
    let server = cluster["server"].as_str().expect("server").to_string();
    let flux_ns = ["--flux-namespace", ns.name.as_str()];
    let mut evidence = Evidence::default();

    // The token inline in the kubeconfig: every command.
    let inline = kubeconfig(&inputs.join("inline"), &cluster, &server, json!({"token": viewer.token}));
    let snapshot = [&flux_ns[..], &["snapshot", "-o", "json"]].concat();
    let (code, stdout, stderr, log) = evidence.run("snapshot", &inline, &home, &snapshot);
    assert_eq!(code, 0, "snapshot as the ServiceAccount: {stderr}");
    let snap: Value = serde_json::from_str(&stdout).expect("snapshot JSON");
    assert!(snap["shards"].as_array().is_some_and(|s| s.len() >= 3), "shards: {}", snap["shards"]);
    assert!(log.contains("DEBUG"), "the log is not at debug level:\n{log}");
    let target = format!("ks/{}/app", ns.name);
    for (what, extra) in [
        ("explain", vec!["explain", target.as_str(), "-o", "json"]),
        ("logs", vec!["logs", "deploy/kustomize-controller-shard1"]),
    ] {
        let (code, _, stderr, _) = evidence.run(what, &inline, &home, &[&flux_ns[..], &extra].concat());
        assert!(code >= 0, "{what} did not exit: {stderr}");
    }

    // snapshot --follow --record: the first snapshot, then stopped.
    let recording = home.join("recording.ndjson");
    let log = home.join("follow.log");
    let mut follow = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .arg("--kubeconfig")
        .arg(&inline)
        .arg("--log-file")
        .arg(&log)
        .args(flux_ns)
        .args(["snapshot", "--follow", "--record"])
        .arg(&recording)
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("snapshot --follow");
    let mut first = String::new();
    BufReader::new(follow.stdout.take().expect("stdout")).read_line(&mut first).expect("a first snapshot");
    follow.kill().expect("stop snapshot --follow");
    follow.wait().expect("wait");
    assert!(first.starts_with('{'), "snapshot --follow printed {first:?}");
    evidence.add("snapshot --follow", first);
    let recorded = std::fs::read_to_string(&recording).expect("the recording");
    assert!(recorded.lines().count() > 1, "the recording holds no event:\n{recorded}");
    evidence.add("the recording", recorded);
    evidence.add("the log of snapshot --follow", std::fs::read_to_string(&log).unwrap_or_default());

    // The dashboard, then a panic in a draw whose message quotes a credential.
    let mut term = viewer.dashboard(&ns.name, &[]);
    term.wait_for("shard3", Duration::from_secs(30));
    term.send("q");
    assert!(term.wait_exit(Duration::from_secs(10)), "the dashboard did not exit on q");
    evidence.add("the dashboard's screen", term.contents());
    assert!(!term.wrote(viewer.token.as_bytes()), "the token was written to the terminal");
    evidence.add(
        "the dashboard's log",
        std::fs::read_to_string(viewer.dir.join("dashboard.log")).unwrap_or_default(),
    );
    let kubeconfig_arg = inline.to_string_lossy().into_owned();
    let quoted = format!(" (sent Authorization: Bearer {})", viewer.token);
    let mut term = pty::Terminal::spawn(
        env!("CARGO_BIN_EXE_shardwatch"),
        &["--kubeconfig", &kubeconfig_arg, "--log-file", "/dev/null", "--flux-namespace", &ns.name],
        &[
            ("NO_COLOR", "1"),
            ("RUST_BACKTRACE", "0"),
            ("SHARDWATCH_TEST_PANIC_IN_DRAW", "3"),
            ("SHARDWATCH_TEST_PANIC_TEXT", &quoted),
        ],
        120,
        40,
    );
    assert!(term.wait_exit(Duration::from_secs(30)), "the dashboard did not end after the panic");
    term.wait_for(
        "a panic in a draw, on purpose (sent Authorization: Bearer [redacted])",
        Duration::from_secs(5),
    );
    assert!(!term.wrote(viewer.token.as_bytes()), "the panic wrote the token to the terminal");

    // An exec plugin that hands over the token: it works, and the token stays inside.
    let plugin = exec_plugin(&inputs.join("plugin"), &viewer.token, 0);
    let exec = kubeconfig(&inputs.join("exec"), &cluster, &server, plugin);
    let (code, _, stderr, _) = evidence.run("snapshot (exec plugin)", &exec, &home, &snapshot);
    assert_eq!(code, 0, "snapshot through the exec plugin: {stderr}");

    // Forms that fail: each ends with an error, and the error carries no secret.
    let exec_token = support::unique_name("exec-plugin-secret");
    let failing_plugin = exec_plugin(&inputs.join("failing-plugin"), &exec_token, 1);
    let password = support::unique_name("basic-password");
    let url_token = support::unique_name("url-token");
    let key_body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDsecretkeybytes";
    let key_pem = format!("-----BEGIN PRIVATE KEY-----\n{key_body}\n-----END PRIVATE KEY-----\n");
    let key_data = base64(key_pem.as_bytes());
    let cert_data = base64(b"-----BEGIN CERTIFICATE-----\nMIIBnotacertificate\n-----END CERTIFICATE-----\n");
    let unreachable = format!("https://admin:{password}@127.0.0.1:1/?access_token={url_token}");
    for (what, server, user) in [
        ("a failing exec plugin", server.clone(), failing_plugin),
        ("basic auth", server.clone(), json!({"username": "admin", "password": password})),
        ("credentials in the server URL", unreachable, json!({"token": viewer.token})),
        (
            "a client key",
            server.clone(),
            json!({"client-certificate-data": cert_data, "client-key-data": key_data}),
        ),
    ] {
        let path = kubeconfig(&inputs.join(support::unique_name("failing")), &cluster, &server, user);
        let (code, stdout, stderr, _) =
            evidence.run(what, &path, &home, &["snapshot", "-o", "json", "--timeout", "5"]);
        // Refused at connection (exit 2 and the cause on stderr), or connected as nobody
        // (the apiserver answers /version to anyone) with no watch Live.
        let refused = (code == 2 && !stderr.trim().is_empty()) || (code == 0 && !stdout.contains("\"Live\""));
        assert!(refused, "{what}: exit {code}, stderr {stderr}, stdout {stdout}");
    }

    evidence.files_written(&home, started);
    evidence.files_written(&shardwatch::cache::cache_dir(), started);
    evidence.assert_none_of(&[
        ("the ServiceAccount token", viewer.token.as_str()),
        ("the exec plugin's token", exec_token.as_str()),
        ("the basic-auth password", password.as_str()),
        ("the token in the URL", url_token.as_str()),
        ("the client key's bytes", key_body),
        ("the client-key-data", key_data.as_str()),
    ]);
}

/// Standard base64 with padding, for kubeconfig data fields.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}
