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

/// One line on stderr naming the cause and the fix, nothing on stdout (no terminal set up).
fn assert_one_line(code: i32, out: &str, err: &str, names: &[&str]) {
    assert_eq!(code, 2, "exit 2 when shardwatch cannot connect: {err}");
    assert_eq!(out, "", "nothing on stdout, no terminal escape sequences");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(" — "), "cause — fix: {err}");
    for n in names {
        assert!(err.contains(n), "the line names {n}: {err}");
    }
}

fn kubeconfig_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("sw-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kubeconfig");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const REFUSED: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:9'}\n\
    users:\n- name: u\n  user: {token: sekrit-token-value}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n\
    current-context: x\n";

#[test]
fn connection_failures_are_one_line_with_the_cause_and_the_fix_for_every_command() {
    let broken = kubeconfig_file("broken", "apiVersion: v1\nclusters: [this is: not: yaml\n");
    let refused = kubeconfig_file("refused", REFUSED);
    // The dashboard too: it connects before it takes the terminal over.
    for cmd in [&[][..], &["snapshot"], &["check"], &["explain", "ks/x"]] {
        let with = |kc: &str, extra: &[&str]| {
            let mut args = vec!["--kubeconfig", kc];
            args.extend(extra);
            args.extend(cmd);
            args.into_iter().map(str::to_string).collect::<Vec<_>>()
        };
        let run = |args: Vec<String>| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            shardwatch(&args, &[])
        };
        let (code, out, err) = run(with("/nonexistent/kubeconfig", &[]));
        assert_one_line(code, &out, &err, &["/nonexistent/kubeconfig", "does not exist", "--kubeconfig"]);
        let (code, out, err) = run(with(&broken, &[]));
        assert_one_line(code, &out, &err, &[&broken, "not a valid kubeconfig"]);
        let (code, out, err) = run(with(&refused, &["--context", "nope"]));
        assert_one_line(code, &out, &err, &["\"nope\"", "--context with one of: x"]);
        let (code, out, err) = run(with(&refused, &[]));
        assert_one_line(code, &out, &err, &["127.0.0.1:9", "connection refused", "is the cluster running"]);
        assert!(!err.contains("sekrit-token-value"), "{err}");
    }
}
