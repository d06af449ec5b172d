//! Results: the figures of one run, written as bench/RESULTS.md and a PNG plot.

use std::fmt::Write as _;
use std::path::Path;

use color_eyre::eyre::{Result, eyre};
use plotters::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::churn::ChurnResult;
use crate::scenario::{Census, Scenario};
use crate::tools::Tool;

/// What one tool showed in one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ToolResult {
    /// Which tool.
    #[serde(skip)]
    pub tool: Option<Tool>,
    /// Its key (`dashboard`, `k9s`, ...).
    pub key: String,
    /// Seconds to a complete first view (TUIs) or to exit (one-shots), per repeat.
    pub first_view: Vec<f64>,
    /// Repeats that never completed.
    pub incomplete: usize,
    /// Peak RSS of one-shots (MB, sampled), per repeat.
    pub peak_mb: Vec<f64>,
    /// RSS after the first view and a 5 s settle (MB).
    pub rss_sync: Option<f64>,
    /// RSS after the churn window (MB).
    pub rss_churn: Option<f64>,
    /// CPU over the idle window (% of one core).
    pub cpu_idle: Option<f64>,
    /// CPU over the churn window (% of one core).
    pub cpu_churn: Option<f64>,
    /// The churn during that window.
    pub churn: Option<ChurnResult>,
    /// shardwatch's `--stats` file, when written.
    pub stats: Option<Value>,
    /// Why something is missing.
    pub note: String,
}

impl ToolResult {
    /// An empty result for `tool`.
    pub fn new(tool: Tool) -> ToolResult {
        ToolResult {
            tool: Some(tool),
            key: tool.key().into(),
            first_view: vec![],
            incomplete: 0,
            peak_mb: vec![],
            rss_sync: None,
            rss_churn: None,
            cpu_idle: None,
            cpu_churn: None,
            churn: None,
            stats: None,
            note: String::new(),
        }
    }
}

/// One scenario's run.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Its size.
    #[serde(skip)]
    pub scenario: Scenario,
    /// Its name.
    pub name: String,
    /// What the cluster held while measuring (the scenario plus what was there before).
    pub census: Census,
    /// Seconds to create the scenario's objects and statuses.
    pub create_secs: f64,
    /// The tools.
    pub tools: Vec<ToolResult>,
    /// /proc/loadavg when the measurements started and ended (other work on the machine).
    pub load: (String, String),
}

/// Everything about the run that is not a figure.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunInfo {
    /// What this run measures (e.g. "baseline").
    pub label: String,
    /// UTC date and time.
    pub date: String,
    /// CPU model, nproc, memory.
    pub machine: String,
    /// Tool → version line.
    pub versions: Vec<(String, String)>,
    /// Apiserver version.
    pub apiserver: String,
    /// Options (repeats, windows, churn rate).
    pub options: String,
    /// Tools that could not be measured, with why.
    pub missing: Vec<String>,
}

fn stats3(v: &[f64]) -> Option<(f64, f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    Some((s[0], s[s.len() / 2], s[s.len() - 1]))
}

fn secs(v: &[f64]) -> String {
    match stats3(v) {
        None => "—".into(),
        Some((a, _, _)) if v.len() == 1 => format!("{a:.2} s (1 run)"),
        Some((a, m, b)) => format!("{a:.2} / {m:.2} / {b:.2} s"),
    }
}

fn opt(v: Option<f64>, unit: &str) -> String {
    v.map_or("—".into(), |x| format!("{x:.1} {unit}"))
}

fn latency(stats: &Option<Value>, available: bool) -> String {
    match stats {
        Some(v) => {
            let f = |k: &str| v.get(k).and_then(Value::as_f64).map(|x| format!("{x:.1}"));
            match (f("p50_ms"), f("p99_ms"), f("max_ms")) {
                (Some(a), Some(b), Some(c)) => {
                    let n =
                        v.get("count").and_then(Value::as_u64).map_or(String::new(), |n| format!(", n={n}"));
                    format!("{a} / {b} / {c} ms{n}")
                }
                _ => format!("`{v}`"),
            }
        }
        None if available => "no stats file written".into(),
        None => "not available in this binary".into(),
    }
}

/// The Markdown of the whole run.
pub fn markdown(info: &RunInfo, results: &[ScenarioResult]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Scale harness results: {}\n", info.label);
    let _ = writeln!(md, "Written by `bench/scale` (see bench/README.md) on {}.\n", info.date);
    let _ = writeln!(md, "## Machine\n\n```\n{}\n```\n", info.machine.trim());
    let _ = writeln!(md, "## Versions\n");
    let _ = writeln!(md, "| what | version |\n|---|---|");
    let _ = writeln!(md, "| kube-apiserver | {} |", info.apiserver);
    for (k, v) in &info.versions {
        let _ = writeln!(md, "| {k} | {v} |");
    }
    let _ = writeln!(md, "\nOptions: {}\n", info.options);
    if !info.missing.is_empty() {
        let _ = writeln!(md, "Not measured:\n");
        for m in &info.missing {
            let _ = writeln!(md, "- {m}");
        }
        md.push('\n');
    }
    for r in results {
        let s = &r.scenario;
        let _ = writeln!(
            md,
            "## {} — {} extra nodes, {} Flux objects in {} shards\n",
            s.name, s.nodes, s.objects, s.shards
        );
        let c = &r.census;
        let _ = writeln!(
            md,
            "The cluster held {} nodes, {} Kustomizations, {} HelmReleases, {} GitRepositories \
             (the scenario plus what was there before); creating the scenario took {:.0} s.\n",
            c.nodes, c.kustomizations, c.helmreleases, c.gitrepositories, r.create_secs
        );
        let _ = writeln!(
            md,
            "Load average (1/5/15 min) at the start of the measurements: {}; at the end: {}.\n",
            r.load.0, r.load.1
        );
        let _ = writeln!(
            md,
            "| tool | first complete view (min / median / max) | RSS after sync | RSS after churn | CPU idle | CPU churn | churn sustained | event→screen p50 / p99 / max |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
        for t in &r.tools {
            let tool = t.tool.unwrap_or(Tool::RawLists);
            let mut first = secs(&t.first_view);
            if t.incomplete > 0 {
                let _ = write!(first, " ({} incomplete)", t.incomplete);
            }
            let (rss_sync, rss_churn) = if tool.long_running() {
                (opt(t.rss_sync, "MB"), opt(t.rss_churn, "MB"))
            } else {
                let peak = stats3(&t.peak_mb).map_or("—".into(), |(_, m, _)| format!("peak {m:.0} MB"));
                (peak, "—".into())
            };
            let churn =
                t.churn.map_or("—".into(), |c| format!("{:.0}/s of {:.0}/s", c.sustained, c.requested));
            let lat = match tool {
                Tool::Dashboard | Tool::Follow => latency(&t.stats, t.note.contains("--stats")),
                _ => "—".into(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                tool.label(),
                first,
                rss_sync,
                rss_churn,
                opt(t.cpu_idle, "%"),
                opt(t.cpu_churn, "%"),
                churn,
                lat
            );
        }
        let notes: Vec<String> = r
            .tools
            .iter()
            .filter(|t| !t.note.is_empty())
            .map(|t| format!("- {}: {}", t.key, t.note))
            .collect();
        if !notes.is_empty() {
            let _ = writeln!(md, "\n{}", notes.join("\n"));
        }
        md.push('\n');
    }
    md
}

/// Draws RSS after sync and CPU (idle, churn) against the number of Flux objects, one
/// line per long-running tool, into a PNG; needs a TrueType font on the machine.
pub fn plot(results: &[ScenarioResult], path: &Path) -> Result<()> {
    let font = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"]
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .ok_or_else(|| eyre!("no DejaVuSans.ttf found: plot skipped"))?;
    // plotters keeps the font for the process's lifetime.
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| eyre!("cannot load the font"))?;
    let root = BitMapBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| eyre!("{e}"))?;
    let panels = root.split_evenly((1, 3));
    type Pick = fn(&ToolResult) -> Option<f64>;
    let metrics: [(&str, &str, Pick); 3] = [
        ("RSS after sync", "MB", |t| t.rss_sync),
        ("CPU idle", "% of a core", |t| t.cpu_idle),
        ("CPU under churn", "% of a core", |t| t.cpu_churn),
    ];
    let tools: Vec<Tool> = Tool::ALL.iter().copied().filter(|t| t.long_running()).collect();
    let colors =
        [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44), RGBColor(214, 39, 40)];
    let x_max = results.iter().map(|r| r.census.flux() as f64).fold(10.0, f64::max) * 2.0;
    for (panel, (title, unit, pick)) in panels.iter().zip(metrics) {
        let y_max = results.iter().flat_map(|r| r.tools.iter().filter_map(pick)).fold(1.0, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((10.0..x_max).log_scale(), 0.0..y_max)
            .map_err(|e| eyre!("{e}"))?;
        chart
            .configure_mesh()
            .x_desc("Flux objects in the cluster")
            .y_desc(unit)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(|e| eyre!("{e}"))?;
        for (tool, color) in tools.iter().zip(colors) {
            let points: Vec<(f64, f64)> = results
                .iter()
                .filter_map(|r| {
                    let t = r.tools.iter().find(|t| t.tool == Some(*tool))?;
                    Some((r.census.flux() as f64, pick(t)?))
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(|e| eyre!("{e}"))?
                .label(tool.key())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))
                .map_err(|e| eyre!("{e}"))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| eyre!("{e}"))?;
    }
    root.present().map_err(|e| eyre!("{e}"))?;
    Ok(())
}
