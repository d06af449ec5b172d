//! Running `go` for the local world's builds: each run in a process group of its own,
//! killed with everything it started when the run is dropped (an interrupted `up` leaves no
//! compiler behind) or when `up` is SIGKILLed ([`ReapedGroup`]), its log lines
//! passed on as they come; and `go mod download -json` read into the module folders and `go.mod` files it names.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use color_eyre::eyre::{Result, WrapErr, bail};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::group_reaper::ReapedGroup;

/// One module as `go mod download -json` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The unpacked module.
    pub dir: PathBuf,
    /// Its `go.mod` in the download cache.
    pub go_mod: PathBuf,
}

/// Runs `go ARGS` in `dir` with `env` added, passing each stderr line to `progress`;
/// returns stdout, or fails naming the command.
pub async fn go(
    args: &[&str],
    dir: &Path,
    env: &[(&str, &str)],
    progress: &mut dyn FnMut(&str),
) -> Result<String> {
    let mut cmd = go_command(args, dir);
    cmd.envs(env.iter().copied());
    let (mut child, guard) = ReapedGroup::spawn(
        &mut cmd,
        "running `go` (the local world builds from the Go module proxy; is Go on PATH?)",
    )?;
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(stderr).lines();
    while let Some(line) = lines.next_line().await? {
        progress(&line);
    }
    let out = child.wait_with_output().await?;
    guard.ended();
    if !out.status.success() {
        bail!("`go {}` failed ({}; its lines are above)", args.join(" "), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `go ARGS` in `dir`, its output piped, in a process group of its own that is killed
/// with it (an interrupted `up` leaves no `go build` behind).
fn go_command(args: &[&str], dir: &Path) -> Command {
    let mut cmd = Command::new("go");
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    cmd
}

/// Downloads `specs` (`module@version`) with `go mod download -json` run in `dir`; their
/// folders and `go.mod` files in the order of `specs`.
pub async fn download(specs: &[String], dir: &Path, progress: &mut dyn FnMut(&str)) -> Result<Vec<Module>> {
    let mut args = vec!["mod", "download", "-json"];
    args.extend(specs.iter().map(String::as_str));
    // go prints the JSON even when a module fails, with its Error field: read that first.
    let (child, guard) =
        ReapedGroup::spawn(&mut go_command(&args, dir), "running `go mod download` (is Go on PATH?)")?;
    let out = child.wait_with_output().await?;
    guard.ended();
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        progress(line);
    }
    modules(&String::from_utf8_lossy(&out.stdout), specs)
}

/// The modules of `go mod download -json` output (a stream of JSON objects), in the order
/// of `specs`; a module's `Error` field becomes the error.
pub fn modules(stdout: &str, specs: &[String]) -> Result<Vec<Module>> {
    let mut found = std::collections::BTreeMap::new();
    for item in serde_json::Deserializer::from_str(stdout).into_iter::<Value>() {
        let item = item.wrap_err("go printed something other than JSON")?;
        let field = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let module = match (field("Error"), field("Dir")) {
            (e, _) if !e.is_empty() => Err(e),
            (_, d) if d.is_empty() => Err("no folder given".to_string()),
            (_, d) => Ok(Module { dir: PathBuf::from(d), go_mod: PathBuf::from(field("GoMod")) }),
        };
        found.insert(format!("{}@{}", field("Path"), field("Version")), module);
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for spec in specs {
        match found.remove(spec) {
            Some(Ok(m)) => out.push(m),
            Some(Err(e)) => errors.push(format!("{spec}: {e}")),
            None => errors.push(format!("{spec}: not downloaded (not on the Go module proxy?)")),
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("; "));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_json_gives_folders_and_go_mods_in_the_order_asked() {
        let specs = vec!["m/a@v1".to_string(), "m/b@v2".to_string()];
        let out = "{\"Path\": \"m/b\", \"Version\": \"v2\", \"Dir\": \"/c/b\", \"GoMod\": \"/c/b.mod\"}\n\
                   {\n\t\"Path\": \"m/a\",\n\t\"Version\": \"v1\",\n\t\"Dir\": \"/c/a\",\n\t\"GoMod\": \"/c/a.mod\"\n}\n";
        let got = modules(out, &specs).unwrap();
        assert_eq!(got[0], Module { dir: "/c/a".into(), go_mod: "/c/a.mod".into() });
        assert_eq!(got[1].dir, PathBuf::from("/c/b"));
        let bad = "{\"Path\": \"m/a\", \"Version\": \"v1\", \"Error\": \"403 Forbidden\"}\n";
        let err = format!("{:#}", modules(bad, &specs).unwrap_err());
        assert!(err.contains("m/a@v1: 403 Forbidden") && err.contains("m/b@v2: not downloaded"), "{err}");
    }
}
