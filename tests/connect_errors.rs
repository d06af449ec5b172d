//! TLS and credential failures against the real apiserver, each one line naming the cause
//! and the fix, exit code 2, nothing on stdout: a server certificate that is not valid for
//! the name the kubeconfig uses, and an expired client certificate (signed by the local
//! cluster's CA with `openssl ca`, valid for one day in 2020).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn shardwatch(kubeconfig: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--log-file", "/dev/null"])
        .args(args)
        .output()
        .expect("run shardwatch");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn assert_one_line(code: i32, out: &str, err: &str, names: &[&str]) {
    assert_eq!(code, 2, "exit 2: {err}");
    assert_eq!(out, "", "nothing on stdout");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for n in names {
        assert!(err.contains(n), "the line names {n:?}: {err}");
    }
}

/// The local cluster's kubeconfig with `edit` applied to its text, in a temporary folder.
fn edited(cluster: &support::Cluster, name: &str, edit: impl Fn(&str) -> String) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(support::unique_name(name));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let text = std::fs::read_to_string(&cluster.kubeconfig).expect("read the cluster's kubeconfig");
    let path = dir.join("kubeconfig");
    std::fs::write(&path, edit(&text)).expect("write kubeconfig");
    (dir, path)
}

/// The `server:` line's URL and the client certificate's folder, from the kubeconfig text.
fn field(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {key} in the cluster's kubeconfig"))
}

#[test]
fn a_server_certificate_not_valid_for_the_name_used_is_one_line_exit_2() {
    let Some(cluster) = support::cluster() else { return };
    let (dir, path) = edited(&cluster, "tls-name", |text| {
        let server = field(text, "server");
        text.replace(
            &format!("server: {server}"),
            &format!("server: {server}\n    tls-server-name: wrong.example"),
        )
    });
    for args in [&["check"][..], &["snapshot"], &[]] {
        let (code, out, err) = shardwatch(&path, args);
        assert_one_line(
            code,
            &out,
            &err,
            &["server certificate", "not valid for that address", "tls-server-name"],
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn an_expired_client_certificate_is_one_line_exit_2() {
    let Some(cluster) = support::cluster() else { return };
    let text = std::fs::read_to_string(&cluster.kubeconfig).expect("kubeconfig");
    let pki =
        PathBuf::from(field(&text, "certificate-authority")).parent().expect("pki folder").to_path_buf();
    let dir = std::env::temp_dir().join(support::unique_name("expired"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let sh = |script: &str| {
        let out = Command::new("bash").arg("-c").arg(script).current_dir(&dir).output().expect("bash");
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    };
    sh("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout user.key \
        -subj '/CN=expired-user' -out user.csr 2>/dev/null");
    std::fs::write(
        dir.join("ca.cnf"),
        // Extensions make it X.509 v3, as client certificates are (rustls refuses v1).
        "[ca]\ndefault_ca = c\n[c]\ndatabase = ./index.txt\nnew_certs_dir = .\nserial = ./serial\n\
         default_md = sha256\npolicy = p\nx509_extensions = ext\n[p]\ncommonName = supplied\n\
         [ext]\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = clientAuth\n",
    )
    .expect("ca.cnf");
    sh(&format!(
        "touch index.txt && echo 01 > serial && openssl ca -batch -config ca.cnf -cert {ca}/ca.crt -keyfile {ca}/ca.key \
         -in user.csr -out user.crt -startdate 20200101000000Z -enddate 20200102000000Z -notext 2>/dev/null",
        ca = pki.display()
    ));
    let cert = field(&text, "client-certificate");
    let key = field(&text, "client-key");
    let kubeconfig = dir.join("kubeconfig");
    let edited = text
        .replace(&cert, &dir.join("user.crt").display().to_string())
        .replace(&key, &dir.join("user.key").display().to_string());
    std::fs::write(&kubeconfig, edited).expect("kubeconfig");
    for args in [&["check"][..], &["snapshot"], &[]] {
        let (code, out, err) = shardwatch(&kubeconfig, args);
        assert_one_line(code, &out, &err, &["client certificate", "expired", "renew"]);
    }
    std::fs::remove_dir_all(dir).ok();
}
