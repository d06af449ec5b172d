//! Bad input gets a clear message and the documented exit code, with no cluster needed.

use std::process::Command;

fn shardwatch(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shardwatch"));
    cmd.args(["--log-file", "/dev/null"]).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run shardwatch");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_missing_kubeconfig_file_is_named_and_check_cannot_tell() {
    let (code, out, err) = shardwatch(&["check", "--kubeconfig", "/nonexistent/kubeconfig"], &[]);
    assert_eq!(code, 2, "check must exit 2 when it cannot tell; stdout: {out}");
    assert!(err.contains("/nonexistent/kubeconfig"), "the error names the file: {err}");
}

#[test]
fn an_unreachable_server_is_reported_and_snapshot_exits_2() {
    let dir = std::env::temp_dir().join(format!("sw-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kubeconfig");
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:9'}\n\
         users:\n- name: u\n  user: {token: sekrit-token-value}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n\
         current-context: x\n",
    )
    .unwrap();
    let kubeconfig = path.to_string_lossy().into_owned();
    let (code, _, err) = shardwatch(&["snapshot", "--kubeconfig", &kubeconfig], &[]);
    assert_eq!(code, 2, "snapshot exits 2 without a cluster: {err}");
    assert!(err.contains("127.0.0.1:9"), "the error names the server: {err}");
    assert!(!err.contains("sekrit-token-value"), "a token never appears in an error: {err}");
    let (code, _, err) = shardwatch(&["check", "--kubeconfig", &kubeconfig, "--context", "nope"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("nope"), "an unknown context is named: {err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_flags_are_refused_with_usage() {
    let (code, _, err) = shardwatch(&["snapshot", "-o", "yaml"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("yaml") && err.contains("json"), "clap lists the valid formats: {err}");
}
