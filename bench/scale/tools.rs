//! The tools measured side by side: how each is started, what on its screen (or in its
//! output) means "the first view is complete", and how it is stopped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr, eyre};
use serde_json::Value;

use crate::procstat;
use crate::scenario::{Census, Kind};
use crate::terminal::Terminal;

/// The pseudo-terminal every TUI gets.
pub const COLS: u16 = 160;
/// Rows of that terminal.
pub const ROWS: u16 = 48;

/// One tool (or way of running one) in the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// shardwatch's dashboard in a pseudo-terminal.
    Dashboard,
    /// `shardwatch snapshot -o json`, once.
    Snapshot,
    /// `shardwatch snapshot --follow`.
    Follow,
    /// k9s on its Kustomization view, all namespaces, read-only.
    K9s,
    /// kdash, its default view.
    Kdash,
    /// `kubectl get kustomizations,helmreleases,gitrepositories,nodes -A -o json`.
    KubectlJson,
    /// `kubectl get --raw` of each list, one after the other (their sum bounds any first view).
    RawLists,
}

impl Tool {
    /// Every tool, in table order.
    pub const ALL: [Tool; 7] = [
        Tool::Dashboard,
        Tool::Snapshot,
        Tool::Follow,
        Tool::K9s,
        Tool::Kdash,
        Tool::KubectlJson,
        Tool::RawLists,
    ];

    /// Its name on the command line (`--skip`) and in the results.
    pub fn key(self) -> &'static str {
        match self {
            Tool::Dashboard => "dashboard",
            Tool::Snapshot => "snapshot",
            Tool::Follow => "follow",
            Tool::K9s => "k9s",
            Tool::Kdash => "kdash",
            Tool::KubectlJson => "kubectl",
            Tool::RawLists => "raw",
        }
    }

    /// Its column heading.
    pub fn label(self) -> &'static str {
        match self {
            Tool::Dashboard => "shardwatch dashboard",
            Tool::Snapshot => "shardwatch snapshot",
            Tool::Follow => "shardwatch snapshot --follow",
            Tool::K9s => "k9s (Kustomization view)",
            Tool::Kdash => "kdash (default view)",
            Tool::KubectlJson => "kubectl get … -o json",
            Tool::RawLists => "raw API lists (sum of 4)",
        }
    }

    /// Whether it keeps running (then its RSS and CPU are measured), or exits when done.
    pub fn long_running(self) -> bool {
        matches!(self, Tool::Dashboard | Tool::Follow | Tool::K9s | Tool::Kdash)
    }
}

/// Where everything is.
#[derive(Debug, Clone)]
pub struct Env {
    /// The cluster.
    pub kubeconfig: PathBuf,
    /// kubectl binary.
    pub kubectl: String,
    /// shardwatch binary.
    pub shardwatch: PathBuf,
    /// k9s binary, when built.
    pub k9s: Option<PathBuf>,
    /// kdash binary, when built.
    pub kdash: Option<PathBuf>,
    /// Scratch folder (logs, outputs, peers' config).
    pub work: PathBuf,
    /// Whether the dashboard accepts `--stats FILE`.
    pub dashboard_stats: bool,
    /// Whether `snapshot --follow` accepts `--stats FILE`.
    pub follow_stats: bool,
}

impl Env {
    fn sw_args(&self, log: &str) -> Vec<String> {
        vec![
            "--kubeconfig".into(),
            self.kubeconfig.display().to_string(),
            "--read-only".into(),
            "--log-file".into(),
            self.work.join(log).display().to_string(),
        ]
    }

    /// The environment a peer gets: our cluster, and config folders of its own so the
    /// user's k9s/kdash settings neither change it nor get changed.
    fn peer_env(&self) -> Vec<(String, String)> {
        let home = self.work.join("peer-home");
        let _ = std::fs::create_dir_all(home.join(".config/k9s"));
        // No update check: it fails offline every 15 s and is not what is measured.
        let _ = std::fs::write(home.join(".config/k9s/config.yaml"), "k9s:\n  skipLatestRevCheck: true\n");
        vec![
            ("KUBECONFIG".into(), self.kubeconfig.display().to_string()),
            ("HOME".into(), home.display().to_string()),
            ("XDG_CONFIG_HOME".into(), home.join(".config").display().to_string()),
            ("XDG_STATE_HOME".into(), home.join(".state").display().to_string()),
            ("XDG_DATA_HOME".into(), home.join(".data").display().to_string()),
            ("XDG_CACHE_HOME".into(), home.join(".cache").display().to_string()),
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ]
    }
}

/// A long-running tool being measured.
pub enum Live {
    /// A TUI in a pseudo-terminal.
    Pty(Terminal, Tool),
    /// `snapshot --follow`: the time its output first held every object.
    Follow(Child, Arc<Mutex<Option<Instant>>>),
}

/// Starts a long-running tool; `stats` is the file its `--stats` writes, when supported.
pub fn start(tool: Tool, env: &Env, census: Census, stats: Option<&Path>) -> Result<Live> {
    match tool {
        Tool::Dashboard => {
            let mut args = env.sw_args("dashboard.log");
            if let Some(s) = stats {
                args.extend(["--stats".into(), s.display().to_string()]);
            }
            let t = Terminal::spawn(&env.shardwatch.display().to_string(), &args, &[], COLS, ROWS)?;
            Ok(Live::Pty(t, tool))
        }
        Tool::K9s => {
            let bin = env.k9s.as_ref().ok_or_else(|| eyre!("k9s not built"))?;
            let log = env.work.join("k9s.log").display().to_string();
            let args: Vec<String> = ["-A", "-c", "kustomizations", "--readonly", "--logFile", &log]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let t = Terminal::spawn(&bin.display().to_string(), &args, &env.peer_env(), COLS, ROWS)?;
            Ok(Live::Pty(t, tool))
        }
        Tool::Kdash => {
            let bin = env.kdash.as_ref().ok_or_else(|| eyre!("kdash not built"))?;
            let t = Terminal::spawn(&bin.display().to_string(), &[], &env.peer_env(), COLS, ROWS)?;
            Ok(Live::Pty(t, tool))
        }
        Tool::Follow => {
            let mut args = env.sw_args("follow.log");
            args.extend(["snapshot".into(), "--follow".into()]);
            if let Some(s) = stats {
                args.extend(["--stats".into(), s.display().to_string()]);
            }
            let mut child = Command::new(&env.shardwatch)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .wrap_err("starting shardwatch snapshot --follow")?;
            let stdout = child.stdout.take().ok_or_else(|| eyre!("no stdout"))?;
            let ready = Arc::new(Mutex::new(None));
            let flag = Arc::clone(&ready);
            std::thread::spawn(move || {
                // Only the completeness of each line is checked; parsing a 20 MB line
                // costs this process, not the one measured.
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    let done = flag.lock().map(|f| f.is_some()).unwrap_or(true);
                    if !done
                        && serde_json::from_str::<Value>(&line).is_ok_and(|v| snapshot_complete(&v, census))
                        && let Ok(mut f) = flag.lock()
                    {
                        *f = Some(Instant::now());
                    }
                }
            });
            Ok(Live::Follow(child, ready))
        }
        _ => Err(eyre!("{} is not long-running", tool.key())),
    }
}

impl Live {
    /// The process id measured.
    pub fn pid(&self) -> Option<u32> {
        match self {
            Live::Pty(t, _) => t.pid(),
            Live::Follow(c, _) => Some(c.id()),
        }
    }

    /// The screen now (empty for `--follow`).
    pub fn screen(&self) -> String {
        match self {
            Live::Pty(t, _) => t.contents(),
            Live::Follow(..) => String::new(),
        }
    }

    /// Waits until the first view is complete; returns how long after `since` it was.
    pub async fn wait_ready(
        &mut self,
        census: Census,
        since: Instant,
        timeout: Duration,
    ) -> Option<Duration> {
        let mut pressed = Instant::now() - Duration::from_secs(10);
        loop {
            let now = Instant::now();
            match self {
                Live::Pty(t, tool) => {
                    let screen = t.contents();
                    if screen_complete(*tool, &screen, census) {
                        return Some(now - since);
                    }
                    // The dashboard opens on Shards; the Dependencies panel's title
                    // counts the Kustomizations and HelmReleases it shows.
                    if *tool == Tool::Dashboard
                        && screen.contains("Dependencies")
                        && !screen.contains("Dependencies [")
                        && pressed.elapsed() > Duration::from_secs(1)
                    {
                        t.send("3");
                        pressed = Instant::now();
                    }
                    if t.exited() {
                        eprintln!("    exited before its first view was complete; screen:\n{screen}");
                        return None;
                    }
                }
                Live::Follow(c, ready) => {
                    if let Some(at) = *ready.lock().ok()? {
                        return Some(at - since);
                    }
                    if matches!(c.try_wait(), Ok(Some(_))) {
                        return None;
                    }
                }
            }
            if since.elapsed() > timeout {
                if let Live::Pty(t, _) = self {
                    eprintln!("    no complete first view within {timeout:?}; screen:\n{}", t.contents());
                }
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the tool the way a user would (so shardwatch writes its `--stats`), killing
    /// it if it does not go within 15 s.
    pub async fn stop(self) {
        match self {
            Live::Pty(mut t, tool) => {
                match tool {
                    Tool::K9s => t.send("\x03"),
                    _ => t.send("q"),
                }
                let start = Instant::now();
                while !t.exited() && start.elapsed() < Duration::from_secs(15) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                t.kill();
            }
            Live::Follow(mut c, _) => {
                let _ = Command::new("kill").args(["-INT", &c.id().to_string()]).status();
                let start = Instant::now();
                while !matches!(c.try_wait(), Ok(Some(_))) && start.elapsed() < Duration::from_secs(15) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// The number after `marker` on the screen, as in `kustomizations(all)[10019]` or
/// `Dependencies [1/12]` (then the part after the slash).
/// ```text
/// kustomizations(all)[10,003]  → 10003
/// ```
fn count_after(screen: &str, marker: &str) -> Option<usize> {
    let lower = screen.to_lowercase();
    let at = lower.find(&marker.to_lowercase())? + marker.len();
    let rest = &lower[at..];
    let end = rest.find(']')?;
    let inside = &rest[..end];
    // k9s groups thousands: `[10,003]`.
    let n: String = inside.rsplit('/').next()?.chars().filter(char::is_ascii_digit).collect();
    n.parse().ok()
}

/// Whether a TUI's screen shows the full object count.
pub fn screen_complete(tool: Tool, screen: &str, c: Census) -> bool {
    match tool {
        Tool::Dashboard => {
            count_after(screen, "Dependencies [").is_some_and(|n| n >= c.kustomizations + c.helmreleases)
        }
        Tool::K9s => count_after(screen, "(all)[").is_some_and(|n| n >= c.kustomizations),
        // kdash has no Flux view; its overview lists the nodes, titled `Nodes [N]`.
        Tool::Kdash => count_after(screen, "Nodes [").is_some_and(|n| n >= c.nodes),
        _ => false,
    }
}

/// Whether a snapshot JSON document holds every node and Flux object of `c`.
pub fn snapshot_complete(v: &Value, c: Census) -> bool {
    let nodes = v["placement"]["nodes"].as_array().map_or(0, Vec::len);
    let objects: usize = v["assignment"]["shards"]
        .as_array()
        .map_or(0, |s| s.iter().map(|s| s["objects"].as_array().map_or(0, Vec::len)).sum());
    nodes >= c.nodes && objects >= c.flux()
}

/// What one run of a one-shot tool cost.
#[derive(Debug, Clone, Copy)]
pub struct OneShot {
    /// Wall time to exit (s).
    pub secs: f64,
    /// Peak RSS, sampled every 20 ms (MB; a lower bound).
    pub peak_mb: f64,
    /// Whether the output held everything (snapshot only; others true).
    pub complete: bool,
}

async fn run_once(program: &Path, args: &[String], out: &Path) -> Result<(f64, f64)> {
    let file = std::fs::File::create(out)?;
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(Stdio::piped())
        .spawn()
        .wrap_err_with(|| format!("running {}", program.display()))?;
    let pid = child.id();
    let mut peak: f64 = 0.0;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        peak = peak.max(procstat::peak_mb(pid));
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        return Err(eyre!("{} {} failed ({status}): {}", program.display(), args.join(" "), err.trim()));
    }
    Ok((secs, peak))
}

/// Runs a one-shot tool once.
pub async fn one_shot(tool: Tool, env: &Env, census: Census) -> Result<OneShot> {
    let out = env.work.join(format!("{}.out", tool.key()));
    let kubectl = PathBuf::from(&env.kubectl);
    let kc = env.kubeconfig.display().to_string();
    let result = match tool {
        Tool::Snapshot => {
            let mut args = env.sw_args("snapshot.log");
            args.extend(["snapshot", "-o", "json", "--timeout", "900"].map(String::from));
            let (secs, peak_mb) = run_once(&env.shardwatch, &args, &out).await?;
            let v: Value =
                serde_json::from_slice(&std::fs::read(&out)?).wrap_err("snapshot output is not JSON")?;
            OneShot { secs, peak_mb, complete: snapshot_complete(&v, census) }
        }
        Tool::KubectlJson => {
            let args: Vec<String> = [
                "--kubeconfig",
                &kc,
                "get",
                "kustomizations,helmreleases,gitrepositories,nodes",
                "-A",
                "-o",
                "json",
            ]
            .map(String::from)
            .to_vec();
            let (secs, peak_mb) = run_once(&kubectl, &args, &out).await?;
            OneShot { secs, peak_mb, complete: true }
        }
        Tool::RawLists => {
            let mut total = OneShot { secs: 0.0, peak_mb: 0.0, complete: true };
            let mut paths: Vec<String> = Kind::ALL.iter().map(|k| k.raw_path()).collect();
            paths.push("/api/v1/nodes".into());
            for p in paths {
                let args: Vec<String> = ["--kubeconfig", &kc, "get", "--raw", &p].map(String::from).to_vec();
                let (secs, peak) = run_once(&kubectl, &args, &out).await?;
                total.secs += secs;
                total.peak_mb = total.peak_mb.max(peak);
            }
            total
        }
        _ => return Err(eyre!("{} is not a one-shot tool", tool.key())),
    };
    let _ = std::fs::remove_file(&out);
    Ok(result)
}

/// Whether `shardwatch [sub] --help` lists `--stats`.
pub fn accepts_stats(shardwatch: &Path, sub: &[&str]) -> bool {
    Command::new(shardwatch)
        .args(sub)
        .arg("--help")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--stats"))
}

/// A program's version line (first line of its output for `args`).
pub fn version_of(program: &Path, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| {
            let s = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
            s.lines().map(str::trim).find(|l| !l.is_empty()).map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".into())
}
