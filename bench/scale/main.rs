//! The scale harness: creates issue 9's scenarios on a cluster through the API, churns
//! Kustomization statuses at a requested rate, and measures shardwatch beside k9s, kdash
//! and kubectl in one run (first complete view, RSS, CPU idle and under churn).
//! Results go to bench/RESULTS.md and bench/scale.png; see bench/README.md.
#![forbid(unsafe_code)]

mod churn;
mod peers;
mod procstat;
mod report;
mod scenario;
mod terminal;
mod tools;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;
use color_eyre::eyre::{Result, WrapErr, eyre};
use kube::Client;

use churn::Churn;
use report::{RunInfo, ScenarioResult, ToolResult};
use scenario::{SCENARIOS, Scenario};
use tools::{Env, Tool};

/// Measures shardwatch, k9s, kdash and kubectl side by side on generated Flux scenarios.
#[derive(Debug, Parser)]
#[command(name = "scale")]
struct Args {
    /// small, medium, large, all, or a comma-separated list.
    #[arg(long, default_value = "small")]
    scenario: String,
    /// The shardwatch binary measured.
    #[arg(long, default_value = "target/release/shardwatch")]
    shardwatch: PathBuf,
    /// The cluster (one file; created objects are removed afterwards).
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: PathBuf,
    /// kubectl binary (default: the local cluster's, else `kubectl` on PATH).
    #[arg(long)]
    kubectl: Option<String>,
    /// Repeats of each first-view time.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Length of the idle CPU window (s), once per tool and scenario.
    #[arg(long, default_value_t = 60)]
    idle_secs: u64,
    /// Length of the churn CPU window (s), once per tool and scenario.
    #[arg(long, default_value_t = 60)]
    churn_secs: u64,
    /// Kustomization status updates per second requested during the churn window.
    #[arg(long, default_value_t = 100.0)]
    churn_rate: f64,
    /// Create requests in flight.
    #[arg(long, default_value_t = 24)]
    concurrency: usize,
    /// Leave the scenario's objects and nodes in the cluster.
    #[arg(long)]
    keep: bool,
    /// Tools to leave out: dashboard, snapshot, follow, k9s, kdash, kubectl, raw (comma-separated).
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// Where k9s and kdash are cached (default ~/.cache/shardwatch/peers).
    #[arg(long)]
    peers_dir: Option<PathBuf>,
    /// Do not build missing peers (they are then reported as not measured).
    #[arg(long)]
    no_build_peers: bool,
    /// Folder for RESULTS.md and scale.png.
    #[arg(long, default_value = "bench")]
    out: PathBuf,
    /// What this run measures, for the title of RESULTS.md (e.g. "baseline").
    #[arg(long, default_value = "")]
    label: String,
    /// Give up on a first view after this many seconds.
    #[arg(long, default_value_t = 900)]
    first_view_timeout: u64,
    /// Only remove what an interrupted run left behind, then exit.
    #[arg(long)]
    cleanup: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    color_eyre::install()?;
    let args = Args::parse();
    let target =
        shardwatch::cluster::ConnectOptions { kubeconfig: Some(args.kubeconfig.clone()), context: None };
    let (client, info) = shardwatch::cluster::connect(&target).await?;
    if args.cleanup {
        return scenario::cleanup(&client, None).await;
    }
    let scenarios = pick(&args.scenario)?;
    tokio::select! {
        r = run(&args, &client, info.kubernetes_version.unwrap_or_default(), &scenarios) => {
            if r.is_err() && !args.keep {
                eprintln!("failed: removing what this run created");
                for s in &scenarios {
                    scenario::cleanup(&client, Some(s.name)).await?;
                }
            }
            r
        }
        _ = tokio::signal::ctrl_c() => {
            eprintln!("interrupted");
            if !args.keep {
                for s in &scenarios {
                    scenario::cleanup(&client, Some(s.name)).await?;
                }
            }
            Err(eyre!("interrupted"))
        }
    }
}

fn pick(spec: &str) -> Result<Vec<Scenario>> {
    let mut out = vec![];
    for name in spec.split(',') {
        match name.trim() {
            "all" => out.extend(SCENARIOS),
            n => out
                .push(*SCENARIOS.iter().find(|s| s.name == n).ok_or_else(|| eyre!("unknown scenario {n}"))?),
        }
    }
    Ok(out)
}

fn default_kubectl() -> String {
    let cache = peers::default_dir().parent().map(PathBuf::from).unwrap_or_default();
    std::fs::read_dir(&cache)
        .ok()
        .and_then(|d| {
            d.flatten().map(|e| e.path().join("bin/kubectl")).find(|p| {
                p.is_file()
                    && p.parent()
                        .and_then(|b| b.parent())
                        .is_some_and(|k| k.to_string_lossy().contains("/k8s-"))
            })
        })
        .map_or_else(|| "kubectl".into(), |p| p.display().to_string())
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown CPU")
        .trim()
        .to_string();
    let processors = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    let run = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "{model} ({processors} processors in /proc/cpuinfo)\nnproc: {}\n$ free -h\n{}\n$ uname -sr\n{}",
        run("nproc", &[]),
        run("free", &["-h"]),
        run("uname", &["-sr"])
    )
}

fn loadavg() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn shardwatch_version(bin: &std::path::Path) -> String {
    let v = tools::version_of(bin, &["--version"]);
    let git = |a: &[&str]| {
        Command::new("git").args(a).output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_default();
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_ok_and(|s| !s.is_empty());
    format!(
        "{v} (working tree at commit {commit}{}; binary {})",
        if dirty { ", with uncommitted changes" } else { "" },
        bin.display()
    )
}

async fn run(args: &Args, client: &Client, apiserver: String, scenarios: &[Scenario]) -> Result<()> {
    let skip = |t: Tool| args.skip.iter().any(|s| s == t.key());
    let work = std::env::temp_dir().join(format!("shardwatch-scale-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let mut info = RunInfo {
        label: if args.label.is_empty() { "unlabelled run".into() } else { args.label.clone() },
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        machine: machine(),
        apiserver,
        options: format!(
            "{} repeats of each first view; CPU windows {} s idle and {} s of churn at {} Kustomization status updates/s requested, once per tool and scenario; TUIs in a {}x{} pseudo-terminal",
            args.repeats,
            args.idle_secs,
            args.churn_secs,
            args.churn_rate,
            tools::COLS,
            tools::ROWS
        ),
        ..RunInfo::default()
    };
    let peers_dir = args.peers_dir.clone().unwrap_or_else(peers::default_dir);
    let mut peer = |tool: Tool, build: fn(&std::path::Path, bool) -> Result<PathBuf, String>| {
        if skip(tool) {
            return None;
        }
        match build(&peers_dir, !args.no_build_peers) {
            Ok(p) => Some(p),
            Err(e) => {
                info.missing.push(format!("{}: {e}", tool.label()));
                None
            }
        }
    };
    let k9s = peer(Tool::K9s, peers::k9s);
    let kdash = peer(Tool::Kdash, peers::kdash);
    let shardwatch = std::fs::canonicalize(&args.shardwatch).wrap_err_with(|| {
        format!("shardwatch binary {} (build it with cargo build --release)", args.shardwatch.display())
    })?;
    let env = Env {
        kubeconfig: args.kubeconfig.clone(),
        kubectl: args.kubectl.clone().unwrap_or_else(default_kubectl),
        dashboard_stats: tools::accepts_stats(&shardwatch, &[]),
        follow_stats: tools::accepts_stats(&shardwatch, &["snapshot"]),
        shardwatch: shardwatch.clone(),
        k9s,
        kdash,
        work: work.clone(),
    };
    info.versions.push(("shardwatch".into(), shardwatch_version(&shardwatch)));
    if let Some(k) = &env.k9s {
        // go install sets no version ldflags: the binary says "dev", the module is pinned.
        let says = tools::version_of(k, &["version", "-s"]);
        info.versions.push((
            "k9s".into(),
            format!(
                "{} (`go install github.com/derailed/k9s@{0}`; the binary says `{says}`)",
                peers::K9S_VERSION
            ),
        ));
    }
    if let Some(k) = &env.kdash {
        info.versions.push(("kdash".into(), tools::version_of(k, &["--version"])));
    }
    info.versions
        .push(("kubectl".into(), tools::version_of(&PathBuf::from(&env.kubectl), &["version", "--client"])));
    eprintln!(
        "shardwatch {}; --stats: dashboard {}, follow {}",
        info.versions[0].1, env.dashboard_stats, env.follow_stats
    );

    let mut results = vec![];
    let mut rev = 1_000_000u64;
    for s in scenarios {
        eprintln!(
            "scenario {}: {} extra nodes, {} Flux objects in {} shards",
            s.name, s.nodes, s.objects, s.shards
        );
        let created = scenario::create(client, s, args.concurrency).await?;
        if !scenario::settle_nodes(client, s, Duration::from_secs(180)).await? {
            eprintln!(
                "  warning: some scale nodes still Ready after 180 s; idle windows may see node updates"
            );
        }
        let census = scenario::census(client).await?;
        eprintln!("  cluster now: {census:?}");
        let mut r = ScenarioResult {
            scenario: *s,
            name: s.name.into(),
            census,
            create_secs: created.as_secs_f64(),
            tools: vec![],
            load: (loadavg(), String::new()),
        };
        for tool in Tool::ALL {
            if skip(tool) {
                continue;
            }
            let t = if tool.long_running() {
                if (tool == Tool::K9s && env.k9s.is_none()) || (tool == Tool::Kdash && env.kdash.is_none()) {
                    continue;
                }
                rev += 1_000_000;
                measure_live(tool, &env, args, client, s, census, rev).await
            } else {
                measure_one_shot(tool, &env, args, census).await
            };
            eprintln!(
                "  {}: first view {:?}, RSS {:?}/{:?} MB, CPU {:?}/{:?} %",
                tool.key(),
                t.first_view,
                t.rss_sync,
                t.rss_churn,
                t.cpu_idle,
                t.cpu_churn
            );
            r.tools.push(t);
        }
        r.load.1 = loadavg();
        results.push(r);
        if !args.keep {
            scenario::cleanup(client, Some(s.name)).await?;
        }
        // Written after each scenario, so a long run that fails later keeps what it measured.
        write_out(args, &info, &results, &work)?;
    }
    eprintln!("results in {}", args.out.join("RESULTS.md").display());
    Ok(())
}

fn write_out(args: &Args, info: &RunInfo, results: &[ScenarioResult], work: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(args.out.join("RESULTS.md"), report::markdown(info, results))?;
    std::fs::write(work.join("results.json"), serde_json::to_string_pretty(&(info, results))?)?;
    if let Err(e) = report::plot(results, &args.out.join("scale.png")) {
        eprintln!("plot: {e}");
    }
    Ok(())
}

async fn measure_one_shot(tool: Tool, env: &Env, args: &Args, census: scenario::Census) -> ToolResult {
    let mut t = ToolResult::new(tool);
    for _ in 0..args.repeats {
        match tools::one_shot(tool, env, census).await {
            Ok(o) => {
                t.first_view.push(o.secs);
                t.peak_mb.push(o.peak_mb);
                if !o.complete {
                    t.incomplete += 1;
                }
            }
            Err(e) => {
                t.note = format!("failed: {e}");
                break;
            }
        }
    }
    if t.incomplete > 0 {
        t.note = format!("{} of {} outputs lacked objects the cluster held", t.incomplete, args.repeats);
    }
    t
}

async fn measure_live(
    tool: Tool,
    env: &Env,
    args: &Args,
    client: &Client,
    s: &Scenario,
    census: scenario::Census,
    rev: u64,
) -> ToolResult {
    let mut t = ToolResult::new(tool);
    let timeout = Duration::from_secs(args.first_view_timeout);
    let stats_supported = match tool {
        Tool::Dashboard => env.dashboard_stats,
        Tool::Follow => env.follow_stats,
        _ => false,
    };
    if stats_supported {
        t.note = "--stats figures cover the whole measured run (sync, idle and churn)".into();
    }
    for r in 0..args.repeats.max(1) {
        let last = r + 1 == args.repeats.max(1);
        let stats =
            (stats_supported && last).then(|| env.work.join(format!("{}-{}-stats.json", s.name, tool.key())));
        let since = Instant::now();
        let mut live = match tools::start(tool, env, census, stats.as_deref()) {
            Ok(l) => l,
            Err(e) => {
                t.note = format!("could not start: {e}");
                return t;
            }
        };
        let ready = live.wait_ready(census, since, timeout).await;
        match ready {
            Some(d) => {
                t.first_view.push(d.as_secs_f64());
                // Evidence of what "complete" looked like, kept with the run's logs.
                let _ = std::fs::write(
                    env.work.join(format!("{}-{}-screen.txt", s.name, tool.key())),
                    live.screen(),
                );
            }
            None => t.incomplete += 1,
        }
        if !last || ready.is_none() {
            live.stop().await;
            continue;
        }
        let Some(pid) = live.pid() else {
            live.stop().await;
            continue;
        };
        // Let the first frame's work finish before "after sync" is read.
        tokio::time::sleep(Duration::from_secs(5)).await;
        t.rss_sync = Some(procstat::rss_mb(pid));
        t.cpu_idle = Some(procstat::cpu_percent(pid, Duration::from_secs(args.idle_secs)).await);
        let churn = Churn::start(client, s, args.churn_rate, rev);
        t.cpu_churn = Some(procstat::cpu_percent(pid, Duration::from_secs(args.churn_secs)).await);
        t.churn = Some(churn.stop().await);
        t.rss_churn = Some(procstat::rss_mb(pid));
        if !procstat::alive(pid) {
            t.note = "exited during the windows".into();
        }
        live.stop().await;
        if let Some(path) = stats {
            t.stats = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok());
        }
    }
    if t.incomplete > 0 {
        let n = format!("{} of {} first views never complete within {timeout:?}", t.incomplete, args.repeats);
        t.note = if t.note.is_empty() { n } else { format!("{}; {n}", t.note) };
    }
    t
}
