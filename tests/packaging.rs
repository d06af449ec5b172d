//! What a packager uses, without a cluster: the Krew manifest for `kubectl shardwatch`,
//! and the completion scripts and man page the binary prints.

use std::path::Path;
use std::process::Command;

fn repo(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect(path)
}

#[test]
fn the_krew_manifest_installs_the_kubectl_plugin_binary() {
    let filled = repo("packaging/krew/shardwatch.yaml")
        .replace("${VERSION}", "v0.1.0")
        .replace("${BASE_URL}", "https://example.invalid/releases/v0.1.0")
        .replace("${HOMEPAGE}", "https://example.invalid/shardwatch")
        .replace("${SHA256_LINUX_AMD64}", &"a".repeat(64))
        .replace("${SHA256_LINUX_ARM64}", &"b".repeat(64))
        .replace("${SHA256_DARWIN_ARM64}", &"c".repeat(64));
    assert!(!filled.contains("${"), "every placeholder is one render.sh fills");
    let m: serde_json::Value = serde_norway::from_str(&filled).expect("the manifest is YAML");
    assert_eq!(m["apiVersion"], "krew.googlecontainertools.github.com/v1alpha2");
    assert_eq!(m["kind"], "Plugin");
    // Krew runs `kubectl-<name>`: the name must match the binary Cargo builds.
    assert_eq!(m["metadata"]["name"], "shardwatch");
    assert!(repo("Cargo.toml").contains("name = \"kubectl-shardwatch\""));
    let platforms = m["spec"]["platforms"].as_array().expect("platforms");
    assert!(!platforms.is_empty());
    for p in platforms {
        assert_eq!(p["bin"], "kubectl-shardwatch", "{p}");
        assert_eq!(p["sha256"].as_str().map(str::len), Some(64), "{p}");
        assert!(p["uri"].as_str().is_some_and(|u| u.ends_with(".tar.gz")), "{p}");
        assert!(p["selector"]["matchLabels"]["os"].is_string(), "{p}");
    }
}

fn shardwatch(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shardwatch"))
        .args(["--log-file", "/dev/null"])
        .args(args)
        .output()
        .expect("run shardwatch");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn completions_print_for_each_shell_and_the_man_page_for_man() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (ok, script) = shardwatch(&["completions", shell]);
        assert!(ok && script.contains("replay"), "completions {shell}: {script}");
    }
    let (ok, page) = shardwatch(&["man"]);
    assert!(ok && page.contains(".TH shardwatch"), "{page}");
    let (ok, help) = shardwatch(&["--help"]);
    assert!(ok && help.contains("Examples:") && help.contains("shardwatch replay"), "{help}");
}
