//! No `unsafe` in the project's code, and the compiler holds every crate root to it
//! (`#![forbid(unsafe_code)]`), so a new `unsafe` fails the build, not only this test.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_unsafe_code_and_every_crate_root_forbids_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "bench"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "only {} Rust files found", files.len());
    // Spelled in two halves so this file does not find itself.
    let forms =
        [" {", " fn", " impl", " extern", " trait"].map(|rest| format!("{}{rest}", concat!("un", "safe")));
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for form in &forms {
                assert!(!code.contains(form.as_str()), "{}:{}: {line}", file.display(), n + 1);
            }
        }
    }
    for crate_root in [
        "src/lib.rs",
        "src/main.rs",
        "src/bin/kubectl-shardwatch.rs",
        "benches/frame.rs",
        "bench/scale/main.rs",
    ] {
        let text = std::fs::read_to_string(root.join(crate_root)).expect("read");
        assert!(text.contains("#![forbid(unsafe_code)]"), "{crate_root} does not forbid unsafe code");
    }
}
